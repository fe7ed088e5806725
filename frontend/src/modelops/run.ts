/**
 * A training run's page (/models/runs/<id>/): polls the run every 2 s while it is not finished
 * and updates its status, progress, loss curves, history and log; Cancel asks first.
 */
import { confirmDialog } from "../confirm";
import { byId, showMessage } from "../dom";
import { el, messageOf } from "../coordination/html";
import { runCancel, runGet, runLog, type TrainingRun } from "./api";
import { historyChart, stepLossChart } from "./charts";
import { ACTIVE_STATUSES, counter, dateTime, historyCell, historyColumns } from "./format";

const POLL_MS = 2000;

export function initRun(root: HTMLElement): void {
  const page = new RunPage(root);
  page.initCancel();
  void page.poll();
}

class RunPage {
  private readonly root: HTMLElement;
  private timer: number | undefined;
  private stepsDrawn = -1;
  private historyDrawn = "";

  constructor(root: HTMLElement) {
    this.root = root;
  }

  /** Fetch the run and its log; again in 2 s unless it has finished. */
  async poll(): Promise<void> {
    const note = byId("run-polling");
    try {
      const [run, log] = await Promise.all([runGet(this.url("url")), runLog(this.url("logUrl"))]);
      this.render(run);
      this.renderLog(log.log);
      const active = ACTIVE_STATUSES.has(run.status);
      note.textContent = active ? `Updating every ${POLL_MS / 1000} s.` : `Finished ${dateTime(run.finished_at)}.`;
      note.classList.remove("error");
      this.root.dataset["loaded"] = "true";
      if (!active) return;
    } catch (error) {
      showMessage(note, `${messageOf(error)}; trying again.`, "error");
    }
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.poll(), POLL_MS);
  }

  initCancel(): void {
    const button = document.getElementById("cancel-run") as HTMLButtonElement | null;
    const dialog = document.getElementById("cancel-dialog") as HTMLDialogElement | null;
    if (!button || !dialog) return;
    const message = byId("cancel-message");
    const open = confirmDialog(dialog, {
      message: byId("cancel-dialog-message"),
      action: async () => {
        const run = await runCancel(this.url("cancelUrl"));
        this.render(run);
        showMessage(message, run.status === "canceled" ? "Canceled." : "Cancel requested: the run stops after its current step.");
        void this.poll();
      },
    });
    button.addEventListener("click", open);
  }

  private render(run: TrainingRun): void {
    this.root.dataset["status"] = run.status;
    const status = byId("run-status");
    status.className = `badge ${run.status}`;
    status.textContent = run.status;
    byId("run-message").textContent = run.message || "—";
    const percent = Math.round(run.progress * 100);
    byId<HTMLProgressElement>("run-progress").value = percent;
    byId("run-percent").textContent = `${percent}%`;
    byId("run-stage").textContent = run.stage || "—";
    byId("run-epoch").textContent = counter(run.epoch, run.epochs);
    byId("run-step").textContent = counter(run.step, run.steps);
    byId("run-attempts").textContent = String(run.attempts);
    byId("run-worker").textContent = run.worker || "—";
    byId("run-heartbeat").textContent = dateTime(run.heartbeat_at);
    byId("run-started").textContent = dateTime(run.started_at);
    byId("run-finished").textContent = dateTime(run.finished_at);
    const model = byId("run-model");
    if (run.model_version !== null && !model.querySelector("a")) {
      const href = (this.root.dataset["versionPage"] ?? "").replace(/\/0\/$/, `/${run.model_version}/`);
      model.replaceChildren(el("a", { href }, `model version ${run.model_version}`));
    }
    const cancel = document.getElementById("cancel-run");
    if (cancel) cancel.hidden = !(run.status === "pending" || run.status === "running");
    if (run.step_losses.length !== this.stepsDrawn) {
      this.stepsDrawn = run.step_losses.length;
      stepLossChart(byId<HTMLCanvasElement>("chart-steps"), run.step_losses);
    }
    const history = JSON.stringify(run.history);
    if (history !== this.historyDrawn) {
      this.historyDrawn = history;
      historyChart(byId<HTMLCanvasElement>("chart-epochs"), run.history);
      this.renderHistory(run);
    }
  }

  private renderHistory(run: TrainingRun): void {
    const table = byId<HTMLTableElement>("history-table");
    const columns = historyColumns(run.history);
    const numeric = (index: number): string | undefined => (index > 1 ? "num" : undefined);
    table.tHead?.replaceChildren(el("tr", {}, ...columns.map((column, i) => el("th", { class: numeric(i) }, column))));
    const body = table.tBodies[0] ?? table.createTBody();
    body.replaceChildren(
      ...(run.history.length
        ? run.history.map((entry) => el("tr", {}, ...columns.map((column, i) => el("td", { class: numeric(i) }, historyCell(entry[column])))))
        : [el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, "No epoch finished yet."))]),
    );
  }

  private renderLog(text: string): void {
    const pre = byId("run-log");
    const atEnd = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    const content = text || "(The log starts when a worker takes the run.)";
    if (pre.textContent === content) return;
    pre.textContent = content;
    if (atEnd || !pre.dataset["scrolled"]) {
      pre.scrollTop = pre.scrollHeight;
      pre.dataset["scrolled"] = "true";
    }
  }

  private url(key: string): string {
    const value = this.root.dataset[key];
    if (!value) throw new Error(`ICHLabel: #run has no data-${key}`);
    return value;
  }
}

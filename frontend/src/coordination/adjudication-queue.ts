/**
 * The adjudication page: refresh missing reads, queue 2:1 votes on chosen subtypes, and walk
 * the queue by keyboard (j/k or arrows move, Enter opens, Esc returns). After a decision the
 * queue is re-rendered and the next open item opens.
 */
import { missingReadsRefresh, splitVotesCreate, type SplitVotesRequest } from "../api/coordination";
import { SUBTYPES, type Subtype } from "../generated/vocabulary";
import type { Split } from "../api/types";
import { byId, setFormDisabled, showMessage } from "../dom";
import { showItem } from "./adjudication-item";
import { messageOf, numberField, refreshSections, textField } from "./html";

const QUEUE_SECTIONS = ["queue", "open-count"];

export function initAdjudication(root: HTMLElement): void {
  const listUrl = root.dataset["listUrl"] ?? "";
  const message = byId("queue-message");
  const view = byId("item-view");

  const rows = (): HTMLTableRowElement[] => Array.from(document.querySelectorAll<HTMLTableRowElement>("#queue-table tr[data-item]"));
  const select = (row: HTMLTableRowElement | undefined): void => {
    for (const other of rows()) other.classList.toggle("selected", other === row);
    row?.focus();
  };

  const close = (): void => {
    const id = view.dataset["item"];
    view.hidden = true;
    view.replaceChildren();
    delete view.dataset["item"];
    select(rows().find((row) => row.dataset["item"] === id) ?? rows()[0]);
  };

  const open = (row: HTMLTableRowElement): void => {
    select(row);
    void showItem(view, Number(row.dataset["item"]), {
      listUrl,
      level: row.dataset["level"] === "scan" ? "scan" : "slice",
      sliceCount: Number(row.dataset["sliceCount"] ?? 0),
      onClose: close,
      onDecided: (item, text) => {
        showMessage(message, text);
        const before = rows().map((r) => Number(r.dataset["item"]));
        void refreshSections(QUEUE_SECTIONS)
          .then(() => {
            const next = nextOpen(rows(), before, item.id);
            if (next) open(next);
            else close();
          })
          .catch((error: unknown) => showMessage(message, messageOf(error), "error"));
      },
    });
  };

  root.addEventListener("click", (event) => {
    const row = (event.target as HTMLElement).closest<HTMLTableRowElement>("#queue-table tr[data-item]");
    if (row && !(event.target as HTMLElement).closest("a, button")) open(row);
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target as HTMLElement;
    if (event.key === "Escape" && !view.hidden) {
      event.preventDefault();
      close();
      return;
    }
    if (target.closest("input, textarea, select, #item-view") || event.ctrlKey || event.metaKey || event.altKey) return;
    const all = rows();
    const current = all.findIndex((row) => row === document.activeElement || row.classList.contains("selected"));
    if (event.key === "j" || event.key === "ArrowDown") {
      event.preventDefault();
      select(all[Math.min(all.length - 1, current + 1)]);
    } else if (event.key === "k" || event.key === "ArrowUp") {
      event.preventDefault();
      select(all[Math.max(0, current - 1)]);
    } else if (event.key === "Enter" && target.matches("tr[data-item]")) {
      event.preventDefault();
      open(target as HTMLTableRowElement);
    }
  });

  initQueueActions(root, message, () => refreshSections(QUEUE_SECTIONS));
}

/** The next open row after the decided item, by its place in the queue before the refresh. */
function nextOpen(rows: HTMLTableRowElement[], before: number[], decided: number): HTMLTableRowElement | undefined {
  const open = rows.filter((row) => row.dataset["status"] === "open");
  const after = new Set(before.slice(before.indexOf(decided) + 1));
  return open.find((row) => after.has(Number(row.dataset["item"]))) ?? open[0];
}

function initQueueActions(root: HTMLElement, message: HTMLElement, refresh: () => Promise<void>): void {
  const refreshButton = byId<HTMLButtonElement>("missing-reads-refresh");
  refreshButton.addEventListener("click", () => {
    refreshButton.disabled = true;
    showMessage(message, "Looking for scans that lack reads…");
    void missingReadsRefresh(root.dataset["missingReadsUrl"] ?? "")
      .then(async (counts) => {
        showMessage(message, `Missing reads: ${counts.created} item${counts.created === 1 ? "" : "s"} added, ${counts.obsolete} no longer needed.`);
        await refresh();
      })
      .catch((error: unknown) => showMessage(message, messageOf(error), "error"))
      .finally(() => (refreshButton.disabled = false));
  });

  const form = byId<HTMLFormElement>("split-votes-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const subtypes = Array.from(form.querySelectorAll<HTMLInputElement>("input[name=subtypes]:checked"))
      .map((box) => box.value)
      .filter((value): value is Subtype => (SUBTYPES as readonly string[]).includes(value));
    if (!subtypes.length) {
      showMessage(message, "Choose the subtypes whose 2:1 votes should be queued.", "error");
      return;
    }
    const body: SplitVotesRequest = { subtypes };
    const center = numberField(form, "center");
    if (center !== undefined) body.center = center;
    const split = textField(form, "split");
    if (split) body.split = split as Split;
    setFormDisabled(form, true);
    void splitVotesCreate(root.dataset["splitVotesUrl"] ?? "", body)
      .then(async (result) => {
        const names = subtypes.map((name) => name.toUpperCase()).join(", ");
        showMessage(message, `2:1 votes on ${names}: ${result.created} item${result.created === 1 ? "" : "s"} queued.`);
        await refresh();
      })
      .catch((error: unknown) => showMessage(message, messageOf(error), "error"))
      .finally(() => setFormDisabled(form, false));
  });
}

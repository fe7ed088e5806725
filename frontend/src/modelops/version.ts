/**
 * A model version's page (/models/versions/<id>/): the evaluation tables are server-rendered;
 * this draws the ROC curves of each split, approves or retires the model after a confirmation
 * (the server's 409 says when a status cannot follow the current one), and releases or
 * withdraws the model's output for a split's scans of one center (coordinators; the card is
 * re-rendered by the server after each change).
 */
import { askToConfirm, confirmDialog } from "../confirm";
import { byId, showMessage } from "../dom";
import { messageOf, plural, refreshSections } from "../coordination/html";
import type { Split } from "../api/types";
import { outputRelease, outputWithdraw, versionSetStatus, type ModelStatus, type ReleaseScans, type RocData } from "./api";
import { rocChart } from "./charts";

const STATUS_TEXT: Record<string, { verb: string; text: string }> = {
  approved: {
    verb: "Approve",
    text: "An approved model may be used beyond this study's evaluation. Approving retires no other model; it can be retired later.",
  },
  retired: {
    verb: "Retire",
    text: "A retired model stays in the registry with its report and artifact, but cannot be approved again.",
  },
};

export function initVersion(root: HTMLElement): void {
  drawRocCurves();
  initStatus(root);
  initReleases(root);
  root.dataset["ready"] = "true";
}

function drawRocCurves(): void {
  const source = document.getElementById("roc-data");
  if (!source) return;
  const data = JSON.parse(source.textContent ?? "{}") as RocData;
  for (const canvas of document.querySelectorAll<HTMLCanvasElement>("canvas[data-split]")) {
    rocChart(canvas, canvas.dataset["split"] ?? "", data);
  }
}

function initStatus(root: HTMLElement): void {
  const dialog = document.getElementById("status-dialog") as HTMLDialogElement | null;
  if (!dialog) return;
  const confirm = byId<HTMLButtonElement>("status-confirm");
  const message = byId("status-message");
  let chosen: ModelStatus | null = null;
  const open = confirmDialog(dialog, {
    message: byId("status-dialog-message"),
    action: async () => {
      if (chosen === null) return;
      const version = await versionSetStatus(root.dataset["statusUrl"] ?? "", chosen);
      dialog.close();
      await refreshSections(["version-facts", "version-status", "releases"]);
      root.dataset["status"] = version.status;
      showMessage(byId("status-message"), `${root.dataset["name"] ?? "The model"} is now ${version.status}.`);
    },
    onError: (error) => {
      dialog.close();
      showMessage(message.isConnected ? message : byId("status-message"), messageOf(error), "error");
    },
  });

  // The buttons are re-rendered after a change: listen on the page.
  root.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-set-status]");
    if (!button) return;
    chosen = button.dataset["setStatus"] as ModelStatus;
    const words = STATUS_TEXT[chosen] ?? { verb: chosen, text: "" };
    byId("status-dialog-verb").textContent = words.verb;
    byId("status-dialog-text").textContent = words.text;
    confirm.textContent = words.verb;
    confirm.classList.toggle("danger", chosen === "retired");
    open();
  });
}

function initReleases(root: HTMLElement): void {
  const model = root.dataset["name"] ?? "this model";
  // The card is re-rendered after each change: listen on the page.
  root.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("#releases button[data-release]");
    const row = button?.closest<HTMLTableRowElement>("tr[data-split]");
    if (!button || !row) return;
    const card = byId("releases");
    const withdraw = button.dataset["release"] === "withdraw";
    const scans: ReleaseScans = { split: row.dataset["split"] as Split, center: Number(row.dataset["center"]) };
    const total = Number(row.dataset["scans"]);
    const released = Number(row.dataset["released"]);
    const where = `${row.dataset["centerName"] ?? "this center"} (${row.dataset["split"] ?? ""})`;
    const question = withdraw
      ? `Withdraw the output of ${model} from ${plural(released, "scan")} of ${where}? Their readers no longer see it.`
      : `Release the output of ${model} for ${plural(total - released, "scan")} of ${where} to their readers?`;
    if (!askToConfirm(question)) return;
    button.disabled = true;
    const done = withdraw
      ? outputWithdraw(card.dataset["withdrawUrl"] ?? "", scans).then(
          (counts) => `Withdrawn from ${plural(counts.withdrawn, "scan")} of ${where}.`,
        )
      : outputRelease(card.dataset["releaseUrl"] ?? "", scans).then(
          (counts) =>
            `Released for ${plural(counts.released, "scan")} of ${where}` +
            (counts.already_released ? ` (${counts.already_released} already were).` : "."),
        );
    void done
      .then(async (text) => {
        await refreshSections(["releases"]);
        showMessage(byId("release-message"), text);
      })
      .catch((error: unknown) => {
        button.disabled = false;
        showMessage(byId("release-message"), messageOf(error), "error");
      });
  });
}

/**
 * A model version's page (/models/versions/<id>/): the evaluation tables are server-rendered;
 * this draws the ROC curves of each split and approves or retires the model after a
 * confirmation (the server's 409 says when a status cannot follow the current one).
 */
import { confirmDialog } from "../confirm";
import { byId, showMessage } from "../dom";
import { messageOf, refreshSections } from "../coordination/html";
import { versionSetStatus, type ModelStatus, type RocData } from "./api";
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
      await refreshSections(["version-facts", "version-status"]);
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

/**
 * Reassign and Unassign on each row of the reading page's reads table, in one dialog. A read
 * with work needs `force` and a reason: the dialog says so before the first try when the row
 * shows work, and switches to that form when the server answers that force is needed.
 */
import { readReassign, readUnassign } from "../api/coordination";
import { byId, showMessage } from "../dom";
import { el, messageOf, refreshSections } from "./html";
import { readerName } from "./plan";
import { doneMessage, forceExplanation, hasWork, needsForce, summary, type ReadAction, type ReadRow } from "./read-change";
import { REFRESHED_SECTIONS } from "./assignment";

export function initReadDialog(root: HTMLElement, names: Record<string, string>): void {
  const readsUrl = root.dataset["readsUrl"] ?? "";
  const dialog = byId<HTMLDialogElement>("read-dialog");
  const form = byId<HTMLFormElement>("read-dialog-form");
  const readerField = byId("read-dialog-reader");
  const readerSelect = readerField.querySelector<HTMLSelectElement>("select")!;
  const forceBox = byId("read-dialog-force");
  const reason = forceBox.querySelector<HTMLInputElement>("input[name=reason]")!;
  const submit = byId<HTMLButtonElement>("read-dialog-submit");
  const message = byId("read-dialog-message");
  const status = byId("assign-message");
  let current: { action: ReadAction; row: ReadRow; force: boolean } | null = null;

  const setForce = (force: boolean): void => {
    if (!current) return;
    current.force = force;
    forceBox.hidden = !force;
    reason.required = force;
    byId("read-dialog-force-text").textContent = force ? forceExplanation(current.action, current.row) : "";
    const verb = current.action === "reassign" ? "reassign" : "unassign";
    submit.textContent = force ? `Withdraw and ${verb}` : verb[0]!.toUpperCase() + verb.slice(1);
  };

  const open = (action: ReadAction, tr: HTMLTableRowElement): void => {
    const row = rowOf(tr);
    current = { action, row, force: false };
    byId("read-dialog-title").textContent = action === "reassign" ? `Reassign read ${row.id}` : `Unassign read ${row.id}`;
    byId("read-dialog-summary").textContent = summary(action, row);
    readerField.hidden = action !== "reassign";
    readerSelect.required = action === "reassign";
    const others = Object.keys(names).filter((id) => id !== tr.dataset["reader"]);
    readerSelect.replaceChildren(...others.map((id) => el("option", { value: id }, readerName(names, Number(id)))));
    reason.value = "";
    message.textContent = "";
    setForce(hasWork(row));
    dialog.showModal();
    (action === "reassign" ? readerSelect : current.force ? reason : submit).focus();
  };

  // Rows are re-rendered after each change: listen on the page, not on the buttons.
  root.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
    const tr = button?.closest<HTMLTableRowElement>("tr[data-read]");
    const action = button?.dataset["action"];
    if (tr && (action === "reassign" || action === "unassign")) open(action, tr);
  });

  byId("read-dialog-cancel").addEventListener("click", () => dialog.close());

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!current) return;
    const { action, row, force } = current;
    if (force && !reason.value.trim()) {
      showMessage(message, "Give the reason for withdrawing this read.", "error");
      reason.focus();
      return;
    }
    const newReader = Number(readerSelect.value);
    const change = { force, reason: reason.value.trim(), ...(action === "reassign" ? { reader: newReader } : {}) };
    submit.disabled = true;
    void (async () => {
      try {
        const answer = await (action === "reassign" ? readReassign : readUnassign)(readsUrl, row.id, change);
        // Reassigned with work: a new read replaces the withdrawn one. Unassigned: no answer
        // when the untouched read was deleted, the withdrawn read otherwise.
        const withdrawn = action === "reassign" ? answer?.id !== row.id : answer !== null;
        dialog.close();
        showMessage(status, doneMessage(action, row, withdrawn, readerName(names, newReader)));
        await refreshSections(REFRESHED_SECTIONS);
      } catch (error) {
        if (!force && needsForce(error)) {
          setForce(true);
          showMessage(message, messageOf(error), "error");
          reason.focus();
        } else {
          showMessage(dialog.open ? message : status, messageOf(error), "error");
        }
      } finally {
        submit.disabled = false;
      }
    })();
  });
}

function rowOf(tr: HTMLTableRowElement): ReadRow {
  return {
    id: Number(tr.dataset["read"]),
    scan: Number(tr.dataset["scan"]),
    readerName: tr.dataset["readerName"] ?? "",
    status: tr.dataset["status"] ?? "",
    labelled: Number(tr.dataset["labelled"] ?? 0),
  };
}

/**
 * Reassign and Unassign on each row of the reading page's reads table, in one dialog. The
 * dialog first asks the server what the change would affect (the work the read holds, the
 * reads its scan keeps) and says it; a read with work needs `force` and a reason, and the
 * dialog switches to that form also when the server answers that force is needed (work done
 * meanwhile). Readers who hold a read of the scan are not offered.
 */
import { readChangeConsequences, readReassign, readUnassign } from "../api/coordination";
import { byId, showMessage } from "../dom";
import { el, messageOf } from "./html";
import { readerName } from "./plan";
import { consequences, doneMessage, needsForce, summary, type ReadAction, type ReadRow } from "./read-change";
import { refreshReading } from "./assignment";

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

  const list = byId("read-dialog-consequences");

  const setForce = (force: boolean): void => {
    if (!current) return;
    current.force = force;
    forceBox.hidden = !force;
    reason.required = force;
    byId("read-dialog-force-text").textContent = force ? "Give the reason for withdrawing it." : "";
    const verb = current.action === "reassign" ? "reassign" : "unassign";
    submit.textContent = force ? `Withdraw and ${verb}` : verb[0]!.toUpperCase() + verb.slice(1);
  };

  const open = (action: ReadAction, tr: HTMLTableRowElement): void => {
    const row = rowOf(tr);
    const opened = { action, row, force: false };
    current = opened;
    byId("read-dialog-title").textContent = action === "reassign" ? `Reassign read ${row.id}` : `Unassign read ${row.id}`;
    byId("read-dialog-summary").textContent = summary(action, row);
    list.replaceChildren(el("li", { class: "muted" }, "Counting the read's work…"));
    readerField.hidden = action !== "reassign";
    readerSelect.required = action === "reassign";
    const others = Object.keys(names).filter((id) => id !== tr.dataset["reader"]);
    readerSelect.replaceChildren(...others.map((id) => el("option", { value: id }, readerName(names, Number(id)))));
    reason.value = "";
    message.textContent = "";
    setForce(false);
    submit.disabled = true;
    dialog.showModal();
    byId<HTMLButtonElement>("read-dialog-cancel").focus();
    void readChangeConsequences(readsUrl, row.id)
      .then((change) => {
        if (current !== opened) return;
        list.replaceChildren(...consequences(action, change).map((line) => el("li", {}, line)));
        // A reader who holds a read of the scan (withdrawn ones too) cannot be given it.
        const taken = new Set(change.scan_readers.map(String));
        for (const option of Array.from(readerSelect.options)) if (taken.has(option.value)) option.remove();
        setForce(change.has_work);
        submit.disabled = action === "reassign" && readerSelect.options.length === 0;
        if (submit.disabled) showMessage(message, "Every other reader holds a read of this scan already.", "error");
        (action === "reassign" ? readerSelect : change.has_work ? reason : submit).focus();
      })
      .catch((error: unknown) => {
        if (current !== opened) return;
        list.replaceChildren();
        showMessage(message, messageOf(error), "error");
      });
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
        await refreshReading();
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

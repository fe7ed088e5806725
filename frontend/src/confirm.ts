/**
 * Confirmations, one way for the whole site. A step that needs explaining (cancel a run, change
 * a model's status, release a ground truth) has its <dialog> in the page's template: a form with
 * method="dialog", a message line, a submit button that confirms and a secondary button that
 * keeps things as they are; `confirmDialog` gives every such dialog the same behaviour. A plain
 * yes/no question goes through `askToConfirm`.
 */
import { showMessage } from "./dom";

export interface ConfirmOptions {
  /** The dialog's message line, cleared on opening; errors show there unless `onError`. */
  message: HTMLElement;
  /** The confirmed work; the dialog closes once it succeeds. */
  action: () => Promise<void>;
  /** Handle a failure instead (e.g. close the dialog and say it on the page). */
  onError?: (error: unknown) => void;
}

/**
 * Wire a template's confirmation dialog and return the function that opens it: the keep
 * button takes the focus (a stray Enter changes nothing) and closes the dialog; confirming
 * runs the action with the confirm button disabled.
 */
export function confirmDialog(dialog: HTMLDialogElement, options: ConfirmOptions): () => void {
  const form = dialog.querySelector("form");
  const confirm = form?.querySelector<HTMLButtonElement>("button[type=submit]");
  const keep = form?.querySelector<HTMLButtonElement>("button[type=button]");
  if (!form || !confirm || !keep) throw new Error(`ICHLabel: #${dialog.id} lacks its form or buttons`);
  keep.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    confirm.disabled = true;
    options
      .action()
      .then(() => dialog.close())
      .catch((error: unknown) => {
        if (options.onError) options.onError(error);
        else showMessage(options.message, error instanceof Error ? error.message : String(error), "error");
      })
      .finally(() => (confirm.disabled = false));
  });
  return () => {
    options.message.textContent = "";
    dialog.showModal();
    keep.focus();
  };
}

/** A plain yes/no question, answered before anything is sent (the browser's own dialog). */
export function askToConfirm(question: string): boolean {
  return window.confirm(question);
}

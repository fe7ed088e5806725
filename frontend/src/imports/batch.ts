/**
 * A batch's page while it runs: poll its status every second, show progress, offer cancel;
 * once it ends, reload so the server renders the final report.
 */
import { ApiError } from "../api/client";
import { importBatchCancel, importBatchGet } from "../api/imports";
import { FINISHED_STATUSES, type ImportBatch, type JobStatus } from "../api/types";
import { askToConfirm } from "../confirm";
import { byId, dataAttribute, showMessage } from "../dom";

const POLL_INTERVAL_MS = 1000;
const MAX_BACKOFF_MS = 15000;
const CANCELABLE: ReadonlySet<JobStatus> = new Set<JobStatus>(["pending", "running"]);

export function initBatchStatus(section: HTMLElement): void {
  const url = dataAttribute(section, "url");
  const cancelUrl = dataAttribute(section, "cancelUrl");
  // The page was rendered after the end: the report is already on it.
  if (FINISHED_STATUSES.has(section.dataset.status as JobStatus)) return;

  const label = byId("batch-status-label");
  const message = byId("batch-message");
  const bar = byId<HTMLProgressElement>("batch-progress");
  const filesDone = byId("batch-files-done");
  const filesTotal = byId("batch-files-total");
  const cancel = document.getElementById("batch-cancel") as HTMLButtonElement | null;

  let finished = false;
  let failures = 0;
  let timer: number | undefined;
  let inflight: Promise<void> = Promise.resolve();

  /** The batch ended: reload once, after any poll in flight, so no request dies with the page. */
  const finish = (): void => {
    finished = true;
    window.clearTimeout(timer);
    void inflight.finally(() => window.location.reload());
  };

  const render = (batch: ImportBatch): void => {
    if (finished) return; // a late answer must not undo the final state shown before the reload
    section.dataset.status = batch.status;
    label.textContent = batch.status_display;
    label.className = `badge ${batch.status}`;
    showMessage(message, batch.message);
    bar.max = Math.max(1, batch.files_total);
    bar.value = Math.min(batch.files_done, bar.max);
    filesDone.textContent = String(batch.files_done);
    filesTotal.textContent = String(batch.files_total);
    if (cancel) cancel.hidden = !CANCELABLE.has(batch.status);
    if (FINISHED_STATUSES.has(batch.status) && !finished) finish();
  };

  const poll = async (): Promise<void> => {
    if (finished) return;
    try {
      render(await importBatchGet(url));
      failures = 0;
    } catch (error) {
      if (error instanceof ApiError && [401, 403, 404].includes(error.status)) {
        // Logged out, or the batch is gone: polling cannot help.
        showMessage(message, `${error.message}. Reload the page to try again.`, "error");
        return;
      }
      failures += 1;
      const text = error instanceof Error ? error.message : String(error);
      showMessage(message, `Lost contact with the server (${text}); retrying…`, "error");
    }
    if (!finished) schedule(delay(failures));
  };

  const schedule = (ms: number): void => {
    timer = window.setTimeout(() => {
      inflight = poll();
    }, ms);
  };

  cancel?.addEventListener("click", async () => {
    const question = "Cancel this import? Series imported so far are kept; the remaining files are not imported.";
    if (!askToConfirm(question)) return;
    cancel.disabled = true;
    try {
      render(await importBatchCancel(cancelUrl));
    } catch (error) {
      cancel.disabled = false;
      const text = error instanceof Error ? error.message : String(error);
      showMessage(message, `Could not cancel: ${text}`, "error");
    }
  });

  schedule(POLL_INTERVAL_MS);
}

/** 1 s while all is well; doubling up to 15 s while the server does not answer. */
function delay(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, POLL_INTERVAL_MS * 2 ** failures);
}

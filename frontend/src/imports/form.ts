/**
 * The upload form: open an import batch, upload the chosen files into it in chunks with
 * progress, start it, then go to the batch's page.
 *
 * Nothing is lost on a failure: the message says what went wrong, the form comes back, and
 * pressing Import again resumes the same batch after the chunks the server already has (as
 * long as the center, split and files are unchanged; otherwise a fresh batch is opened and the
 * abandoned one canceled).
 */
import { ApiError } from "../api/client";
import {
  ImportBatchEndpoints,
  importBatchCancel,
  importBatchCreate,
  importBatchFilesAdd,
  importBatchGet,
  importBatchStart,
  type UploadItem,
} from "../api/imports";
import type { ImportBatch, Split } from "../api/types";
import { byId, dataAttribute, setFormDisabled, showMessage } from "../dom";
import { UploadProgress, planChunks, progressMessage, relativePath } from "./chunks";

interface SizedItem extends UploadItem {
  size: number;
}

/** A batch opened by an earlier press of Import whose upload did not finish. */
interface OpenBatch {
  batch: ImportBatch;
  /** Center, split and files it was opened for. */
  key: string;
  /** Chunks the server has accepted. */
  chunksDone: number;
}

export function initImportForm(form: HTMLFormElement): void {
  const createUrl = dataAttribute(form, "createUrl");
  const batchPageUrl = dataAttribute(form, "batchPageUrl");
  const endpoints = new ImportBatchEndpoints(createUrl);
  const status = byId("upload-status");
  const message = byId("upload-message");
  const bar = byId<HTMLProgressElement>("upload-progress");
  const centerInput = control<HTMLInputElement>(form, "center");
  const splitSelect = control<HTMLSelectElement>(form, "split");
  const fileInput = control<HTMLInputElement>(form, "files");
  const folderInput = control<HTMLInputElement>(form, "folder");

  let open: OpenBatch | null = null;
  let busy = false;

  const warnBeforeLeaving = (event: BeforeUnloadEvent): void => {
    event.preventDefault();
    event.returnValue = ""; // older Chromium asks only when this is set
  };

  const setBusy = (value: boolean): void => {
    busy = value;
    setFormDisabled(form, value);
    if (value) window.addEventListener("beforeunload", warnBeforeLeaving);
    else window.removeEventListener("beforeunload", warnBeforeLeaving);
  };

  const fail = (text: string, focus?: HTMLElement): void => {
    status.hidden = false;
    showMessage(message, text, "error");
    focus?.focus();
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    const center = centerInput.value.trim();
    const split = (splitSelect.value || null) as Split | null;
    const items = chosenFiles(fileInput, folderInput);
    if (!center) return fail("Enter the center these scans come from.", centerInput);
    if (!items.length) return fail("Choose DICOM files, zip archives or a folder to import.", fileInput);
    void run(center, split, items);
  });

  async function run(center: string, split: Split | null, items: SizedItem[]): Promise<void> {
    setBusy(true);
    status.hidden = false;
    const chunks = planChunks(items);
    const progress = new UploadProgress(chunks);
    const render = (): void => {
      const p = progress.snapshot();
      bar.max = Math.max(1, p.bytesTotal);
      bar.value = p.bytesSent;
      showMessage(message, progressMessage(p));
    };
    let phase = "Could not open the import";
    try {
      showMessage(message, "Opening the import…");
      bar.removeAttribute("value"); // indeterminate until bytes move
      const current = await openBatch(center, split, items);
      for (const chunk of chunks.slice(0, current.chunksDone)) {
        progress.begin(chunk);
        progress.complete();
      }
      render();
      phase = "The upload stopped";
      for (const chunk of chunks.slice(current.chunksDone)) {
        progress.begin(chunk);
        render();
        await importBatchFilesAdd(endpoints.files(current.batch.id), chunk, (loaded, total) => {
          progress.update(loaded, total);
          render();
        });
        progress.complete();
        current.chunksDone += 1;
        render();
      }
      phase = "Could not start the import";
      showMessage(message, `Uploaded ${progress.filesTotal} files; starting the import…`);
      await startBatch(current.batch.id);
      open = null;
      window.removeEventListener("beforeunload", warnBeforeLeaving);
      window.location.assign(`${batchPageUrl}${encodeURIComponent(current.batch.id)}/`);
    } catch (error) {
      setBusy(false);
      const text = error instanceof Error ? error.message : String(error);
      const p = progress.snapshot();
      const where = phase === "The upload stopped" ? ` after ${p.filesSent} of ${p.filesTotal} files` : "";
      fail(`${phase}${where}: ${text}. Press Import to try again.`);
    }
  }

  /** The batch to upload into: the unfinished one from the last try if it still fits, else a new one. */
  async function openBatch(center: string, split: Split | null, items: SizedItem[]): Promise<OpenBatch> {
    const key = JSON.stringify([center, split, items.map((i) => [i.path, i.size, lastModified(i.file)])]);
    if (open && open.key === key) {
      const batch = await importBatchGet(endpoints.detail(open.batch.id)).catch(() => null);
      if (batch?.status === "pending") return open;
    } else if (open && open.batch.status === "pending") {
      // The form changed: the half-filled batch will never start, so close it.
      importBatchCancel(endpoints.cancel(open.batch.id)).catch(() => undefined);
    }
    open = null;
    const batch = await importBatchCreate(createUrl, center, split);
    open = { batch, key, chunksDone: 0 };
    return open;
  }

  /** Start the batch; a 409 means an earlier try already started it (its answer was lost). */
  async function startBatch(id: string): Promise<void> {
    try {
      await importBatchStart(endpoints.start(id));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409)) throw error;
    }
  }
}

/** The files chosen in both inputs, each with the relative path the server keeps. */
function chosenFiles(...inputs: HTMLInputElement[]): SizedItem[] {
  const items: SizedItem[] = [];
  for (const input of inputs) {
    for (const file of Array.from(input.files ?? [])) {
      items.push({ file, path: relativePath(file), size: file.size });
    }
  }
  return items;
}

function lastModified(file: Blob): number {
  return file instanceof File ? file.lastModified : 0;
}

function control<T extends Element>(form: HTMLFormElement, name: string): T {
  const element = form.elements.namedItem(name);
  if (!(element instanceof Element)) throw new Error(`ICHLabel: the import form has no "${name}" field`);
  return element as T;
}

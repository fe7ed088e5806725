/** Import batches: open one, upload files into it, start it, watch it, cancel it. */
import { getJson, postForm, postJson, type UploadProgress } from "./client";
import type { ImportBatch, Schemas, Split } from "./types";

/** One file to upload and the relative path the server should keep for it. */
export interface UploadItem {
  file: Blob;
  path: string;
}

/**
 * The URLs of the import-batch endpoints, derived from the create URL the page gives
 * (`.../import-batches/create/`), so the client follows wherever Django mounts the API.
 */
export class ImportBatchEndpoints {
  private readonly collection: URL;

  constructor(readonly createUrl: string, base: string = window.location.href) {
    this.collection = new URL("../", new URL(createUrl, base));
  }

  detail(id: string): string {
    return new URL(`${encodeURIComponent(id)}/`, this.collection).pathname;
  }

  files(id: string): string {
    return `${this.detail(id)}files/`;
  }

  start(id: string): string {
    return `${this.detail(id)}start/`;
  }

  cancel(id: string): string {
    return `${this.detail(id)}cancel/`;
  }
}

export const importBatchCreate = (url: string, center: string, split: Split | null): Promise<ImportBatch> =>
  postJson<ImportBatch>(url, { center, split } satisfies Schemas["ImportBatchCreateInput"]);

export const importBatchGet = (url: string, signal?: AbortSignal): Promise<ImportBatch> =>
  getJson<ImportBatch>(url, signal);

export const importBatchStart = (url: string): Promise<ImportBatch> => postJson<ImportBatch>(url);

export const importBatchCancel = (url: string): Promise<ImportBatch> => postJson<ImportBatch>(url);

/** Upload files into an open batch as one multipart request: repeated `files` and `paths`. */
export function importBatchFilesAdd(
  url: string,
  items: readonly UploadItem[],
  onProgress?: UploadProgress,
): Promise<ImportBatch> {
  const form = new FormData();
  for (const item of items) {
    form.append("files", item.file, baseName(item.path));
    form.append("paths", item.path);
  }
  return postForm<ImportBatch>(url, form, onProgress);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1) || "file";
}

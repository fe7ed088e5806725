/**
 * Splitting an upload into requests, and counting its progress.
 *
 * Why chunks: one request with thousands of files or gigabytes would fail as a whole on any
 * hiccup and hold the server's upload handling for minutes. Requests of at most ~25 files or
 * ~32 MB go one after the other; a file larger than the byte limit travels alone.
 */

export interface Sized {
  readonly size: number;
}

export interface ChunkLimits {
  maxFiles: number;
  maxBytes: number;
}

export const DEFAULT_CHUNK_LIMITS: Readonly<ChunkLimits> = {
  maxFiles: 25,
  maxBytes: 32 * 1024 * 1024,
};

/** Group items, in order, into chunks within the limits (an oversize item gets its own chunk). */
export function planChunks<T extends Sized>(
  items: readonly T[],
  limits: Readonly<ChunkLimits> = DEFAULT_CHUNK_LIMITS,
): T[][] {
  if (limits.maxFiles < 1 || limits.maxBytes < 1) throw new RangeError("chunk limits must be positive");
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const full = current.length >= limits.maxFiles || bytes + item.size > limits.maxBytes;
    if (current.length && full) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/** The path a file keeps on the server: its path inside a chosen folder, else its name. */
export function relativePath(file: Pick<File, "name" | "webkitRelativePath">): string {
  return file.webkitRelativePath || file.name;
}

export interface ProgressSnapshot {
  filesSent: number;
  filesTotal: number;
  bytesSent: number;
  bytesTotal: number;
}

/**
 * Progress over all chunks. The browser reports bytes of each request body, multipart framing
 * included; that fraction is applied to the chunk's file bytes, and a file counts as sent once
 * the bytes before its end are.
 */
export class UploadProgress {
  readonly filesTotal: number;
  readonly bytesTotal: number;
  private filesDone = 0;
  private bytesDone = 0;
  private current: readonly Sized[] = [];
  private currentSent = 0;

  constructor(chunks: readonly (readonly Sized[])[]) {
    this.filesTotal = chunks.reduce((n, chunk) => n + chunk.length, 0);
    this.bytesTotal = chunks.reduce((n, chunk) => n + sumSizes(chunk), 0);
  }

  /** A chunk's request begins. */
  begin(chunk: readonly Sized[]): void {
    this.current = chunk;
    this.currentSent = 0;
  }

  /** The browser sent `loaded` of the current request's `total` bytes. */
  update(loaded: number, total: number): void {
    const fraction = total > 0 ? Math.min(1, Math.max(0, loaded / total)) : 0;
    this.currentSent = Math.max(this.currentSent, Math.round(fraction * sumSizes(this.current)));
  }

  /** The server accepted the current chunk. */
  complete(): void {
    this.filesDone += this.current.length;
    this.bytesDone += sumSizes(this.current);
    this.current = [];
    this.currentSent = 0;
  }

  snapshot(): ProgressSnapshot {
    let filesInChunk = 0;
    let end = 0;
    for (const item of this.current) {
      end += item.size;
      if (end > this.currentSent) break;
      filesInChunk += 1;
    }
    // Only the server's answer proves the whole chunk arrived.
    if (filesInChunk === this.current.length && filesInChunk > 0) filesInChunk -= 1;
    return {
      filesSent: this.filesDone + filesInChunk,
      filesTotal: this.filesTotal,
      bytesSent: this.bytesDone + this.currentSent,
      bytesTotal: this.bytesTotal,
    };
  }
}

/** "Uploading 120 of 400 files (35 MB of 110 MB)" */
export function progressMessage(p: ProgressSnapshot): string {
  const files = p.filesTotal === 1 ? "file" : "files";
  return `Uploading ${p.filesSent} of ${p.filesTotal} ${files} (${formatBytes(p.bytesSent)} of ${formatBytes(p.bytesTotal)})`;
}

const UNITS = ["B", "kB", "MB", "GB", "TB"] as const;

/** Bytes in SI units as file managers show them: 512 B, 3.4 MB, 110 MB. */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  let text = value.toFixed(digits);
  if (text === "1000" && unit < UNITS.length - 1) {
    text = "1.0";
    unit += 1;
  }
  return `${text} ${UNITS[unit]}`;
}

function sumSizes(items: readonly Sized[]): number {
  return items.reduce((n, item) => n + item.size, 0);
}

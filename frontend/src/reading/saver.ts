/**
 * Autosave of labels: every edit is sent at once (one POST for all slices with pending edits,
 * one request in flight at a time). A 409 takes the server's versions and values and replays
 * the reader's edits on top, then saves again. A 409 saying the read is completed or withdrawn
 * stops the saver for good ("closed"): no retry, nothing more is sent.
 */
import { ApiError } from "../api/client";
import { readClosedStatus, type LabelConflictItem } from "../api/reads";
import type { LabelChange, LabelStore, ServerLabel } from "./labels";

export type SaveState = "saved" | "saving" | "error" | "closed";

export type SendLabels = (changes: LabelChange[]) => Promise<ServerLabel[]>;

const MAX_CONFLICT_RETRIES = 5;
const RETRY_AFTER_MS = 5000;

export class LabelSaver {
  private inFlight: Promise<void> | null = null;
  private again = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closed: "completed" | "withdrawn" | null = null;

  constructor(
    private readonly store: LabelStore,
    private readonly send: SendLabels,
    private readonly onState: (state: SaveState, message?: string) => void,
    private readonly onSaved: (indices: number[]) => void = () => {},
  ) {}

  /** Save what is pending now (or right after the request in flight). */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    if (!this.store.dirty().length) return Promise.resolve();
    this.inFlight = this.run().finally(() => {
      this.inFlight = null;
      if (this.again) {
        this.again = false;
        void this.flush();
      }
    });
    return this.inFlight;
  }

  /** Why the read takes no more changes (nothing is sent again); null while it does. */
  get closedAs(): "completed" | "withdrawn" | null {
    return this.closed;
  }

  /** Resolves once nothing is pending or in flight (or saving failed). */
  async settle(): Promise<boolean> {
    while (this.inFlight) await this.inFlight;
    if (this.store.dirty().length) await this.flush();
    while (this.inFlight) await this.inFlight;
    return this.store.dirty().length === 0;
  }

  private async run(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.onState("saving");
    for (let attempt = 0; ; attempt++) {
      const batch = this.store.batch();
      if (!batch.changes.length) break;
      try {
        const saved = await this.send(batch.changes);
        this.store.saved(batch, saved);
        this.onSaved(saved.map((label) => label.slice_index));
        if (!this.store.dirty().length || this.again) break;
      } catch (error) {
        const conflicts = conflictsOf(error);
        if (conflicts && attempt < MAX_CONFLICT_RETRIES) {
          this.store.conflict(conflicts);
          this.onSaved(conflicts.map((item) => item.slice_index));
          continue;
        }
        const message = error instanceof Error ? error.message : String(error);
        this.closed = readClosedStatus(error);
        if (this.closed) {
          this.again = false;
          this.onState("closed", message);
          return;
        }
        this.onState("error", message);
        this.retryTimer = setTimeout(() => void this.flush(), RETRY_AFTER_MS);
        return;
      }
    }
    this.onState(this.store.dirty().length && !this.again ? "error" : this.again ? "saving" : "saved");
  }
}

function conflictsOf(error: unknown): LabelConflictItem[] | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const conflicts = error.extra["conflicts"];
  return Array.isArray(conflicts) ? (conflicts as LabelConflictItem[]) : null;
}

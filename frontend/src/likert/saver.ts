/**
 * Autosave of scores: each score is sent at once, one request at a time, the latest value of a
 * case winning over one not yet sent. A score is kept until the server took it: no answer or a
 * server fault is tried again (backoff up to 30 s, at once when the browser is back online);
 * a closed study (409) stops saving; a refused score (other 4xx) is dropped and reported.
 */
import { ApiError } from "../api/client";

export type SaveState = "saved" | "saving" | "retrying" | "closed";

export type SendScore = (position: number, score: number | null) => Promise<unknown>;

export interface SaverEvents {
  /** What the saver is doing; `message` says why it is retrying. */
  state(state: SaveState, message?: string): void;
  /** The study is closed: the unsent scores are not taken (the page reloads the saved ones). */
  closed(message: string): void;
  /** The server refused this case's score for good (it is no longer pending). */
  refused(position: number, message: string): void;
}

/** Waits before the 1st, 2nd, ... retry; the last one repeats. */
export const RETRY_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000] as const;

type Schedule = (run: () => void, ms: number) => () => void;

const timeout: Schedule = (run, ms) => {
  const handle = setTimeout(run, ms);
  return () => clearTimeout(handle);
};

export class ScoreSaver {
  /** Position -> score still to send, in the order they were given (a new value moves last). */
  private readonly pending = new Map<number, number | null>();
  private running: Promise<void> | null = null;
  private cancelRetry: (() => void) | null = null;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly send: SendScore,
    private readonly events: SaverEvents,
    private readonly schedule: Schedule = timeout,
  ) {}

  /** Scores not yet taken by the server. */
  get pendingCount(): number {
    return this.pending.size;
  }

  get isClosed(): boolean {
    return this.stopped;
  }

  /** Save a case's score (null: take it back) as soon as possible. */
  save(position: number, score: number | null): void {
    if (this.stopped) return;
    this.pending.delete(position);
    this.pending.set(position, score);
    void this.flush();
  }

  /** Send what is pending now (also ends a wait before a retry); resolves when the run ends. */
  flush(): Promise<void> {
    if (this.running) return this.running;
    if (this.stopped || !this.pending.size) return Promise.resolve();
    this.cancelRetry?.();
    this.cancelRetry = null;
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    this.events.state("saving");
    for (let next = first(this.pending); next; next = first(this.pending)) {
      const [position, score] = next;
      try {
        await this.send(position, score);
      } catch (error) {
        if (this.failed(position, error)) return;
        continue;
      }
      this.failures = 0;
      // A newer value given while this one was on its way stays pending.
      if (this.pending.has(position) && this.pending.get(position) === score) this.pending.delete(position);
    }
    this.events.state("saved");
  }

  /** Handle a failed send; true when the run stops here. */
  private failed(position: number, error: unknown): boolean {
    const status = error instanceof ApiError ? error.status : 0;
    const message = error instanceof Error ? error.message : String(error);
    if (status === 409) {
      this.stopped = true;
      this.pending.clear();
      this.events.state("closed", message);
      this.events.closed(message);
      return true;
    }
    if (status === 0 || status === 429 || status >= 500) {
      const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)]!;
      this.failures += 1;
      this.events.state("retrying", message);
      this.cancelRetry = this.schedule(() => {
        this.cancelRetry = null;
        void this.flush();
      }, delay);
      return true;
    }
    this.pending.delete(position);
    this.events.refused(position, message);
    return false;
  }
}

function first<K, V>(map: Map<K, V>): [K, V] | undefined {
  return map.entries().next().value;
}

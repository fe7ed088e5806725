/**
 * Reports reading progress: the slices shown since the last report, the current slice and the
 * active seconds (time with the page visible, each gap capped), every 10 s, shortly after
 * the reader moves, and as the page goes away (a request that outlives the page).
 */
import { progressRecord } from "../api/reads";

const EVERY_MS = 10_000;
const DEBOUNCE_MS = 1_500;
const MAX_GAP_S = 30;

export class ProgressReporter {
  private unsent = new Set<number>();
  private index = 0;
  private seconds = 0;
  private lastTick = performance.now();
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private sending: Promise<void> | null = null;
  private dirty = false;
  private readonly timer: ReturnType<typeof setInterval>;
  private stopped = false;

  constructor(private readonly url: string) {
    this.timer = setInterval(() => void this.send(), EVERY_MS);
    document.addEventListener("visibilitychange", () => this.tick());
    window.addEventListener("pagehide", () => void this.send(true));
  }

  /** Report nothing more (a finished read: the server would refuse it). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }

  /** The reader now sees slice `index`. */
  shown(index: number): void {
    if (this.stopped) return;
    this.tick();
    this.index = index;
    this.unsent.add(index);
    this.dirty = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.send(), DEBOUNCE_MS);
  }

  /** Send what is unsent now (the page calls it before completing). `leaving`: the page is
   * going away; send at once with a request that outlives it, not after one in flight. */
  async send(leaving = false): Promise<void> {
    if (this.stopped) return;
    if (this.sending && !leaving) await this.sending;
    this.tick();
    if (!this.dirty && this.seconds < 1) return;
    const viewed = [...this.unsent];
    const seconds = Math.round(this.seconds * 10) / 10;
    this.unsent = new Set();
    this.seconds = 0;
    this.dirty = false;
    this.sending = progressRecord(this.url, viewed, this.index, seconds, leaving)
      .then(() => undefined)
      .catch(() => {
        for (const index of viewed) this.unsent.add(index);
        this.seconds += seconds;
        this.dirty = true;
      })
      .finally(() => {
        this.sending = null;
      });
    await this.sending;
  }

  private tick(): void {
    const now = performance.now();
    if (document.visibilityState === "visible") this.seconds += Math.min((now - this.lastTick) / 1000, MAX_GAP_S);
    this.lastTick = now;
  }
}

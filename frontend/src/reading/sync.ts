/**
 * Keeps a read open in several tabs (or on several machines) in step. Every few seconds while
 * the page is visible, and at once when it becomes visible again, the read is fetched and handed
 * to the page, which merges it (the server's values for the slices it has no edit of its own
 * pending on). Tabs of the same browser also tell each other of each save through a
 * BroadcastChannel, so the others fetch at once instead of at their next poll.
 */
import { ApiError } from "../api/client";
import { readGet, type ReadWithLabels } from "../api/reads";

const POLL_MS = 4000;

export interface SyncHandlers {
  /** The read as the server has it now. */
  read(read: ReadWithLabels): void;
  /** The read no longer exists for the reader (withdrawn from them). */
  gone(): void;
}

export class ReadSync {
  private readonly channel: BroadcastChannel | null;
  private readonly timer: ReturnType<typeof setInterval>;
  private fetching = false;
  private again = false;
  private stopped = false;
  private readonly onVisible = (): void => {
    if (document.visibilityState === "visible") void this.poll();
  };

  constructor(
    readId: number,
    private readonly url: string,
    private readonly handlers: SyncHandlers,
  ) {
    this.channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(`ichlabel-read-${readId}`);
    if (this.channel) this.channel.onmessage = () => void this.poll(true);
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    document.addEventListener("visibilitychange", this.onVisible);
  }

  /** Tell the other tabs of this read that it changed (they fetch it). */
  announce(): void {
    if (!this.stopped) this.channel?.postMessage({ changed: true });
  }

  /** Fetch the read and hand it over; `now`: even while hidden (another tab saved). */
  async poll(now = false): Promise<void> {
    if (this.stopped || (!now && document.visibilityState !== "visible")) return;
    if (this.fetching) {
      this.again = now || this.again; // a save announced mid-fetch: fetch once more after
      return;
    }
    this.fetching = true;
    try {
      const read = await readGet(this.url);
      if (!this.stopped) this.handlers.read(read);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && !this.stopped) this.handlers.gone();
      // Anything else (offline, a restart): the next poll tries again.
    } finally {
      this.fetching = false;
      if (this.again) {
        this.again = false;
        void this.poll(true);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    document.removeEventListener("visibilitychange", this.onVisible);
    this.channel?.close();
  }
}

/**
 * The active reading time of one case: time the tab is visible and the reader gave input (keys,
 * mouse, wheel, touch) within the last minute. A hidden tab counts nothing; neither does time
 * after a minute without input (the reader left the desk), until the next input.
 *
 * The meter is pure arithmetic over an injected clock: `attach` wires it to a document's events,
 * and tests drive it with their own clock and calls.
 */

/** Input older than this no longer makes the time active. */
export const IDLE_AFTER_MS = 60_000;

/** The events that count as the reader being there. */
export const INPUT_EVENTS = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"] as const;

export type Clock = () => number;

export class ActiveTimeMeter {
  private activeMs = 0;
  /** Time up to which the active time is counted. */
  private countedTo: number;
  private lastInput: number;
  private visible: boolean;

  /** Starts at `clock()`, counting the opening of the case as input. */
  constructor(
    private readonly clock: Clock,
    visible = true,
    private readonly idleAfterMs = IDLE_AFTER_MS,
  ) {
    const now = clock();
    this.countedTo = now;
    this.lastInput = now;
    this.visible = visible;
  }

  /** The reader gave input now. */
  input(): void {
    this.count();
    this.lastInput = this.countedTo;
  }

  /** The tab became visible or hidden; coming back to the tab counts as input. */
  setVisible(visible: boolean): void {
    this.count();
    if (visible && !this.visible) this.lastInput = this.countedTo;
    this.visible = visible;
  }

  /** Active seconds so far. */
  seconds(): number {
    this.count();
    return this.activeMs / 1000;
  }

  /** Count the time since the last count: active while visible and within the idle limit. */
  private count(): void {
    const now = Math.max(this.clock(), this.countedTo); // a clock that steps back counts nothing
    if (this.visible) {
      const activeUntil = Math.min(now, this.lastInput + this.idleAfterMs);
      if (activeUntil > this.countedTo) this.activeMs += activeUntil - this.countedTo;
    }
    this.countedTo = now;
  }
}

/** A meter on the page's own events (visibility and input); `stop` removes its listeners. */
export function attach(
  meter: ActiveTimeMeter,
  doc: Document = document,
): () => void {
  const onInput = (): void => meter.input();
  const onVisibility = (): void => meter.setVisible(doc.visibilityState === "visible");
  for (const name of INPUT_EVENTS) doc.addEventListener(name, onInput, { passive: true, capture: true });
  doc.addEventListener("visibilitychange", onVisibility);
  return () => {
    for (const name of INPUT_EVENTS) doc.removeEventListener(name, onInput, { capture: true });
    doc.removeEventListener("visibilitychange", onVisibility);
  };
}

/**
 * The reader's scores as the page knows them: one per case of their order (null: not scored),
 * where to go next, and the undo history of this visit. Saving is the saver's concern.
 */

/** The 4-point scale, best first, as the buttons list it. */
export const SCALE = [4, 3, 2, 1] as const;
export type Score = (typeof SCALE)[number];

export const SCORE_NAMES: Readonly<Record<Score, string>> = { 4: "Excellent", 3: "Good", 2: "Acceptable", 1: "Bad" };

export function isScore(value: unknown): value is Score {
  return value === 1 || value === 2 || value === 3 || value === 4;
}

/** A change of one case's score: `score` is the new value, `previous` the one it replaced. */
export interface ScoreChange {
  position: number;
  score: Score | null;
  previous: Score | null;
}

export class ScoreBook {
  private readonly scores: (Score | null)[];
  private readonly history: ScoreChange[] = [];

  /** From the server's items (positions 0..n-1 of the reader's order). */
  constructor(items: readonly { position: number; score: number | null }[]) {
    this.scores = scoresOf(items);
  }

  get count(): number {
    return this.scores.length;
  }

  get scoredCount(): number {
    return this.scores.filter((score) => score !== null).length;
  }

  get allScored(): boolean {
    return this.scores.length > 0 && this.scores.every((score) => score !== null);
  }

  get canUndo(): boolean {
    return this.history.length > 0;
  }

  get(position: number): Score | null {
    return this.scores[position] ?? null;
  }

  firstUnscored(): number | null {
    const index = this.scores.indexOf(null);
    return index < 0 ? null : index;
  }

  /** The first unscored case after `position`, else the first one before it; null if none. */
  nextUnscored(position: number): number | null {
    for (let step = 1; step < this.scores.length; step++) {
      const candidate = (position + step) % this.scores.length;
      if (this.scores[candidate] === null) return candidate;
    }
    return null;
  }

  /** Score a case; the change (kept for undo), or null when it already had that score. */
  set(position: number, score: Score): ScoreChange | null {
    this.check(position);
    const previous = this.scores[position] ?? null;
    if (previous === score) return null;
    this.scores[position] = score;
    const change = { position, score, previous };
    this.history.push(change);
    return change;
  }

  /** Take back the last change of this visit: the case gets its earlier value again (null
   * after a first score). The change that does it, or null when there is nothing to undo. */
  undo(): ScoreChange | null {
    const last = this.history.pop();
    if (!last) return null;
    this.scores[last.position] = last.previous;
    return { position: last.position, score: last.previous, previous: last.score };
  }

  /** The server's values (after the study was closed): the undo history no longer applies. */
  replace(items: readonly { position: number; score: number | null }[]): void {
    const scores = scoresOf(items);
    if (scores.length !== this.scores.length) throw new Error("ICHLabel: the study's cases changed");
    this.scores.splice(0, scores.length, ...scores);
    this.history.length = 0;
  }

  private check(position: number): void {
    if (!Number.isInteger(position) || position < 0 || position >= this.scores.length) {
      throw new RangeError(`ICHLabel: no case at position ${position}`);
    }
  }
}

function scoresOf(items: readonly { position: number; score: number | null }[]): (Score | null)[] {
  const scores: (Score | null)[] = new Array<Score | null>(items.length).fill(null);
  for (const item of items) {
    if (!Number.isInteger(item.position) || item.position < 0 || item.position >= items.length) {
      throw new Error(`ICHLabel: a case at position ${item.position} of ${items.length}`);
    }
    scores[item.position] = isScore(item.score) ? item.score : null;
  }
  return scores;
}

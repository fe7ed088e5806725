/**
 * The labels of one read, slice by slice, as the reader means them: what the server confirmed
 * (values and version) plus the reader's edits not yet confirmed. Edits are kept as operations,
 * so that when the server has newer values (a 409) they are replayed on top of those: the
 * reader's action is never lost.
 */

import type { Schemas } from "../api/types";
import { CLASS_NAMES, LABEL_FIELDS, NO_HEMORRHAGE, SUBTYPES, type LabelField } from "../generated/vocabulary";

/** The name of each label field on the reader's buttons and strip. */
export const FIELD_NAMES = Object.fromEntries(
  LABEL_FIELDS.map((field) => [field, field === NO_HEMORRHAGE ? "none" : CLASS_NAMES[field]]),
) as Record<LabelField, string>;

export type LabelValues = Record<LabelField, boolean>;

/** One slice's labels as the server has them: the fields the store reads of the API's label
 * (which also carries the derived `any`). */
export type ServerLabel = Pick<Schemas["LabelOutput"], LabelField | "slice_index" | "version">;

/** One slice's entry of a labels POST: every field sent (the schema's are optional). */
export type LabelChange = Required<Schemas["SliceLabelChange"]>;

/** An edit of one slice: set (or clear) one field, or put whole values back (copy, undo). */
export type LabelOp = { kind: "set"; field: LabelField; value: boolean } | { kind: "replace"; values: LabelValues };

export const EMPTY: LabelValues = Object.freeze(
  Object.fromEntries(LABEL_FIELDS.map((field) => [field, false])) as LabelValues,
);

export function valuesOf(source: LabelValues): LabelValues {
  const out = { ...EMPTY };
  for (const field of LABEL_FIELDS) out[field] = Boolean(source[field]);
  return out;
}

export function sameValues(a: LabelValues, b: LabelValues): boolean {
  return LABEL_FIELDS.every((field) => a[field] === b[field]);
}

export function hasAnyLabel(values: LabelValues): boolean {
  return LABEL_FIELDS.some((field) => values[field]);
}

/**
 * Apply one operation. "No hemorrhage" excludes the subtypes: setting it clears them, setting a
 * subtype clears it.
 */
export function applyOp(values: LabelValues, op: LabelOp): LabelValues {
  if (op.kind === "replace") return valuesOf(op.values);
  const out = { ...values, [op.field]: op.value };
  if (op.value && op.field === NO_HEMORRHAGE) for (const subtype of SUBTYPES) out[subtype] = false;
  if (op.value && op.field !== NO_HEMORRHAGE) out[NO_HEMORRHAGE] = false;
  return out;
}

interface SliceState {
  confirmed: LabelValues;
  version: number;
  pending: LabelOp[];
}

/** What a save sends, and how many of each slice's pending operations it covers. */
export interface SaveBatch {
  changes: LabelChange[];
  covered: Map<number, number>;
}

/** One undoable (or redoable) step: the values its slices had before it. */
interface UndoStep {
  before: Map<number, LabelValues>;
}

export class LabelStore {
  readonly sliceCount: number;
  private readonly slices = new Map<number, SliceState>();
  private readonly undoSteps: UndoStep[] = [];
  private readonly redoSteps: UndoStep[] = [];

  constructor(sliceCount: number, labels: readonly ServerLabel[] = []) {
    this.sliceCount = sliceCount;
    for (const label of labels) this.confirm(label);
  }

  /** The values the reader sees on a slice (confirmed plus pending edits). */
  get(index: number): LabelValues {
    const state = this.slices.get(index);
    if (!state) return { ...EMPTY };
    return state.pending.reduce(applyOp, state.confirmed);
  }

  version(index: number): number {
    return this.slices.get(index)?.version ?? 0;
  }

  /** Slices with edits the server has not confirmed yet. */
  dirty(): number[] {
    return [...this.slices.entries()].filter(([, s]) => s.pending.length > 0).map(([i]) => i).sort((a, b) => a - b);
  }

  get canUndo(): boolean {
    return this.undoSteps.length > 0;
  }

  get canRedo(): boolean {
    return this.redoSteps.length > 0;
  }

  /** Apply one operation to some slices, as one undoable step; returns the slices changed. */
  edit(indices: readonly number[], op: LabelOp | ((index: number) => LabelOp)): number[] {
    const before = new Map<number, LabelValues>();
    for (const index of indices) {
      if (index < 0 || index >= this.sliceCount) continue;
      const current = this.get(index);
      const sliceOp = typeof op === "function" ? op(index) : op;
      if (sameValues(applyOp(current, sliceOp), current)) continue;
      before.set(index, current);
      this.state(index).pending.push(sliceOp);
    }
    if (before.size) {
      this.undoSteps.push({ before });
      this.redoSteps.length = 0; // a new edit ends the line of steps that could be redone
    }
    return [...before.keys()];
  }

  /** Undo the last step: put back the values its slices had before it. */
  undo(): number[] {
    return this.swap(this.undoSteps, this.redoSteps);
  }

  /** Redo the last undone step: put back the values its slices had before the undo. */
  redo(): number[] {
    return this.swap(this.redoSteps, this.undoSteps);
  }

  /** Take the last step of `from`, restore its values, and keep the values it replaced as a
   * step of `to` (undo feeds redo and back). */
  private swap(from: UndoStep[], to: UndoStep[]): number[] {
    const step = from.pop();
    if (!step) return [];
    const before = new Map<number, LabelValues>();
    for (const [index, values] of step.before) {
      before.set(index, this.get(index));
      this.state(index).pending.push({ kind: "replace", values });
    }
    to.push({ before });
    return [...step.before.keys()];
  }

  /** Drop every edit the server has not confirmed (the read no longer takes changes): the
   * slices show what the server holds. Returns the slices that had edits. */
  discardPending(): number[] {
    const dirty = this.dirty();
    for (const index of dirty) this.state(index).pending.length = 0;
    this.undoSteps.length = 0;
    this.redoSteps.length = 0;
    return dirty;
  }

  /**
   * Take labels saved elsewhere (another tab, another device): a newer server label replaces
   * a slice's values where this page has no edit of its own pending; a slice with one keeps
   * it (its save names the old version, and the 409 replays it on the newer values). Returns
   * the slices that changed.
   */
  merge(labels: readonly ServerLabel[]): number[] {
    const changed: number[] = [];
    for (const label of labels) {
      const state = this.slices.get(label.slice_index);
      if (state?.pending.length || label.version <= (state?.version ?? 0)) continue;
      this.confirm(label);
      changed.push(label.slice_index);
    }
    return changed;
  }

  /** The changes to send for every slice with pending edits. */
  batch(): SaveBatch {
    const changes: LabelChange[] = [];
    const covered = new Map<number, number>();
    for (const index of this.dirty()) {
      const state = this.state(index);
      covered.set(index, state.pending.length);
      changes.push({ slice_index: index, version: state.version, ...this.get(index) });
    }
    return { changes, covered };
  }

  /** The server saved a batch: take its values and versions, drop the edits the batch covered. */
  saved(batch: SaveBatch, labels: readonly ServerLabel[]): void {
    for (const label of labels) {
      const state = this.state(label.slice_index);
      state.confirmed = valuesOf(label);
      state.version = label.version;
      state.pending.splice(0, batch.covered.get(label.slice_index) ?? 0);
    }
  }

  /** The server has newer values (409): take them; the pending edits replay on top of them. */
  conflict(current: readonly { slice_index: number; version: number; values?: Partial<LabelValues> | null }[]): void {
    for (const item of current) {
      const state = this.state(item.slice_index);
      state.confirmed = valuesOf({ ...EMPTY, ...(item.values ?? {}) });
      state.version = item.version;
    }
  }

  /** Take a server label as confirmed, leaving pending edits alone. */
  confirm(label: ServerLabel): void {
    const state = this.state(label.slice_index);
    state.confirmed = valuesOf(label);
    state.version = label.version;
  }

  private state(index: number): SliceState {
    let state = this.slices.get(index);
    if (!state) {
      state = { confirmed: { ...EMPTY }, version: 0, pending: [] };
      this.slices.set(index, state);
    }
    return state;
  }
}

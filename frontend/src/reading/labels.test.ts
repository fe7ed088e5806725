import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { EMPTY, LabelStore, applyOp, type LabelChange, type ServerLabel } from "./labels";
import { LabelSaver } from "./saver";

const label = (slice_index: number, version: number, values: Partial<typeof EMPTY> = {}): ServerLabel => ({
  slice_index,
  version,
  ...EMPTY,
  ...values,
});

describe("applyOp", () => {
  it("keeps no_hemorrhage and the subtypes exclusive", () => {
    const withIph = applyOp(EMPTY, { kind: "set", field: "iph", value: true });
    expect(withIph.iph).toBe(true);
    const none = applyOp(withIph, { kind: "set", field: "no_hemorrhage", value: true });
    expect(none).toEqual({ ...EMPTY, no_hemorrhage: true });
    expect(applyOp(none, { kind: "set", field: "sdh", value: true })).toEqual({ ...EMPTY, sdh: true });
  });
});

describe("LabelStore", () => {
  it("tracks pending edits, batches them with versions and undoes a step", () => {
    const store = new LabelStore(5, [label(2, 3, { ivh: true })]);
    store.edit([1, 2], { kind: "set", field: "iph", value: true });
    expect(store.get(2)).toEqual({ ...EMPTY, ivh: true, iph: true });
    const batch = store.batch();
    expect(batch.changes.map((c) => [c.slice_index, c.version])).toEqual([
      [1, 0],
      [2, 3],
    ]);
    store.saved(batch, [label(1, 1, { iph: true }), label(2, 4, { ivh: true, iph: true })]);
    expect(store.dirty()).toEqual([]);
    store.undo();
    expect(store.get(2)).toEqual({ ...EMPTY, ivh: true });
    expect(store.get(1)).toEqual(EMPTY);
    expect(store.dirty()).toEqual([1, 2]);
  });

  it("replays the reader's edit on the server's newer values after a conflict", () => {
    const store = new LabelStore(3);
    store.edit([0], { kind: "set", field: "sdh", value: true });
    store.conflict([{ slice_index: 0, version: 2, values: { ...EMPTY, sah: true } }]);
    expect(store.get(0)).toEqual({ ...EMPTY, sah: true, sdh: true });
    expect(store.batch().changes[0]?.version).toBe(2);
  });

  it("redoes undone steps in order, and a new edit ends what can be redone", () => {
    const store = new LabelStore(4);
    store.edit([0, 1], { kind: "set", field: "iph", value: true });
    store.edit([1], { kind: "set", field: "sdh", value: true });
    expect(store.undo()).toEqual([1]);
    expect(store.undo()).toEqual([0, 1]);
    expect([store.get(0), store.get(1)]).toEqual([EMPTY, EMPTY]);
    expect(store.canRedo).toBe(true);
    expect(store.redo()).toEqual([0, 1]);
    expect(store.get(1)).toEqual({ ...EMPTY, iph: true });
    expect(store.redo()).toEqual([1]);
    expect(store.get(1)).toEqual({ ...EMPTY, iph: true, sdh: true });
    expect(store.redo()).toEqual([]);
    store.undo();
    store.edit([2], { kind: "set", field: "edh", value: true });
    expect(store.canRedo).toBe(false);
    expect(store.redo()).toEqual([]);
    expect(store.undo()).toEqual([2]); // the new edit, then the step before the undone one
    expect(store.undo()).toEqual([0, 1]);
    expect(store.get(1)).toEqual(EMPTY);
  });

  it("merges labels saved elsewhere only where this page has no pending edit and they are newer", () => {
    const store = new LabelStore(4, [label(0, 2, { iph: true }), label(1, 1, { sah: true })]);
    store.edit([1], { kind: "set", field: "edh", value: true });
    const changed = store.merge([
      label(0, 3, { ivh: true }), // newer, no pending edit: taken
      label(1, 5, { sdh: true }), // this page's edit is pending: kept, its 409 will replay it
      label(2, 1, { no_hemorrhage: true }), // never seen here: taken
      label(3, 0), // not newer than what the page has: ignored
    ]);
    expect(changed).toEqual([0, 2]);
    expect(store.get(0)).toEqual({ ...EMPTY, ivh: true });
    expect(store.get(1)).toEqual({ ...EMPTY, sah: true, edh: true });
    expect(store.version(1)).toBe(1);
    expect(store.get(2)).toEqual({ ...EMPTY, no_hemorrhage: true });
    expect(store.merge([label(0, 3, { sdh: true })])).toEqual([]); // same version again
  });

  it("drops the edits the server refused when the read closes", () => {
    const store = new LabelStore(3, [label(0, 1, { iph: true })]);
    store.edit([0, 1], { kind: "set", field: "sdh", value: true });
    expect(store.discardPending()).toEqual([0, 1]);
    expect(store.dirty()).toEqual([]);
    expect(store.get(0)).toEqual({ ...EMPTY, iph: true });
    expect(store.undo()).toEqual([]);
  });
});

describe("LabelSaver", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("stops for good on a 409 saying the read was completed: no retry, said once", async () => {
    vi.useFakeTimers();
    const store = new LabelStore(3);
    const states: [string, string | undefined][] = [];
    let calls = 0;
    const saver = new LabelSaver(
      store,
      async () => {
        calls++;
        throw new ApiError("This read is completed and can no longer change.", 409, { read_status: "completed" });
      },
      (state, message) => states.push([state, message]),
    );
    store.edit([1], { kind: "set", field: "iph", value: true });
    await saver.flush();
    expect(saver.closedAs).toBe("completed");
    expect(states.at(-1)).toEqual(["closed", "This read is completed and can no longer change."]);
    expect(vi.getTimerCount()).toBe(0); // no retry scheduled
    store.edit([2], { kind: "set", field: "iph", value: true });
    await saver.flush();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1);
    expect(states.filter(([state]) => state === "closed")).toHaveLength(1);
  });

  it("keeps retrying after other failures, and names a withdrawn read", async () => {
    vi.useFakeTimers();
    const store = new LabelStore(2);
    const errors = [
      new ApiError("No answer from the server", 0),
      new ApiError("This read was withdrawn from you and can no longer change.", 409, { read_status: "withdrawn" }),
    ];
    const saver = new LabelSaver(
      store,
      async () => {
        throw errors.shift();
      },
      () => {},
    );
    store.edit([0], { kind: "set", field: "sah", value: true });
    await saver.flush();
    expect(saver.closedAs).toBeNull();
    expect(vi.getTimerCount()).toBe(1); // the retry
    await vi.advanceTimersByTimeAsync(5_000);
    expect(saver.closedAs).toBe("withdrawn");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("saves again after a 409 with the server's version", async () => {
    const store = new LabelStore(3);
    const sent: LabelChange[][] = [];
    let calls = 0;
    const saver = new LabelSaver(
      store,
      async (changes) => {
        sent.push(changes);
        if (calls++ === 0) {
          throw new ApiError("stale", 409, { conflicts: [{ slice_index: 1, version: 1, values: { ...EMPTY, iph: true } }] });
        }
        return changes.map((c) => ({ ...c, version: c.version + 1 }));
      },
      () => {},
    );
    store.edit([1], { kind: "set", field: "edh", value: true });
    await saver.flush();
    expect(sent).toHaveLength(2);
    expect(sent[1]?.[0]).toMatchObject({ slice_index: 1, version: 1, iph: true, edh: true });
    expect(store.version(1)).toBe(2);
    expect(store.dirty()).toEqual([]);
  });
});

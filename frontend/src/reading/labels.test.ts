import { describe, expect, it } from "vitest";
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
});

describe("LabelSaver", () => {
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

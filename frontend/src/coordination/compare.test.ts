import { describe, expect, it } from "vitest";
import type { GroundTruthComparison, LevelDiff } from "../api/coordination";
import { changesByClass, comparisonHeadline, rowChanges } from "./compare";

const none = { any: 0, iph: 0, ivh: 0, sah: 0, sdh: 0, edh: 0 };
const level = (overrides: Partial<LevelDiff> = {}): LevelDiff => ({
  in_both: 4, only_in_a: 0, only_in_b: 0, changed: 0, changed_by_class: none, changed_rows: [], ...overrides,
});
const comparison = (overrides: Partial<GroundTruthComparison> = {}): GroundTruthComparison => ({
  a: { id: 1, name: "v1", sha256: "a" }, b: { id: 2, name: "v2", sha256: "b" }, identical: false,
  slices: level(), scans: level(), ...overrides,
});

describe("comparison", () => {
  it("counts changes per class at both levels", () => {
    const c = comparison({
      slices: level({ changed: 2, changed_by_class: { ...none, sdh: 2, any: 1 } }),
      scans: level({ changed: 1, changed_by_class: { ...none, sdh: 1 } }),
    });
    expect(changesByClass(c).filter((change) => change.slices || change.scans)).toEqual([
      { label: "any", slices: 1, scans: 0 },
      { label: "sdh", slices: 2, scans: 1 },
    ]);
    expect(comparisonHeadline(c)).toBe("From v1 to v2: 1 scan and 2 slices changed.");
  });

  it("says when versions are identical and names scans in one version only", () => {
    expect(comparisonHeadline(comparison({ identical: true }))).toBe("v1 and v2 hold identical ground truth (same content hash).");
    expect(comparisonHeadline(comparison({ scans: level({ only_in_b: 3 }) }))).toBe(
      "From v1 to v2: 0 scans and 0 slices changed; 3 scans only in v2.",
    );
  });

  it("gives each changed row's direction per class", () => {
    const a = { any: true, iph: false, ivh: false, sah: false, sdh: true, edh: false };
    const b = { ...a, iph: true, sdh: false };
    expect(rowChanges({ scan: 1, slice_index: 0, a, b })).toEqual(["IPH +", "SDH −"]);
  });
});

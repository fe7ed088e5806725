import { describe, expect, it } from "vitest";
import { poolHead, poolScans, poolSummary, type UncertaintyPool } from "./uncertainty";

const pool: UncertaintyPool = {
  model_version: 3,
  model_name: "m1",
  threshold: 0.6,
  pool: 5,
  scored: 4,
  scans: [
    { scan: 12, score: 0.61, distance: 0.01 },
    { scan: 9, score: 0.55, distance: 0.05 },
    { scan: 4, score: null, distance: null },
  ],
};

describe("uncertainty pool", () => {
  it("reads the pool's rows", () => {
    expect(poolScans(pool)[2]).toEqual({ scan: 4, score: null, distance: null });
  });
  it("says how many never-read scans are scored", () => {
    expect(poolSummary(pool)).toBe("4 of 5 never-read scans scored by m1 (threshold for any ICH 0.60); 1 unscored come last.");
    expect(poolSummary({ ...pool, scored: 5 })).toBe("5 of 5 never-read scans scored by m1 (threshold for any ICH 0.60).");
  });
  it("names the first scans with their scores", () => {
    expect(poolHead(pool, 2)).toBe("scan 12 (0.61), scan 9 (0.55)");
    expect(poolHead(pool)).toBe("scan 12 (0.61), scan 9 (0.55), scan 4 (unscored)");
  });
});

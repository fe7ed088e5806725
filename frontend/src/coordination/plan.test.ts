import { describe, expect, it } from "vitest";
import type { PlannedRead } from "../api/coordination";
import { describeScanPlan, summarisePlan } from "./plan";

const names = { "1": "neuro1", "2": "neuro2", "3": "neuro3" };
const read = (scan: number, reader: number, kind: "primary" | "cross", level: "slice" | "scan" = "slice"): PlannedRead =>
  ({ id: null, scan, reader, kind, level });

describe("summarisePlan", () => {
  it("groups a validation scan's primary read and its two cross-reads", () => {
    const summary = summarisePlan([read(7, 2, "primary"), read(7, 1, "cross"), read(7, 3, "cross")], names);
    expect(summary.scans).toEqual([{ scan: 7, level: "slice", primary: "neuro2", others: ["neuro1", "neuro3"] }]);
    expect(summary.reads).toBe(3);
    expect(describeScanPlan(summary.scans[0]!)).toBe("neuro2 (primary); cross-readers: neuro1, neuro3");
  });

  it("names the three readers of a test scan as the reads table does: scan-level reads of the test set", () => {
    const summary = summarisePlan([read(9, 1, "primary", "scan"), read(9, 2, "cross", "scan"), read(9, 3, "cross", "scan")], names);
    expect(describeScanPlan(summary.scans[0]!)).toBe("scan-level reads of the test set: neuro1, neuro2, neuro3");
  });

  it("keeps scans in plan order and counts reads per reader, most first", () => {
    const summary = summarisePlan([read(4, 1, "primary"), read(3, 2, "primary"), read(3, 1, "cross")], names);
    expect(summary.scans.map((plan) => plan.scan)).toEqual([4, 3]);
    expect(summary.perReader).toEqual([["neuro1", 2], ["neuro2", 1]]);
  });

  it("names an unknown reader by id and shows a scan that only needs cross-reads", () => {
    const summary = summarisePlan([read(5, 42, "cross")], names);
    expect(summary.scans[0]).toEqual({ scan: 5, level: "slice", primary: null, others: ["reader 42"] });
    expect(describeScanPlan(summary.scans[0]!)).toBe("cross-readers: reader 42");
  });
});

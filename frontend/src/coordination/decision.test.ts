import { describe, expect, it } from "vitest";
import type { AdjudicationItem, Vote } from "../api/coordination";
import { decidedText, decisionKind, describeValues, itemHeadline, resolveRequest, voteOn } from "./decision";

const item = (overrides: Partial<AdjudicationItem> = {}): AdjudicationItem => ({
  id: 1, scan: 5, center: "Center V", split: "validation", slice_index: 2, label: "sdh", reason: "split_vote",
  status: "open", positive_votes: 2, total_votes: 3, created_at: "", decided_at: null, decided_by: null,
  decision_reason: "", decision_text: "", ...overrides,
});

describe("decisionKind", () => {
  it("decides split votes yes or no, missing reads by labels at the scan's level", () => {
    expect(decisionKind(item(), "slice")).toBe("vote");
    expect(decisionKind(item({ reason: "missing_read" }), "slice")).toBe("slices");
    expect(decisionKind(item({ reason: "missing_read" }), "scan")).toBe("scan");
  });
});

describe("resolveRequest", () => {
  it("needs a choice and a reason", () => {
    expect(() => resolveRequest({ kind: "vote", value: null }, "because")).toThrow("Choose present or absent.");
    expect(() => resolveRequest({ kind: "vote", value: false }, "  ")).toThrow("Give the reason for the decision.");
  });

  it("sends a vote's value and the trimmed reason", () => {
    expect(resolveRequest({ kind: "vote", value: false }, " a vessel ")).toEqual({ reason: "a vessel", value: false });
  });

  it("sends only the positive subtypes of a scan", () => {
    expect(resolveRequest({ kind: "scan", values: { sah: true, iph: false } }, "r")).toEqual({ reason: "r", scan: { sah: true } });
  });

  it("sends the positive slices in order and leaves out empty ones", () => {
    const slices = new Map([[3, { sdh: true }], [0, { iph: true, ivh: true }], [1, { edh: false }]]);
    expect(resolveRequest({ kind: "slices", slices }, "r")).toEqual({
      reason: "r",
      slices: [{ slice_index: 0, iph: true, ivh: true }, { slice_index: 3, sdh: true }],
    });
  });
});

describe("votes", () => {
  const vote = (values: Vote["values"]): Vote => ({ read: 1, reader: "neuro1", kind: "cross", status: "completed", labelled_slices: 1, values });

  it("reads what each read says about the subtype", () => {
    expect(voteOn(vote({ sdh: true, iph: false }), "sdh")).toBe(true);
    expect(voteOn(vote({ iph: true }), "sdh")).toBe(false);
    expect(voteOn(vote(null), "sdh")).toBeNull();
  });

  it("describes labels", () => {
    expect(describeValues({ iph: true, sdh: true, no_hemorrhage: false })).toBe("IPH, SDH");
    expect(describeValues({ iph: false, no_hemorrhage: true })).toBe("no hemorrhage");
    expect(describeValues(null)).toBe("no label");
  });

  it("says what an item is about", () => {
    expect(itemHeadline(item())).toBe("Readers split on SDH in scan 5, slice 3 (2 of 3 readers marked it).");
    expect(itemHeadline(item({ reason: "missing_read", slice_index: null, label: "" }))).toMatch(/^Scan 5 lacks a read/);
  });

  it("summarises a decision", () => {
    const row = { slice_index: 2, iph: false, ivh: false, sah: false, sdh: false, edh: false };
    expect(decidedText({ reason: "split_vote", label: "sdh", decision: [row] })).toEqual(["SDH absent"]);
    expect(decidedText({ reason: "missing_read", label: "", decision: [{ ...row, iph: true }, row] })).toEqual(["Slice 3: IPH"]);
    expect(decidedText({ reason: "missing_read", label: "", decision: [row] })).toEqual(["No hemorrhage"]);
  });
});

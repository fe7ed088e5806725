import { describe, expect, it } from "vitest";
import { AnswerDraft } from "./answer";

describe("AnswerDraft", () => {
  it("needs the ICH answer and a confidence", () => {
    const draft = new AnswerDraft();
    expect(draft.missing()).toHaveLength(2);
    draft.setAny(false);
    expect(draft.missing()).toEqual(["set your confidence ([ and ], or the slider)"]);
    draft.setConfidence(12.4);
    expect(draft.missing()).toEqual([]);
    expect(draft.body(3.14159)).toEqual({
      any_ich: false,
      subtypes: { IPH: false, IVH: false, SAH: false, SDH: false, EDH: false },
      confidence: 12,
      active_time_s: 3.1,
    });
  });

  it("a subtype implies yes; no clears the subtypes", () => {
    const draft = new AnswerDraft();
    draft.toggleSubtype("sdh");
    expect(draft.any).toBe(true);
    draft.toggleSubtype("iph");
    draft.toggleSubtype("iph");
    draft.setConfidence(140);
    expect(draft.body(0).subtypes).toEqual({ IPH: false, IVH: false, SAH: false, SDH: true, EDH: false });
    expect(draft.confidence).toBe(100);
    draft.setAny(false);
    expect([...draft.subtypes]).toEqual([]);
  });

  it("refuses to build an incomplete body", () => {
    expect(() => new AnswerDraft().body(1)).toThrow();
  });
});

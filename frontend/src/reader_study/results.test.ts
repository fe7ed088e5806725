import { describe, expect, it } from "vitest";
import { comparisons, differenceText, rocCurves, tableRows } from "./results";
import { sessionState } from "./list";

describe("results parts", () => {
  it("reads the table as rows or as a reader -> modality mapping", () => {
    const nested = tableRows({ neuro1: { unaided: { auc: 0.8, sensitivity: 0.5, specificity: 1, reads: 4, median_time_s: 12.5 } } });
    const flat = tableRows([{ reader: { username: "neuro1" }, modality: "unaided", auc: 0.8, sensitivity: 0.5, specificity: 1, reads: 4, median_time_s: 12.5 }]);
    expect(nested).toEqual(flat);
    expect(nested[0]).toMatchObject({ reader: "neuro1", modality: "unaided", auc: 0.8 });
  });

  it("finds each reader's and the averaged ROC curves", () => {
    const curve = { fpr: [0, 1], tpr: [0, 1] };
    const found = rocCurves({
      readers: [
        { reader: "neuro1", modality: "unaided", roc: curve },
        { reader: "neuro1", modality: "aided_scores", roc: curve },
        { reader: "neuro2", modality: "unaided", roc: null },
      ],
      average: [{ modality: "unaided", roc: curve }, { modality: "aided_scores", roc: null }],
    });
    expect(found.readers.has("neuro2")).toBe(false);
    expect([...found.average.keys()]).toEqual(["unaided"]);
    expect([...found.readers.get("neuro1")!.keys()]).toEqual(["unaided", "aided_scores"]);
    expect(found.average.get("unaided")).toEqual(curve);
  });

  it("writes an OR difference in numbers", () => {
    const [comparison] = comparisons([
      {
        aided: "aided_scores",
        unaided: "unaided",
        auc: { summary: "Aided readers did better.", rrrc: { difference: 0.0432, ci: [-0.002, 0.088], f: 4.456, df1: 1, df2: 15.26, p: 0.0516 } },
      },
    ]);
    expect(comparison!.name).toBe("Aided: model scores vs Unaided");
    expect(comparison!.figures[0]!.summary).toBe("Aided readers did better.");
    expect(differenceText(comparison!.figures[0]!.rrrc!)).toBe("+0.043 (95% CI -0.002 to 0.088), F(1, 15.3) = 4.46, p = 0.052");
  });
});

describe("list parts", () => {
  it("tells a session's state", () => {
    const now = new Date("2026-12-04T12:00:00Z");
    expect(sessionState({ completed_at: "2026-12-01T00:00:00Z" }, now)).toBe("done");
    expect(sessionState({ opens_at: "2026-12-04T11:00:00Z" }, now)).toBe("open");
    expect(sessionState({ opens_at: "2026-12-05T11:00:00Z" }, now)).toBe("waiting");
    expect(sessionState({ opens_at: null }, now)).toBe("later");
  });
});

describe("splitCounts", () => {
  it("adds the splits up, or takes one", async () => {
    const { splitCounts } = await import("./list");
    const version = { id: 1, name: "gt", splits: { train: { positive: 3, negative: 5 }, test: { positive: 1, negative: 2 } } };
    expect(splitCounts(version, "")).toEqual({ positive: 4, negative: 7 });
    expect(splitCounts(version, "test")).toEqual({ positive: 1, negative: 2 });
    expect(splitCounts(version, "validation")).toEqual({ positive: 0, negative: 0 });
  });
});

import { describe, expect, it } from "vitest";
import { describeSplitChange, type SplitChange } from "./split-change";

const base: SplitChange = {
  center_id: 1,
  center_name: "Center T",
  from_split: "train",
  to_split: "validation",
  changes: true,
  scans: 3,
  slices: 90,
  reads: [{ role: "Primary read", level: "slice", open: 1, completed: 1, withdrawn: 0 }],
  open_reads: 1,
  completed_reads: 1,
  reads_per_scan_before: 1,
  reads_per_scan_after: 3,
  scans_needing_reads: 2,
  reads_to_assign: 4,
  completed_at_other_level: 0,
  ground_truth_versions: [{ id: 4, name: "v1", scans: 1, splits: ["train"], released: true }],
  refused: false,
  refusals: [],
};

describe("describeSplitChange", () => {
  it("states the scans, reads, reads still needed and frozen versions", () => {
    const text = describeSplitChange(base);
    expect(text.title).toBe("Move Center T from the training to the validation split?");
    expect(text.lines).toEqual([
      "3 scans (90 slices) move to the validation split.",
      "Reads on these scans: Primary read: 1 open, 1 completed.",
      "A validation scan needs 3 reads (a training scan 1).",
      "2 scans then lack 4 reads (assign them on the Reading page); until then new ground-truth versions leave them out.",
      "Ground-truth versions that froze these scans keep the split they froze: v1 (1 scan, training, released).",
    ]);
    expect(text.refusals).toEqual([]);
  });

  it("carries the server's refusal and says when nothing was read or frozen", () => {
    const text = describeSplitChange({
      ...base,
      from_split: "test",
      to_split: "validation",
      reads: [{ role: "Scan-level read of the test set", level: "scan", open: 3, completed: 0, withdrawn: 0 }],
      reads_per_scan_before: 3,
      scans_needing_reads: 0,
      completed_at_other_level: 2,
      ground_truth_versions: [],
      refused: true,
      refusals: ["3 reads (scan-level read of the test set) assigned and not finished."],
    });
    expect(text.lines).toContain("Reads on these scans: Scan-level read of the test set: 3 open, 0 completed.");
    expect(text.lines).toContain(
      "2 completed reads were read at scan level: they are kept, and these scans' ground truth follows the level they were read at.",
    );
    expect(text.lines.at(-1)).toBe("No ground-truth version holds these scans yet.");
    expect(text.refusals).toEqual(["3 reads (scan-level read of the test set) assigned and not finished."]);
  });

  it("says when no read is assigned", () => {
    expect(describeSplitChange({ ...base, reads: [] }).lines[1]).toBe("No reads are assigned on these scans yet.");
  });
});

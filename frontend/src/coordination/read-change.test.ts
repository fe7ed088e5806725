import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import type { ReadChangeConsequences } from "../api/coordination";
import { consequences, doneMessage, needsForce, workText, type ReadRow } from "./read-change";

const row: ReadRow = { id: 8, scan: 3, readerName: "neuro2", status: "assigned", labelled: 0 };
const change = (overrides: Partial<ReadChangeConsequences> = {}): ReadChangeConsequences => ({
  read: 8,
  scan: 3,
  reader: "neuro2",
  role: "Primary read",
  status: "in_progress",
  labelled_slices: 0,
  scan_labelled: false,
  flags: [],
  note: false,
  has_work: false,
  scan_reads_left: 2,
  scan_reads_required: 3,
  scan_readers: [4, 5],
  ...overrides,
});

describe("read changes", () => {
  it("names the work the server counted", () => {
    expect(workText(change({ labelled_slices: 1 }))).toBe("1 labelled slice");
    expect(workText(change({ labelled_slices: 5, scan_labelled: true, flags: ["mass_lesion"], note: true }))).toBe(
      "5 labelled slices, a scan label, flags (mass lesion) and a note",
    );
    expect(workText(change({ status: "completed", has_work: true }))).toBe("been completed");
  });

  it("says a read with work is withdrawn and kept, and what its scan then lacks", () => {
    const withWork = change({ labelled_slices: 2, has_work: true });
    expect(consequences("unassign", withWork)).toEqual([
      "neuro2's read has 2 labelled slices. It will be withdrawn: its labels stay on record with their audit trail, and it no longer counts towards the ground truth.",
      "Scan 3 then keeps 2 of the 3 reads it needs and appears in the adjudication queue as missing a read.",
    ]);
    expect(consequences("reassign", withWork)[1]).toBe("The new reader starts a fresh read of the scan.");
  });

  it("says a read without work moves or is removed", () => {
    expect(consequences("reassign", change())).toEqual(["neuro2's read holds no work yet: it simply moves to the new reader."]);
    expect(consequences("unassign", change({ scan_reads_left: 0, scan_reads_required: 1, scan_readers: [] }))).toEqual([
      "neuro2's read holds no work yet: it is removed, nothing is lost.",
      "Scan 3 then keeps 0 of the 1 read it needs; assign it again on this page.",
    ]);
  });

  it("recognises the server's request for force", () => {
    const force = new ApiError("This read has labels; unassign with force to withdraw it.", 409, { needs_force: true });
    expect(needsForce(force)).toBe(true);
    expect(needsForce(new ApiError("neuro3 already has a read of scan 3.", 409))).toBe(false);
    expect(needsForce(new Error("force"))).toBe(false);
  });

  it("reports what happened", () => {
    expect(doneMessage("reassign", row, false, "neuro1")).toBe("Read 8 now belongs to neuro1.");
    expect(doneMessage("reassign", row, true, "neuro1")).toBe("Read 8 was withdrawn; neuro1 has a fresh read of scan 3.");
    expect(doneMessage("unassign", row, false)).toBe("Read 8 was unassigned and removed.");
  });
});

import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { doneMessage, forceExplanation, hasWork, needsForce, type ReadRow } from "./read-change";

const row = (overrides: Partial<ReadRow> = {}): ReadRow => ({ id: 8, scan: 3, readerName: "neuro2", status: "assigned", labelled: 0, ...overrides });

describe("read changes", () => {
  it("sees work in labels or a completed read", () => {
    expect(hasWork(row())).toBe(false);
    expect(hasWork(row({ status: "in_progress" }))).toBe(false);
    expect(hasWork(row({ status: "in_progress", labelled: 4 }))).toBe(true);
    expect(hasWork(row({ status: "completed" }))).toBe(true);
  });

  it("recognises the server's request for force", () => {
    const force = new ApiError("This read has labels; unassign with force to withdraw it.", 409, { needs_force: true });
    expect(needsForce(force)).toBe(true);
    expect(needsForce(new ApiError("neuro3 already has a read of scan 3.", 409))).toBe(false);
    expect(needsForce(new ApiError("Say force in the message", 409))).toBe(false);
    expect(needsForce(new Error("force"))).toBe(false);
  });

  it("explains what a withdrawal keeps and what follows", () => {
    expect(forceExplanation("reassign", row({ labelled: 1 }))).toMatch(/^neuro2's read has 1 labelled slice\. It will be withdrawn.*fresh read/);
    expect(forceExplanation("unassign", row({ status: "completed" }))).toMatch(/has work\..*adjudication queue/);
  });

  it("reports what happened", () => {
    expect(doneMessage("reassign", row(), false, "neuro1")).toBe("Read 8 now belongs to neuro1.");
    expect(doneMessage("reassign", row(), true, "neuro1")).toBe("Read 8 was withdrawn; neuro1 has a fresh read of scan 3.");
    expect(doneMessage("unassign", row(), false)).toBe("Read 8 was unassigned and removed.");
  });
});

import { describe, expect, it } from "vitest";

import { exportProgressText } from "./export-jobs";

const job = { scans_done: 40, scans_total: 121, message: "", file_bytes: null };

describe("exportProgressText", () => {
  it("counts the scans done while the reports are built", () => {
    expect(exportProgressText({ ...job, status: "pending" })).toBe("Export queued (121 scans).");
    expect(exportProgressText({ ...job, status: "running" })).toBe("Building the reports: 40 of 121 scans.");
  });

  it("says what came of it: the file's size, or the reason it failed", () => {
    expect(exportProgressText({ ...job, status: "succeeded", scans_done: 121, file_bytes: 2_345_678 })).toBe("Ready: 121 scans, 2.3 MB.");
    expect(exportProgressText({ ...job, status: "failed", message: "The export could not be written: No space left on device." })).toBe(
      "The export could not be written: No space left on device.",
    );
  });
});

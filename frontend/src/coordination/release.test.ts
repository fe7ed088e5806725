import { describe, expect, it } from "vitest";
import { releaseLines } from "./release";

const base = { version: 2, name: "round-1", scans: 12, slices: 400, readers: 3, reader_scans: 36, scans_still_read: 0, refusal: "" };

describe("releaseLines", () => {
  it("says who sees what, from the server's numbers", () => {
    expect(releaseLines(base)).toEqual([
      "round-1 holds 12 scans (400 slices).",
      "3 neuroradiologists will see its ground truth, each only for the scans they completed a read of (36 scan reads in all), never other readers' labels.",
      "Training is not affected: ML engineers make datasets of any frozen version, released or not.",
    ]);
  });

  it("names scans read again and a version no reader has read", () => {
    const lines = releaseLines({ ...base, scans: 1, slices: 1, readers: 0, reader_scans: 0, scans_still_read: 1 });
    expect(lines[1]).toBe("No neuroradiologist has completed a read of its scans: no reader sees anything yet.");
    expect(lines[2]).toBe("1 scan of it is being read again: those readers see it once they complete their read.");
  });
});

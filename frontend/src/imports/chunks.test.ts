import { describe, expect, it } from "vitest";
import { UploadProgress, formatBytes, planChunks, progressMessage, relativePath } from "./chunks";

const MB = 1024 * 1024;
const files = (...sizes: number[]) => sizes.map((size, i) => ({ size, i }));

describe("planChunks", () => {
  it("keeps every file, in order", () => {
    const items = files(...Array.from({ length: 103 }, () => 1000));
    const chunks = planChunks(items);
    expect(chunks.flat()).toEqual(items);
  });

  it("puts at most 25 files in a chunk", () => {
    const chunks = planChunks(files(...Array.from({ length: 60 }, () => 10)));
    expect(chunks.map((c) => c.length)).toEqual([25, 25, 10]);
  });

  it("keeps a chunk within 32 MB", () => {
    const chunks = planChunks(files(20 * MB, 10 * MB, 5 * MB, 1 * MB));
    expect(chunks.map((c) => c.map((f) => f.i))).toEqual([[0, 1], [2, 3]]);
  });

  it("sends a file over the byte limit alone", () => {
    const chunks = planChunks(files(1 * MB, 100 * MB, 1 * MB));
    expect(chunks.map((c) => c.map((f) => f.i))).toEqual([[0], [1], [2]]);
  });

  it("fills a chunk exactly to the limit", () => {
    const chunks = planChunks(files(16 * MB, 16 * MB, 1));
    expect(chunks.map((c) => c.length)).toEqual([2, 1]);
  });

  it("plans nothing for no files", () => {
    expect(planChunks([])).toEqual([]);
  });

  it("honours other limits and refuses impossible ones", () => {
    expect(planChunks(files(1, 1, 1), { maxFiles: 2, maxBytes: 100 }).map((c) => c.length)).toEqual([2, 1]);
    expect(() => planChunks(files(1), { maxFiles: 0, maxBytes: 1 })).toThrow(RangeError);
  });
});

describe("relativePath", () => {
  it("uses the path inside a chosen folder", () => {
    expect(relativePath({ name: "1.dcm", webkitRelativePath: "scan/1.dcm" })).toBe("scan/1.dcm");
  });

  it("falls back to the file name", () => {
    expect(relativePath({ name: "scans.zip", webkitRelativePath: "" })).toBe("scans.zip");
  });
});

describe("UploadProgress", () => {
  const chunks = [files(100, 100, 100), files(50, 50)];

  it("starts at zero", () => {
    const p = new UploadProgress(chunks);
    expect(p.snapshot()).toEqual({ filesSent: 0, filesTotal: 5, bytesSent: 0, bytesTotal: 400 });
  });

  it("scales the request's bytes (multipart framing included) to the chunk's file bytes", () => {
    const p = new UploadProgress(chunks);
    p.begin(chunks[0]!);
    p.update(500, 1000); // half of the request body
    expect(p.snapshot()).toMatchObject({ bytesSent: 150, filesSent: 1 });
  });

  it("counts a chunk's last file only when the server accepted the chunk", () => {
    const p = new UploadProgress(chunks);
    p.begin(chunks[0]!);
    p.update(1000, 1000);
    expect(p.snapshot()).toMatchObject({ bytesSent: 300, filesSent: 2 });
    p.complete();
    expect(p.snapshot()).toMatchObject({ bytesSent: 300, filesSent: 3 });
  });

  it("adds up over chunks and never goes backwards", () => {
    const p = new UploadProgress(chunks);
    p.begin(chunks[0]!);
    p.complete();
    p.begin(chunks[1]!);
    p.update(80, 100);
    p.update(10, 100); // a late, smaller event
    expect(p.snapshot()).toMatchObject({ bytesSent: 380, filesSent: 4 });
    p.complete();
    expect(p.snapshot()).toEqual({ filesSent: 5, filesTotal: 5, bytesSent: 400, bytesTotal: 400 });
  });
});

describe("messages", () => {
  it("reads like a sentence", () => {
    expect(
      progressMessage({ filesSent: 120, filesTotal: 400, bytesSent: 35e6, bytesTotal: 110e6 }),
    ).toBe("Uploading 120 of 400 files (35 MB of 110 MB)");
    expect(progressMessage({ filesSent: 0, filesTotal: 1, bytesSent: 0, bytesTotal: 2048 })).toBe(
      "Uploading 0 of 1 file (0 B of 2.0 kB)",
    );
  });

  it("formats bytes in SI units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.5 kB");
    expect(formatBytes(3.44e6)).toBe("3.4 MB");
    expect(formatBytes(110e6)).toBe("110 MB");
    expect(formatBytes(999_999)).toBe("1.0 MB");
    expect(formatBytes(2.5e9)).toBe("2.5 GB");
  });
});

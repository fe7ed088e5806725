import { describe, expect, it } from "vitest";
import { mapsStateText, nearestFirst, overlayUrl, scoresText, type ScanMaps } from "./maps";

const maps = (over: Partial<ScanMaps>): ScanMaps => ({
  id: 7,
  model_version: 3,
  scan: 11,
  hemorrhage_class: "sdh",
  status: "pending",
  message: "",
  progress: 0,
  scores: {},
  url: "/api/v1/modelops/scan-saliency/7/",
  overlay_url: "/api/v1/modelops/scan-saliency/7/{method}/{index}.png",
  ...over,
});

describe("nearestFirst", () => {
  it("goes outwards from the slice on screen and covers every slice once", () => {
    expect(nearestFirst(6, 2)).toEqual([2, 3, 1, 4, 0, 5]);
    expect(nearestFirst(4, 0)).toEqual([0, 1, 2, 3]);
    expect(nearestFirst(3, 2)).toEqual([2, 1, 0]);
    expect(nearestFirst(0, 0)).toEqual([]);
  });
});

describe("overlayUrl", () => {
  it("fills the method and the slice's position index", () => {
    expect(overlayUrl(maps({}).overlay_url, "gradcam", 12)).toBe("/api/v1/modelops/scan-saliency/7/gradcam/12.png");
  });
});

describe("scoresText", () => {
  it("gives the classes in the vocabulary's order as percentages and skips missing ones", () => {
    expect(scoresText({ sdh: 0.456, any: 0.93, iph: 0.04 })).toBe("Any 93% · IPH 4% · SDH 46%");
    expect(scoresText({})).toBe("");
  });
});

describe("mapsStateText", () => {
  it("says where the maps are on their way, and why they failed", () => {
    expect(mapsStateText(maps({ status: "pending" }))).toMatch(/SDH queued/);
    expect(mapsStateText(maps({ status: "running", progress: 0.5 }))).toBe("Computing the maps of SDH… 50%");
    expect(mapsStateText(maps({ status: "succeeded" }))).toBe("");
    expect(mapsStateText(maps({ status: "failed", message: "scan 4: file gone" }))).toMatch(/could not be computed: scan 4: file gone/);
  });
});

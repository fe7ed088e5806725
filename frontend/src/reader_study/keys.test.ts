import { describe, expect, it } from "vitest";
import { movedConfidence, studyKeyAction, studyPresets } from "./keys";

const presets = [
  { key: "b", name: "Brain", center: 40, width: 80 },
  { key: "y", name: "Taken", center: 1, width: 2 },
];
const key = (k: string, extra: Partial<KeyboardEvent> = {}) =>
  studyKeyAction({ key: k, ctrlKey: false, metaKey: false, altKey: false, repeat: false, ...extra }, presets);

describe("studyKeyAction", () => {
  it("answers, toggles subtypes, moves the confidence and submits", () => {
    expect(key("y")).toEqual({ kind: "any", value: true });
    expect(key("N")).toEqual({ kind: "any", value: false });
    expect(key("1")).toEqual({ kind: "subtype", subtype: "iph" });
    expect(key("5")).toEqual({ kind: "subtype", subtype: "edh" });
    expect(key("6")).toBeNull();
    expect(key("0")).toBeNull();
    expect(key("]")).toEqual({ kind: "confidence", delta: 5 });
    expect(key("{")).toEqual({ kind: "confidence", delta: -1 });
    expect(key("Enter")).toEqual({ kind: "submit" });
  });

  it("keeps the viewer's keys and drops presets on the page's keys", () => {
    expect(key("ArrowUp")).toEqual({ kind: "move", delta: 1 });
    expect(key("PageDown")).toEqual({ kind: "move", delta: -1 });
    expect(key("t")).toEqual({ kind: "overlay" });
    expect(key("b")).toEqual({ kind: "preset", preset: presets[0] });
    expect(studyPresets(presets)).toEqual([presets[0]]);
    expect(key("?")).toEqual({ kind: "help" });
  });

  it("ignores modified keys and held answer keys; a held bracket keeps moving", () => {
    expect(key("y", { ctrlKey: true })).toBeNull();
    expect(key("Enter", { repeat: true })).toBeNull();
    expect(key("2", { repeat: true })).toBeNull();
    expect(key("]", { repeat: true })).toEqual({ kind: "confidence", delta: 5 });
  });
});

describe("movedConfidence", () => {
  it("starts from 50 and stays in 0..100", () => {
    expect(movedConfidence(null, 5)).toBe(55);
    expect(movedConfidence(98, 5)).toBe(100);
    expect(movedConfidence(2, -5)).toBe(0);
  });
});

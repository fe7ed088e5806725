import { describe, expect, it } from "vitest";
import { WINDOW_PRESETS } from "../generated/vocabulary";
import { likertKeyAction, likertPresets } from "./keys";

type Mods = Partial<Pick<KeyboardEvent, "ctrlKey" | "metaKey" | "altKey" | "repeat">>;
const key = (k: string, mods: Mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, repeat: false, ...mods });
const action = (k: string, mods: Mods = {}) => likertKeyAction(key(k, mods), WINDOW_PRESETS);

describe("likertKeyAction", () => {
  it("scores with 1-4, undoes with U or Ctrl+Z, moves with arrows and pages", () => {
    expect(action("1")).toEqual({ kind: "score", score: 1 });
    expect(action("4")).toEqual({ kind: "score", score: 4 });
    expect(action("U")).toEqual({ kind: "undo" });
    expect(action("z", { ctrlKey: true })).toEqual({ kind: "undo" });
    expect(action("z", { metaKey: true })).toEqual({ kind: "undo" });
    expect(action("ArrowRight")).toEqual({ kind: "move", delta: 1 });
    expect(action("PageDown")).toEqual({ kind: "move", delta: 1 });
    expect(action("ArrowLeft")).toEqual({ kind: "move", delta: -1 });
    expect(action("PageUp")).toEqual({ kind: "move", delta: -1 });
  });

  it("toggles the overlay and the help, resets the view, and applies window presets", () => {
    expect(action("t")).toEqual({ kind: "overlay" });
    expect(action("h")).toEqual({ kind: "help" });
    expect(action("?")).toEqual({ kind: "help" });
    expect(action("Escape")).toEqual({ kind: "escape" });
    expect(action("r")).toEqual({ kind: "reset" });
    expect(action("B")).toMatchObject({ kind: "preset", preset: { center: 40, width: 80 } });
  });

  it("scores once for a held key and leaves other keys and browser shortcuts alone", () => {
    expect(action("3", { repeat: true })).toBeNull();
    expect(action("u", { repeat: true })).toBeNull();
    expect(action("ArrowRight", { repeat: true })).toEqual({ kind: "move", delta: 1 });
    expect(action("0")).toBeNull();
    expect(action("5")).toBeNull();
    expect(action("1", { ctrlKey: true })).toBeNull();
    expect(action("r", { ctrlKey: true })).toBeNull();
    expect(action("Tab")).toBeNull();
  });
});

describe("likertPresets", () => {
  it("never puts a preset on the page's own keys", () => {
    const site = [
      { key: "t", name: "Tissue", center: 40, width: 400 },
      { key: "2", name: "Two", center: 1, width: 2 },
      { key: "k", name: "Stroke", center: 35, width: 40 },
    ];
    expect(likertPresets(site).map((p) => p.key)).toEqual(["k"]);
    expect(likertKeyAction(key("t"), site)).toEqual({ kind: "overlay" });
    expect(likertPresets(WINDOW_PRESETS).map((p) => p.key)).toEqual(["q", "w", "e", "b", "s", "o"]);
  });
});

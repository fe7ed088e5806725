import { describe, expect, it } from "vitest";
import { keyAction } from "./keys";

const key = (k: string, mods: Partial<Pick<KeyboardEvent, "shiftKey" | "ctrlKey" | "metaKey" | "altKey">> = {}) =>
  ({ key: k, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, ...mods }) as KeyboardEvent;

describe("keyAction", () => {
  it("maps the reader's keys", () => {
    expect(keyAction(key("ArrowUp"))).toEqual({ kind: "move", delta: 1, extend: false });
    expect(keyAction(key("ArrowDown", { shiftKey: true }))).toEqual({ kind: "move", delta: -1, extend: true });
    expect(keyAction(key("4"))).toEqual({ kind: "toggle", field: "sdh" });
    expect(keyAction(key("0"))).toEqual({ kind: "toggle", field: "no_hemorrhage" });
    expect(keyAction(key("z", { ctrlKey: true }))).toEqual({ kind: "undo" });
    expect(keyAction(key("U"))).toEqual({ kind: "undo" });
    expect(keyAction(key("Z", { ctrlKey: true, shiftKey: true }))).toEqual({ kind: "redo" });
    expect(keyAction(key("y", { ctrlKey: true }))).toEqual({ kind: "redo" });
    expect(keyAction(key("y", { metaKey: true }))).toEqual({ kind: "redo" });
    expect(keyAction(key("e"))).toMatchObject({ kind: "preset", preset: { center: 150, width: 300 } });
    expect(keyAction(key("D"))).toEqual({ kind: "done" });
  });

  it("leaves browser shortcuts alone", () => {
    expect(keyAction(key("r", { ctrlKey: true }))).toBeNull();
    expect(keyAction(key("6"))).toBeNull();
    expect(keyAction(key("Tab"))).toBeNull();
  });
});

/** The reader's keyboard map: a key event to an action (null: not the reader's key). */
import { SUBTYPES, type LabelField } from "./labels";
import { WINDOW_PRESETS, type WindowPreset } from "../viewer/presets";

export type KeyAction =
  | { kind: "move"; delta: number; extend: boolean }
  | { kind: "toggle"; field: LabelField }
  | { kind: "copy-previous" }
  | { kind: "undo" }
  | { kind: "reset" }
  | { kind: "preset"; preset: WindowPreset }
  | { kind: "done" }
  | { kind: "help" }
  | { kind: "clear-selection" };

export function keyAction(event: KeyboardEvent): KeyAction | null {
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === "z") return { kind: "undo" };
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  switch (key) {
    case "ArrowUp":
    case "PageUp":
      return { kind: "move", delta: 1, extend: event.shiftKey };
    case "ArrowDown":
    case "PageDown":
      return { kind: "move", delta: -1, extend: event.shiftKey };
    case "Escape":
      return { kind: "clear-selection" };
    case "?":
      return { kind: "help" };
    case "0":
      return { kind: "toggle", field: "no_hemorrhage" };
  }
  const digit = "12345".indexOf(key);
  if (digit >= 0 && key.length === 1) return { kind: "toggle", field: SUBTYPES[digit] as LabelField };
  const lower = key.toLowerCase();
  if (key.length !== 1) return null;
  if (lower === "c") return { kind: "copy-previous" };
  if (lower === "u") return { kind: "undo" };
  if (lower === "r") return { kind: "reset" };
  if (lower === "d") return { kind: "done" };
  if (lower === "h") return { kind: "help" };
  const preset = WINDOW_PRESETS.find((p) => p.key === lower);
  return preset ? { kind: "preset", preset } : null;
}

/** The reader's keyboard map: a key event to an action (null: not the reader's key). */
import { ACTION_KEYS, LABEL_KEYS, type LabelField, type ReaderAction } from "../generated/vocabulary";
import { WINDOW_PRESETS, type WindowPreset } from "../viewer/presets";

export type KeyAction =
  | { kind: "move"; delta: number; extend: boolean }
  | { kind: "toggle"; field: LabelField }
  | { kind: ReaderAction }
  | { kind: "redo" }
  | { kind: "preset"; preset: WindowPreset }
  | { kind: "clear-selection" };

const labelKeys: Readonly<Record<string, LabelField>> = LABEL_KEYS;
const actionKeys: Readonly<Record<string, ReaderAction>> = ACTION_KEYS;

/** The key that toggles each label field, as the buttons' titles show it. */
export const FIELD_KEYS = Object.fromEntries(Object.entries(LABEL_KEYS).map(([key, field]) => [field, key])) as Record<
  LabelField,
  string
>;

export function keyAction(event: KeyboardEvent): KeyAction | null {
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && !event.altKey) {
    const lower = key.toLowerCase();
    if (lower === "z") return { kind: event.shiftKey ? "redo" : "undo" };
    if (lower === "y" && !event.shiftKey) return { kind: "redo" };
  }
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
  }
  if (key.length !== 1) return null;
  const field = labelKeys[key];
  if (field) return { kind: "toggle", field };
  const lower = key.toLowerCase();
  const action = actionKeys[lower];
  if (action) return { kind: action };
  const preset = WINDOW_PRESETS.find((p) => p.key === lower);
  return preset ? { kind: "preset", preset } : null;
}

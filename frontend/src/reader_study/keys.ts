/** The reader-study reading page's keyboard map: a key event to an action (null: not the
 * page's key). Y/N answer "any ICH", 1-5 toggle the subtypes, [ and ] move the confidence by 5
 * ({ and } by 1), Enter submits; the viewer's keys (slices, reset, window presets, overlay,
 * help) are the reading view's. */
import { SUBTYPES, type Subtype } from "../generated/vocabulary";
import type { WindowPreset } from "../viewer/presets";

export type StudyAction =
  | { kind: "any"; value: boolean }
  | { kind: "subtype"; subtype: Subtype }
  | { kind: "confidence"; delta: number }
  | { kind: "submit" }
  | { kind: "move"; delta: 1 | -1 }
  | { kind: "overlay" }
  | { kind: "reset" }
  | { kind: "preset"; preset: WindowPreset }
  | { kind: "help" }
  | { kind: "escape" };

/** The page's own letter, digit and sign keys: a window preset on one of them is dropped. */
export const STUDY_KEYS: readonly string[] = ["y", "n", "1", "2", "3", "4", "5", "[", "]", "{", "}", "t", "r", "h", "?"];

const LETTERS: Readonly<Record<string, StudyAction>> = {
  y: { kind: "any", value: true },
  n: { kind: "any", value: false },
  "[": { kind: "confidence", delta: -5 },
  "]": { kind: "confidence", delta: 5 },
  "{": { kind: "confidence", delta: -1 },
  "}": { kind: "confidence", delta: 1 },
  t: { kind: "overlay" },
  r: { kind: "reset" },
  h: { kind: "help" },
  "?": { kind: "help" },
};

/** The window presets that can be reached here (none on the page's own keys). */
export function studyPresets(presets: readonly WindowPreset[]): readonly WindowPreset[] {
  return presets.filter((preset) => !STUDY_KEYS.includes(preset.key.toLowerCase()));
}

type KeyEvent = Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "repeat">;

export function studyKeyAction(event: KeyEvent, presets: readonly WindowPreset[]): StudyAction | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const key = event.key;
  switch (key) {
    case "ArrowUp":
    case "PageUp":
      return { kind: "move", delta: 1 };
    case "ArrowDown":
    case "PageDown":
      return { kind: "move", delta: -1 };
    case "Escape":
      return { kind: "escape" };
    case "Enter":
      return event.repeat ? null : { kind: "submit" };
  }
  if (key.length !== 1) return null;
  const digit = Number(key);
  if (Number.isInteger(digit) && digit >= 1 && digit <= SUBTYPES.length) {
    return event.repeat ? null : { kind: "subtype", subtype: SUBTYPES[digit - 1]! };
  }
  const lower = key.toLowerCase();
  const action = LETTERS[lower];
  if (action) return event.repeat && action.kind !== "confidence" ? null : action;
  const preset = studyPresets(presets).find((p) => p.key.toLowerCase() === lower);
  return preset ? { kind: "preset", preset } : null;
}

/** A confidence moved by `delta`, kept in 0..100; an unset one starts from 50. */
export function movedConfidence(current: number | null, delta: number): number {
  return Math.min(100, Math.max(0, (current ?? 50) + delta));
}

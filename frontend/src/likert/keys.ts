/** The scoring page's keyboard map: a key event to an action (null: not the page's key). */
import type { WindowPreset } from "../viewer/presets";
import { isScore, type Score } from "./scores";

export type LikertAction =
  | { kind: "score"; score: Score }
  | { kind: "undo" }
  | { kind: "move"; delta: 1 | -1 }
  | { kind: "overlay" }
  | { kind: "reset" }
  | { kind: "preset"; preset: WindowPreset }
  | { kind: "help" }
  | { kind: "escape" };

/** The page's own letter and digit keys: a window preset on one of them is dropped. */
export const LIKERT_KEYS: readonly string[] = ["1", "2", "3", "4", "u", "t", "r", "h", "?"];

const LETTERS: Readonly<Record<string, LikertAction>> = {
  u: { kind: "undo" },
  t: { kind: "overlay" },
  r: { kind: "reset" },
  h: { kind: "help" },
  "?": { kind: "help" },
};

/** The window presets that can be reached here (none on the page's own keys). */
export function likertPresets(presets: readonly WindowPreset[]): readonly WindowPreset[] {
  return presets.filter((preset) => !LIKERT_KEYS.includes(preset.key.toLowerCase()));
}

type KeyEvent = Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "repeat">;

export function likertKeyAction(event: KeyEvent, presets: readonly WindowPreset[]): LikertAction | null {
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === "z") {
    return event.repeat ? null : { kind: "undo" };
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  switch (key) {
    case "ArrowRight":
    case "ArrowDown":
    case "PageDown":
      return { kind: "move", delta: 1 };
    case "ArrowLeft":
    case "ArrowUp":
    case "PageUp":
      return { kind: "move", delta: -1 };
    case "Escape":
      return { kind: "escape" };
  }
  if (key.length !== 1) return null;
  // A held key scores (or undoes) once, not case after case.
  const digit = Number(key);
  if (isScore(digit)) return event.repeat ? null : { kind: "score", score: digit };
  const lower = key.toLowerCase();
  const action = LETTERS[lower];
  if (action) return event.repeat ? null : action;
  const preset = likertPresets(presets).find((p) => p.key.toLowerCase() === lower);
  return preset ? { kind: "preset", preset } : null;
}

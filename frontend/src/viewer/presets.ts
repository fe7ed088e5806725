/** Window presets (center/width in HU) on keys, as the help overlay lists them. */
import { READER_KEYS, WINDOW_PRESETS as DEFAULT_PRESETS } from "../generated/vocabulary";

/** A preset as the page carries it (a site's own may have any key and name). */
export interface WindowPreset {
  key: string;
  name: string;
  center: number;
  width: number;
}

/** The site's presets from the page (`<script id="window-presets">`, set in Django's
 * settings), else the defaults; malformed entries, taken keys and repeated keys are dropped. */
export function loadPresets(doc: Document | undefined = globalThis.document): readonly WindowPreset[] {
  const source = doc?.getElementById("window-presets")?.textContent;
  if (!source) return DEFAULT_PRESETS;
  try {
    const parsed: unknown = JSON.parse(source);
    if (!Array.isArray(parsed)) return DEFAULT_PRESETS;
    // The reader's own keys: the server's settings check refuses presets on them, and the
    // page ignores any that slip by.
    const taken = new Set<string>(READER_KEYS);
    const presets = parsed
      .filter(isPreset)
      .map((p) => ({ ...p, key: p.key.toLowerCase() }))
      .filter((p) => !taken.has(p.key) && Boolean(taken.add(p.key)));
    return presets.length ? presets : DEFAULT_PRESETS;
  } catch {
    return DEFAULT_PRESETS;
  }
}

function isPreset(value: unknown): value is WindowPreset {
  const p = value as WindowPreset;
  return (
    typeof p === "object" && p !== null && typeof p.key === "string" && p.key.length === 1 &&
    typeof p.name === "string" && Number.isFinite(p.center) && Number.isFinite(p.width) && p.width > 0
  );
}

export const WINDOW_PRESETS: readonly WindowPreset[] = loadPresets();

/** The VOI range of a window, by DICOM's linear function (PS3.3 C.11.2.1.2), as Cornerstone
 * reads a file's own window: centre 40, width 80 spans 0 to 79. */
export function voiRange(window: { center: number; width: number }): { lower: number; upper: number } {
  return { lower: window.center - 0.5 - (window.width - 1) / 2, upper: window.center - 0.5 + (window.width - 1) / 2 };
}

/** The window (centre/width) of a VOI range: the inverse of `voiRange`. */
export function windowOf(range: { lower: number; upper: number }): { center: number; width: number } {
  return { center: (range.lower + range.upper + 1) / 2, width: range.upper - range.lower + 1 };
}

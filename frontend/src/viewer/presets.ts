/** Window presets (center/width in HU) on keys, as the help overlay lists them. */
export interface WindowPreset {
  key: string;
  name: string;
  center: number;
  width: number;
}

export const WINDOW_PRESETS: readonly WindowPreset[] = [
  { key: "q", name: "Narrow", center: 50, width: 100 },
  { key: "w", name: "Medium", center: 50, width: 130 },
  { key: "e", name: "Wide (paper)", center: 150, width: 300 },
  { key: "b", name: "Brain", center: 40, width: 80 },
  { key: "s", name: "Subdural", center: 75, width: 215 },
  { key: "o", name: "Bone", center: 600, width: 2800 },
];

/** The VOI range of a preset. */
export function voiRange(preset: { center: number; width: number }): { lower: number; upper: number } {
  return { lower: preset.center - preset.width / 2, upper: preset.center + preset.width / 2 };
}

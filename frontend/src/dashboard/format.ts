/** Number formats of the dashboard's tables. */
import type { Estimate } from "./types";

/** "0.82 (0.78–0.86)"; "—" where the statistic is undefined. */
export function estimateText(value: Estimate, digits = 2, percent = false): string {
  const show = (x: number): string => (percent ? `${(x * 100).toFixed(digits - 1)}%` : x.toFixed(digits));
  if (value.estimate === null) return "—";
  const interval = value.ci_low === null || value.ci_high === null ? "" : ` (${show(value.ci_low)}–${show(value.ci_high)})`;
  return show(value.estimate) + interval;
}

/** A colour for a kappa in [-1, 1]: red (disagreement) through white (chance) to green. */
export function kappaColour(kappa: number | null): string {
  if (kappa === null) return "#eceff3";
  const k = Math.max(-1, Math.min(1, kappa));
  const [r, g, b] = k >= 0 ? mix([255, 255, 255], [22, 163, 74], k) : mix([255, 255, 255], [220, 38, 38], -k);
  return `rgb(${r}, ${g}, ${b})`;
}

function mix(from: number[], to: number[], t: number): number[] {
  return from.map((value, i) => Math.round(value + (to[i]! - value) * t));
}

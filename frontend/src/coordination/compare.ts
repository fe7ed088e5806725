/** Reading a comparison of two ground-truth versions: changes per class, and per changed row. */
import type { ChangedRow, GroundTruthComparison } from "../api/coordination";
import { HEMORRHAGE_CLASSES, type HemorrhageClass } from "../generated/vocabulary";

export interface ClassChange {
  label: HemorrhageClass;
  slices: number;
  scans: number;
}

/** Rows whose labels changed, per class, at slice and scan level (any first, then subtypes). */
export function changesByClass(comparison: GroundTruthComparison): ClassChange[] {
  return HEMORRHAGE_CLASSES.map((label) => ({
    label,
    slices: comparison.slices.changed_by_class[label] ?? 0,
    scans: comparison.scans.changed_by_class[label] ?? 0,
  }));
}

/** The classes of a changed row, each with its direction ("IPH +" gained, "SDH −" lost). */
export function rowChanges(row: ChangedRow): string[] {
  return HEMORRHAGE_CLASSES.filter((label) => row.a[label] !== row.b[label]).map(
    (label) => `${label.toUpperCase()} ${row.b[label] ? "+" : "−"}`,
  );
}

/** One line on what the comparison found. */
export function comparisonHeadline(comparison: GroundTruthComparison): string {
  const { a, b, slices, scans } = comparison;
  if (comparison.identical) return `${a.name} and ${b.name} hold identical ground truth (same content hash).`;
  const parts = [
    `${scans.changed} scan${scans.changed === 1 ? "" : "s"} and ${slices.changed} slice${slices.changed === 1 ? "" : "s"} changed`,
  ];
  if (scans.only_in_a) parts.push(`${scans.only_in_a} scan${scans.only_in_a === 1 ? "" : "s"} only in ${a.name}`);
  if (scans.only_in_b) parts.push(`${scans.only_in_b} scan${scans.only_in_b === 1 ? "" : "s"} only in ${b.name}`);
  return `From ${a.name} to ${b.name}: ${parts.join("; ")}.`;
}

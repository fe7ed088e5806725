/**
 * What an assignment preview shows: the planned reads grouped per scan (primary reader,
 * cross-readers of a validation scan, the scan-level reads of a test scan) and how many reads
 * each reader would get. The names are those of the reads table (annotations.assignment.plan
 * read_role): "Primary read", "Cross-read", "Scan-level read of the test set".
 */
import type { PlannedRead, ReadLevel } from "../api/coordination";

export interface ScanPlan {
  scan: number;
  level: ReadLevel;
  primary: string | null;
  /** Cross-readers (slice level) or the other scan-level readers, in plan order. */
  others: string[];
}

export interface PlanSummary {
  scans: ScanPlan[];
  /** [reader, reads added], most first, then by name. */
  perReader: [string, number][];
  reads: number;
}

/** A reader's name, or "reader <id>" when the page does not know them. */
export const readerName = (names: Record<string, string>, id: number): string => names[String(id)] ?? `reader ${id}`;

export function summarisePlan(reads: PlannedRead[], names: Record<string, string>): PlanSummary {
  const byScan = new Map<number, ScanPlan>();
  const counts = new Map<string, number>();
  for (const read of reads) {
    const name = readerName(names, read.reader);
    let plan = byScan.get(read.scan);
    if (!plan) {
      plan = { scan: read.scan, level: read.level, primary: null, others: [] };
      byScan.set(read.scan, plan);
    }
    if (read.kind === "primary") plan.primary = name;
    else plan.others.push(name);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const perReader = [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  return { scans: [...byScan.values()], perReader, reads: reads.length };
}

/** How the non-primary readers of a scan are called in the preview. */
export function othersLabel(plan: ScanPlan): string {
  if (plan.level === "scan") return "scan-level reads of the test set";
  return plan.others.length ? "cross-readers" : "";
}

/** The readers of a planned scan as one line: "a (primary); cross-readers: b, c". */
export function describeScanPlan(plan: ScanPlan): string {
  if (plan.level === "scan") {
    const trio = [plan.primary, ...plan.others].filter((name): name is string => name !== null);
    return `${othersLabel(plan)}: ${trio.join(", ")}`;
  }
  const parts: string[] = [];
  if (plan.primary) parts.push(`${plan.primary} (primary)`);
  if (plan.others.length) parts.push(`cross-readers: ${plan.others.join(", ")}`);
  return parts.join("; ");
}

/**
 * What the confirmation of a split change says, from the server's numbers
 * (`/api/v1/centers/<id>/split/change/`): the scans that move, the reads on them per reading
 * role, the reads the new split still needs, the frozen ground-truth versions that keep the
 * split they froze, and, when the server refuses the change, its reasons.
 */
import type { Schemas, Split } from "../api/types";

export type SplitChange = Schemas["CenterSplitChange"];

const SPLIT_NAMES: Record<Split, string> = { train: "training", validation: "validation", test: "test" };
const LEVEL_WORDS = { slice: "slice by slice", scan: "at scan level" } as const;

export const splitName = (split: Split): string => SPLIT_NAMES[split];

const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

export interface SplitChangeText {
  title: string;
  /** One line per consequence, in the order the dialog lists them. */
  lines: string[];
  /** The server's reasons for refusing; empty when the change may go ahead. */
  refusals: string[];
}

export function describeSplitChange(change: SplitChange): SplitChangeText {
  const from = splitName(change.from_split);
  const to = splitName(change.to_split);
  const title = `Move ${change.center_name} from the ${from} to the ${to} split?`;
  const lines = [`${count(change.scans, "scan")} (${count(change.slices, "slice")}) move to the ${to} split.`];
  const reads = change.reads.filter((row) => row.open || row.completed);
  lines.push(
    reads.length
      ? `Reads on these scans: ${reads.map((row) => `${row.role}: ${row.open} open, ${row.completed} completed`).join("; ")}.`
      : "No reads are assigned on these scans yet.",
  );
  if (change.reads_per_scan_before !== change.reads_per_scan_after) {
    lines.push(`A ${to} scan needs ${count(change.reads_per_scan_after, "read")} (a ${from} scan ${change.reads_per_scan_before}).`);
  }
  if (change.scans_needing_reads) {
    lines.push(
      `${count(change.scans_needing_reads, "scan")} then lack ${count(change.reads_to_assign, "read")} ` +
        "(assign them on the Reading page); until then new ground-truth versions leave them out.",
    );
  }
  if (change.completed_at_other_level) {
    const other = change.to_split === "test" ? LEVEL_WORDS.slice : LEVEL_WORDS.scan;
    lines.push(
      `${count(change.completed_at_other_level, "completed read")} were read ${other}: they are kept, ` +
        "and these scans' ground truth follows the level they were read at.",
    );
  }
  lines.push(
    change.ground_truth_versions.length
      ? "Ground-truth versions that froze these scans keep the split they froze: " +
          change.ground_truth_versions
            .map((v) => `${v.name} (${count(v.scans, "scan")}, ${v.splits.map(splitName).join(" and ")}${v.released ? ", released" : ""})`)
            .join("; ") +
          "."
      : "No ground-truth version holds these scans yet.",
  );
  return { title, lines, refusals: change.refused ? change.refusals : [] };
}

/**
 * Adjudication decisions: what kind of decision an item needs, the request that records it,
 * and how the readers' votes read in the item view.
 */
import {
  type AdjudicationItem,
  type AdjudicationItemDetail,
  type LabelValues,
  type ReadLevel,
  type ResolveRequest,
  type SubtypeValues,
  type Vote,
} from "../api/coordination";
import { SUBTYPES, type Subtype } from "../generated/vocabulary";

export type Decision =
  | { kind: "vote"; value: boolean | null }
  | { kind: "scan"; values: SubtypeValues }
  | { kind: "slices"; slices: Map<number, SubtypeValues> };

/** Whether an item is one subtype of one slice (or scan) decided present or absent: a split vote,
 * or a second read that disagrees with the earlier reads. */
export function isVoteItem(item: Pick<AdjudicationItem, "reason">): boolean {
  return item.reason === "split_vote" || item.reason === "second_read";
}

/** A vote (split or second read) is decided yes or no; a missing read by the scan's labels at its level. */
export function decisionKind(item: Pick<AdjudicationItem, "reason">, level: ReadLevel): Decision["kind"] {
  if (isVoteItem(item)) return "vote";
  return level === "scan" ? "scan" : "slices";
}

/** The resolve request of a decision; throws an Error whose message tells what is missing. */
export function resolveRequest(decision: Decision, reason: string): ResolveRequest {
  const why = reason.trim();
  if (decision.kind === "vote" && decision.value === null) {
    throw new Error("Choose present or absent.");
  }
  if (!why) throw new Error("Give the reason for the decision.");
  switch (decision.kind) {
    case "vote":
      return { reason: why, value: decision.value === true };
    case "scan":
      return { reason: why, scan: onlyTrue(decision.values) };
    case "slices": {
      const slices = [...decision.slices.entries()]
        .map(([index, values]) => ({ slice_index: index, ...onlyTrue(values) }))
        .filter((entry) => Object.keys(entry).length > 1)
        .sort((x, y) => x.slice_index - y.slice_index);
      return { reason: why, slices };
    }
  }
}

function onlyTrue(values: SubtypeValues): SubtypeValues {
  const out: SubtypeValues = {};
  for (const name of SUBTYPES) if (values[name]) out[name] = true;
  return out;
}

/** What one read says about a subtype: true, false, or null when it has no label there. */
export function voteOn(vote: Vote, label: string): boolean | null {
  return vote.values ? Boolean(vote.values[label]) : null;
}

/** The subtypes a label marks, upper case ("IPH, SDH"), or what it says instead. */
export function describeValues(values: LabelValues | null): string {
  if (!values) return "no label";
  const positive = SUBTYPES.filter((name) => values[name]).map((name) => name.toUpperCase());
  if (positive.length) return positive.join(", ");
  return values["no_hemorrhage"] ? "no hemorrhage" : "nothing marked";
}

/** The headline of an item: what the vote could not settle. */
export function itemHeadline(item: AdjudicationItem): string {
  const where = item.slice_index === null ? `scan ${item.scan}` : `scan ${item.scan}, slice ${item.slice_index + 1}`;
  if (item.reason === "split_vote") {
    const votes = item.total_votes ? ` (${item.positive_votes} of ${item.total_votes} readers marked it)` : "";
    return `Readers split on ${item.label.toUpperCase()} in ${where}${votes}.`;
  }
  if (item.reason === "second_read") {
    const votes = item.total_votes ? ` (${item.positive_votes} of ${item.total_votes} reads marked it)` : "";
    return `A second read disagrees with the earlier reads on ${item.label.toUpperCase()} in ${where}${votes}.`;
  }
  return `${where[0]!.toUpperCase()}${where.slice(1)} lacks a read (withdrawn or never staffed): decide its labels.`;
}

/** A decided item's decision, one line per positive slice (or the scan, or the vote). */
export function decidedText(item: Pick<AdjudicationItemDetail, "reason" | "label" | "decision">): string[] {
  if (isVoteItem(item)) {
    const row = item.decision[0];
    const present = row ? Boolean(row[item.label as Subtype]) : false;
    return [`${item.label.toUpperCase()} ${present ? "present" : "absent"}`];
  }
  const lines = item.decision
    .filter((row) => SUBTYPES.some((name) => row[name]))
    .map((row) => `${row.slice_index === null ? "Scan" : `Slice ${row.slice_index + 1}`}: ${describeValues({ ...row, slice_index: false })}`);
  return lines.length ? lines : ["No hemorrhage"];
}

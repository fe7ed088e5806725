/**
 * Reassigning and unassigning a read: when the read holds work (labels, a scan label, flags, a
 * note, a start or completion) the server keeps it, withdrawn with its audit, and only does so
 * when asked with `force` and a reason; a read without work simply moves or is removed. What
 * the dialog tells the coordinator comes from the server's count of that work
 * (`readChangeConsequences`), so it says what the change will really do.
 */
import { ApiError } from "../api/client";
import type { ReadChangeConsequences } from "../api/coordination";

export type ReadAction = "reassign" | "unassign";

export interface ReadRow {
  id: number;
  scan: number;
  readerName: string;
  status: string;
  labelled: number;
}

const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The server refused because the read holds work and `force` was not given. */
export const needsForce = (error: unknown): boolean =>
  error instanceof ApiError && error.status === 409 && error.extra["needs_force"] === true;

export function summary(action: ReadAction, row: ReadRow): string {
  const what = `Read ${row.id} of scan ${row.scan}, held by ${row.readerName} (${row.status.replace("_", " ")})`;
  return action === "reassign" ? `${what}: give it to another neuroradiologist.` : `${what}: take it back.`;
}

/** The work a read holds, in words: "2 labelled slices, a scan label and flags (artifact)". */
export function workText(change: ReadChangeConsequences): string {
  const parts: string[] = [];
  if (change.labelled_slices) parts.push(count(change.labelled_slices, "labelled slice"));
  if (change.scan_labelled) parts.push("a scan label");
  if (change.flags.length) parts.push(`flags (${change.flags.join(", ").replace(/_/g, " ")})`);
  if (change.note) parts.push("a note");
  if (!parts.length) return change.status === "completed" ? "been completed" : "work";
  const last = parts.pop()!;
  return parts.length ? `${parts.join(", ")} and ${last}` : last;
}

/** What the change does to the read and its scan, one sentence each. */
export function consequences(action: ReadAction, change: ReadChangeConsequences): string[] {
  const lines: string[] = [];
  if (change.has_work) {
    lines.push(
      `${change.reader}'s read has ${workText(change)}. It will be withdrawn: its labels stay on record with their audit trail, and it no longer counts towards the ground truth.`,
    );
    if (action === "reassign") lines.push("The new reader starts a fresh read of the scan.");
  } else {
    lines.push(
      action === "reassign"
        ? `${change.reader}'s read holds no work yet: it simply moves to the new reader.`
        : `${change.reader}'s read holds no work yet: it is removed, nothing is lost.`,
    );
  }
  if (action === "unassign") {
    // The adjudication queue lists a scan short of reads once anyone has read it: a withdrawn
    // read or another read of the scan (a scan whose only read is removed is simply unassigned).
    const short = change.scan_reads_left < change.scan_reads_required;
    const queued = short && (change.has_work || change.scan_readers.length > 0);
    lines.push(
      `Scan ${change.scan} then keeps ${change.scan_reads_left} of the ${count(change.scan_reads_required, "read")} it needs` +
        (queued ? " and appears in the adjudication queue as missing a read." : short ? "; assign it again on this page." : "."),
    );
  }
  return lines;
}

/** What happened, for the status line after the change. */
export function doneMessage(action: ReadAction, row: ReadRow, withdrawn: boolean, newReader?: string): string {
  if (action === "reassign") {
    return withdrawn
      ? `Read ${row.id} was withdrawn; ${newReader ?? "the new reader"} has a fresh read of scan ${row.scan}.`
      : `Read ${row.id} now belongs to ${newReader ?? "the new reader"}.`;
  }
  return withdrawn
    ? `Read ${row.id} was withdrawn (its labels are kept).`
    : `Read ${row.id} was unassigned and removed.`;
}

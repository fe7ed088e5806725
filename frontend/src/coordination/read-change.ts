/**
 * Reassigning and unassigning a read: when the read holds work (labels, a scan label, a
 * start or completion) the server keeps it, withdrawn with its audit, and only does so when
 * asked with `force` and a reason. These rules decide what the dialog tells the coordinator.
 */
import { ApiError } from "../api/client";

export type ReadAction = "reassign" | "unassign";

export interface ReadRow {
  id: number;
  scan: number;
  readerName: string;
  status: string;
  labelled: number;
}

/**
 * Whether the row shows work that a reassignment or unassignment has to withdraw (a scan
 * label or flags do not show in the table: the server's 409 catches those).
 */
export const hasWork = (row: ReadRow): boolean => row.status === "completed" || row.labelled > 0;

/** The server refused because the read holds work and `force` was not given. */
export const needsForce = (error: unknown): boolean =>
  error instanceof ApiError && error.status === 409 && error.extra["needs_force"] === true;

export function summary(action: ReadAction, row: ReadRow): string {
  const what = `Read ${row.id} of scan ${row.scan}, held by ${row.readerName} (${row.status.replace("_", " ")})`;
  return action === "reassign" ? `${what}: give it to another neuroradiologist.` : `${what}: take it back.`;
}

/** What happens to a read with work, in the coordinator's words. */
export function forceExplanation(action: ReadAction, row: ReadRow): string {
  const work = row.labelled > 0 ? `${row.labelled} labelled slice${row.labelled === 1 ? "" : "s"}` : "work";
  const kept = `${row.readerName}'s read has ${work}. It will be withdrawn: its labels stay on record with their audit trail, and it no longer counts towards the ground truth.`;
  return action === "reassign"
    ? `${kept} The new reader starts a fresh read of the scan. Give the reason.`
    : `${kept} The scan then lacks a read and appears in the adjudication queue. Give the reason.`;
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

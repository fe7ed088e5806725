/** The reads API: one read with its labels, saving labels, progress, flags, completion. */
import { ApiError, getJson, postJson } from "./client";
import type { Schemas } from "./types";
import type { LabelChange, ServerLabel } from "../reading/labels";

export type ReadFlags = Schemas["ReadFlagsOutput"];
/** A reader's own read; `level` "slice": labels per slice, "scan": one set for the whole scan. */
export type Read = Schemas["ReadOutput"];
/** Scan-level labels (a scan-level read of the prospective test set). */
export type ScanLabel = Schemas["ScanLabelOutput"];
/** The read with its slice labels and each slice's position along the normal (mm), slice 0 first. */
export type ReadWithLabels = Schemas["ReadWithLabels"];

/** A stale label in a 409 answer (values null for a slice never labelled). Hand-written: the
 * schema declares no error answers. */
export interface LabelConflictItem {
  slice_index: number;
  version: number;
  values: Partial<Record<string, boolean>> | null;
}

/** Why a read takes no more changes: a 409 whose `read_status` says it was completed (in
 * another tab, say) or withdrawn from the reader; null for any other error. */
export function readClosedStatus(error: unknown): "completed" | "withdrawn" | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const status = error.extra["read_status"];
  return status === "completed" || status === "withdrawn" ? status : null;
}

export const readGet = (url: string): Promise<ReadWithLabels> => getJson<ReadWithLabels>(url);

export const labelsSave = (url: string, changes: LabelChange[]): Promise<ServerLabel[]> =>
  postJson<ServerLabel[]>(url, { changes } satisfies Schemas["SliceLabelSaveInput"]);

export const progressRecord = (
  url: string,
  viewed: number[],
  sliceIndex: number,
  seconds: number,
  keepalive = false,
): Promise<Read> =>
  postJson<Read>(url, { viewed, slice_index: sliceIndex, seconds } satisfies Schemas["ReadProgressInput"], keepalive);

export const flagsSet = (url: string, flags: ReadFlags, note: string, version: number): Promise<Read> =>
  postJson<Read>(url, { ...flags, note, version } satisfies Schemas["ReadFlagsInput"]);

export const readComplete = (url: string, unseenOk: boolean): Promise<Read> =>
  postJson<Read>(url, { unseen_ok: unseenOk } satisfies Schemas["ReadCompleteInput"]);

/**
 * Save a scan-level read's labels, in the shape of a one-slice labels save (index 0 stands for
 * the scan), so the same store and saver handle it; a 409 is turned into the labels API's
 * conflict list, so the saver replays the reader's edit on the server's values.
 */
export async function scanLabelSave(url: string, changes: LabelChange[]): Promise<ServerLabel[]> {
  const [change] = changes;
  if (!change) return [];
  const { slice_index: _index, ...body } = change;
  try {
    const saved = await postJson<ScanLabel>(url, body);
    return [{ ...saved, slice_index: 0 }];
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 409 || !("version" in error.extra)) throw error;
    const conflict = { slice_index: 0, version: error.extra["version"], values: error.extra["values"] ?? null };
    throw new ApiError(error.message, 409, { conflicts: [conflict] });
  }
}

/** The reads API: one read with its labels, saving labels, progress, flags, completion. */
import { getJson, postJson } from "./client";
import type { LabelChange, ServerLabel } from "../reading/labels";

export interface ReadFlags {
  postoperative: boolean;
  artifact: boolean;
  mass_lesion: boolean;
  other: boolean;
}

export interface Read {
  id: number;
  scan: number;
  slice_count: number;
  status: string;
  last_slice_index: number;
  viewed_slices: number[];
  flags: ReadFlags;
  note: string;
  version: number;
}

export interface ReadWithLabels extends Read {
  labels: ServerLabel[];
  /** Each slice's position along the slice normal (mm), slice 0 first. */
  slice_positions_mm: number[];
}

/** A stale label in a 409 answer (values null for a slice never labelled). */
export interface LabelConflictItem {
  slice_index: number;
  version: number;
  values: Partial<Record<string, boolean>> | null;
}

export const readGet = (url: string): Promise<ReadWithLabels> => getJson<ReadWithLabels>(url);

export const labelsSave = (url: string, changes: LabelChange[]): Promise<ServerLabel[]> =>
  postJson<ServerLabel[]>(url, { changes });

export const progressRecord = (
  url: string,
  viewed: number[],
  sliceIndex: number,
  seconds: number,
  keepalive = false,
): Promise<Read> => postJson<Read>(url, { viewed, slice_index: sliceIndex, seconds }, keepalive);

export const flagsSet = (url: string, flags: ReadFlags, note: string, version: number): Promise<Read> =>
  postJson<Read>(url, { ...flags, note, version });

export const readComplete = (url: string, unseenOk: boolean): Promise<Read> => postJson<Read>(url, { unseen_ok: unseenOk });

/**
 * Reading rounds for coordinators: assignment, study reads, adjudication and ground-truth
 * versions (annotations/assignment, adjudication and ground_truth api.py).
 */
import { getJson, postJson } from "./client";
import type { Split } from "./types";

export const SUBTYPES = ["iph", "ivh", "sah", "sdh", "edh"] as const;
export type Subtype = (typeof SUBTYPES)[number];
/** `any` (ICH) and the subtypes, as the ground-truth API names them. */
export const CLASSES = ["any", ...SUBTYPES] as const;
export type LabelClass = (typeof CLASSES)[number];

export type ReadKind = "primary" | "cross";
export type ReadLevel = "slice" | "scan";

// ## Assignment

export interface AssignRequest {
  center?: number;
  split?: Split;
  status?: string;
  scans?: number[];
  limit?: number;
  readers?: number[];
  capacity?: number;
  capacities?: Record<string, number>;
  seed?: number;
  dry_run: boolean;
}

export interface PlannedRead {
  /** The saved read's id; null in a dry run. */
  id: number | null;
  scan: number;
  reader: number;
  kind: ReadKind;
  level: ReadLevel;
}

export interface AssignResult {
  seed: number;
  dry_run: boolean;
  assigned_scans: number;
  reads: PlannedRead[];
  skipped: { scan: number; reason: string }[];
}

export const scansAssign = (url: string, body: AssignRequest): Promise<AssignResult> =>
  postJson<AssignResult>(url, body);

export interface ReadChange {
  reader?: number;
  force: boolean;
  reason: string;
}

/** A read as the study-reads API returns it (the fields the pages use). */
export interface StudyRead {
  id: number;
  scan: number;
  reader: number;
  reader_username: string;
  status: string;
}

/** Reassign a read; `readsUrl` is the reads list, `/api/v1/study-reads/`. The answer is the
 * read now held by the new reader (a new one when the old read was withdrawn). */
export const readReassign = (readsUrl: string, readId: number, change: ReadChange): Promise<StudyRead | null> =>
  postJson<StudyRead>(`${readsUrl}${readId}/reassign/`, change);

/** Unassign a read: null when the untouched read was deleted, else the withdrawn read. */
export const readUnassign = (readsUrl: string, readId: number, change: ReadChange): Promise<StudyRead | null> =>
  postJson<StudyRead | null>(`${readsUrl}${readId}/unassign/`, change);

// ## Adjudication

export type LabelValues = Record<string, boolean>;

export interface Vote {
  read: number;
  reader: string;
  kind: ReadKind;
  status: string;
  labelled_slices: number;
  /** The read's labels of the item's slice (or its scan label); null when it has none. */
  values: LabelValues | null;
}

export interface DecisionRow extends Record<Subtype, boolean> {
  slice_index: number | null;
}

export interface AdjudicationItem {
  id: number;
  scan: number;
  center: string;
  split: Split;
  slice_index: number | null;
  label: string;
  reason: "missing_read" | "split_vote";
  status: "open" | "resolved" | "obsolete";
  positive_votes: number | null;
  total_votes: number | null;
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
  decision_reason: string;
}

export interface AdjudicationItemDetail extends AdjudicationItem {
  votes: Vote[];
  decision: DecisionRow[];
}

export type SubtypeValues = Partial<Record<Subtype, boolean>>;

export interface ResolveRequest {
  reason: string;
  value?: boolean;
  slices?: (SubtypeValues & { slice_index: number })[];
  scan?: SubtypeValues;
}

export const adjudicationItemGet = (listUrl: string, id: number): Promise<AdjudicationItemDetail> =>
  getJson<AdjudicationItemDetail>(`${listUrl}${id}/`);

export const adjudicationItemResolve = (
  listUrl: string,
  id: number,
  body: ResolveRequest,
): Promise<AdjudicationItem> => postJson<AdjudicationItem>(`${listUrl}${id}/resolve/`, body);

export const missingReadsRefresh = (url: string): Promise<{ created: number; obsolete: number }> =>
  postJson(url);

export interface SplitVotesRequest {
  subtypes: Subtype[];
  center?: number;
  split?: Split;
}

export const splitVotesCreate = (url: string, body: SplitVotesRequest): Promise<{ created: number }> =>
  postJson(url, body);

// ## Ground truth

export interface GroundTruthVersion {
  id: number;
  name: string;
  content_sha256: string;
  released: boolean;
  scan_count: number;
  slice_count: number;
  pending_scan_count: number;
}

export const groundTruthFreeze = (url: string, name: string, note: string): Promise<GroundTruthVersion> =>
  postJson<GroundTruthVersion>(url, { name, note });

/** Release a version; `detailUrl` is `/api/v1/ground-truth/<id>/`. */
export const groundTruthRelease = (detailUrl: string): Promise<GroundTruthVersion> =>
  postJson<GroundTruthVersion>(`${detailUrl}release/`);

export type ClassValues = Record<LabelClass, boolean>;

export interface ChangedRow {
  scan: number;
  slice_index: number | null;
  a: ClassValues;
  b: ClassValues;
}

export interface LevelDiff {
  in_both: number;
  only_in_a: number;
  only_in_b: number;
  changed: number;
  changed_by_class: Record<LabelClass, number>;
  changed_rows: ChangedRow[];
}

export interface VersionRef {
  id: number;
  name: string;
  sha256: string;
}

export interface GroundTruthComparison {
  a: VersionRef;
  b: VersionRef;
  identical: boolean;
  slices: LevelDiff;
  scans: LevelDiff;
}

export const groundTruthCompare = (url: string, a: number, b: number, limit = 200): Promise<GroundTruthComparison> =>
  getJson<GroundTruthComparison>(`${url}?${new URLSearchParams({ a: `${a}`, b: `${b}`, limit: `${limit}` })}`);

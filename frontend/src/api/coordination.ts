/**
 * Reading rounds for coordinators: assignment, study reads, adjudication and ground-truth
 * versions (annotations/assignment, adjudication and ground_truth api.py).
 */
import { getJson, postJson } from "./client";
import type { Schemas } from "./types";
import type { HemorrhageClass, Subtype } from "../generated/vocabulary";

export type ReadKind = Schemas["KindEnum"];
export type ReadLevel = Schemas["LevelEnum"];

// ## Assignment

export type AssignRequest = Schemas["ScansAssignInput"];

/** One read of an assignment plan. Hand-written: the schema has the plan's reads as free-form
 * objects (the service returns plain dicts). */
export interface PlannedRead {
  /** The saved read's id; null in a dry run. */
  id: number | null;
  scan: number;
  reader: number;
  kind: ReadKind;
  level: ReadLevel;
}

/** The plan's reads and skipped scans are typed here (free-form in the schema). */
export type AssignResult = Omit<Schemas["ScansAssignOutput"], "reads" | "skipped"> & {
  reads: PlannedRead[];
  skipped: { scan: number; reason: string }[];
};

export const scansAssign = (url: string, body: AssignRequest): Promise<AssignResult> =>
  postJson<AssignResult>(url, body);

/** A reassignment's or unassignment's request (an unassignment has no reader). */
export type ReadChange = Schemas["ReadUnassignInput"] & Partial<Pick<Schemas["ReadReassignInput"], "reader">>;

/** A read as the study-reads API returns it. */
export type StudyRead = Schemas["StudyReadOutput"];

/** What reassigning or unassigning a read affects: the work it holds and what its scan keeps. */
export type ReadChangeConsequences = Schemas["ReadChange"];

export const readChangeConsequences = (readsUrl: string, readId: number): Promise<ReadChangeConsequences> =>
  getJson<ReadChangeConsequences>(`${readsUrl}${readId}/change/`);

/** Reassign a read; `readsUrl` is the reads list, `/api/v1/study-reads/`. The answer is the
 * read now held by the new reader (a new one when the old read was withdrawn). */
export const readReassign = (readsUrl: string, readId: number, change: ReadChange): Promise<StudyRead | null> =>
  postJson<StudyRead>(`${readsUrl}${readId}/reassign/`, change);

/** Unassign a read: null when the untouched read was deleted, else the withdrawn read. */
export const readUnassign = (readsUrl: string, readId: number, change: ReadChange): Promise<StudyRead | null> =>
  postJson<StudyRead | null>(`${readsUrl}${readId}/unassign/`, change);

// ## Adjudication

export type LabelValues = Record<string, boolean>;

/** One read's say on an adjudication item. Hand-written: free-form objects in the schema. */
export interface Vote {
  read: number;
  reader: string;
  kind: ReadKind;
  status: string;
  labelled_slices: number;
  /** The read's labels of the item's slice (or its scan label); null when it has none. */
  values: LabelValues | null;
}

/** One row of the decision so far. Hand-written: free-form objects in the schema. */
export interface DecisionRow extends Record<Subtype, boolean> {
  slice_index: number | null;
}

export type AdjudicationItem = Schemas["AdjudicationItemOutput"];

/** One read's labels of one slice in question; `values` null when the read has none of it. */
export interface SliceVote {
  read: number;
  reader: string;
  kind: ReadKind;
  status: string;
  values: LabelValues | null;
}

/** A slice an item is about (or that some reader marked), with every read's labels of it. */
export interface SliceInQuestion {
  slice_index: number;
  votes: SliceVote[];
}

/** The item with its votes, decision rows and slices in question, typed here (free-form in the schema). */
export type AdjudicationItemDetail = Omit<Schemas["AdjudicationItemDetail"], "votes" | "decision" | "slices"> & {
  votes: Vote[];
  decision: DecisionRow[];
  slices: SliceInQuestion[];
};

export type SubtypeValues = Schemas["SubtypeValues"];
export type ResolveRequest = Schemas["AdjudicationResolveInput"];

export const adjudicationItemGet = (listUrl: string, id: number): Promise<AdjudicationItemDetail> =>
  getJson<AdjudicationItemDetail>(`${listUrl}${id}/`);

export const adjudicationItemResolve = (
  listUrl: string,
  id: number,
  body: ResolveRequest,
): Promise<AdjudicationItem> => postJson<AdjudicationItem>(`${listUrl}${id}/resolve/`, body);

export const missingReadsRefresh = (url: string): Promise<Schemas["AdjudicationMissingReadsOutput"]> =>
  postJson(url);

export type SplitVotesRequest = Schemas["AdjudicationSplitVotesInput"];

export const splitVotesCreate = (url: string, body: SplitVotesRequest): Promise<Schemas["AdjudicationSplitVotesOutput"]> =>
  postJson(url, body);

// ## Ground truth

export type GroundTruthVersion = Schemas["GroundTruthVersionOutput"];

export const groundTruthFreeze = (url: string, name: string, note: string): Promise<GroundTruthVersion> =>
  postJson<GroundTruthVersion>(url, { name, note } satisfies Schemas["GroundTruthFreezeInput"]);

/** Release a version; `detailUrl` is `/api/v1/ground-truth/<id>/`. */
export const groundTruthRelease = (detailUrl: string): Promise<GroundTruthVersion> =>
  postJson<GroundTruthVersion>(`${detailUrl}release/`);

/** Who would see what once a version is released; `detailUrl` is `/api/v1/ground-truth/<id>/`. */
export type ReleaseConsequences = Schemas["GroundTruthReleaseConsequences"];

export const groundTruthReleaseConsequences = (detailUrl: string): Promise<ReleaseConsequences> =>
  getJson<ReleaseConsequences>(`${detailUrl}release/consequences/`);

// The comparison of two versions: hand-written, the compare API answers a plain object that
// the schema describes only as `object`.

export type ClassValues = Record<HemorrhageClass, boolean>;

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
  changed_by_class: Record<HemorrhageClass, number>;
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

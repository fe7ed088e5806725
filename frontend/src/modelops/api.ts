/**
 * The modelops API (modelops/<feature>/api.py, under /api/v1/modelops/): dataset snapshots, training runs
 * and the model registry, plus the frozen ground-truth versions a snapshot is made from.
 */
import { getJson, postJson, requestWithStatus } from "../api/client";
import type { Schemas } from "../api/types";

export type ModelStatus = Schemas["ModelStatusEnum"];

/** A snapshot's figures of one split (train, validation, test). */
export interface SplitFigures {
  scans: number;
  slices: number;
  positive_scans: number;
}

/** The splits' figures are typed here: the schema has the manifest's `splits` as a free-form object. */
export type Snapshot = Omit<Schemas["SnapshotOutput"], "splits"> & { splits: Record<string, SplitFigures> };

export type SnapshotRequest = Schemas["SnapshotInput"];

/** A configuration value as the training configuration's JSON holds it. */
export type ConfigValue = string | number | boolean;
/** Hand-written: the configuration is a JSON object in the schema (its fields are the ML
 * module's TrainingConfig, listed by GET training-config/). */
export type TrainingConfig = Record<string, ConfigValue>;

/** GET training-config/: every field of TrainingConfig, its default and the fixed choices
 * (`defaults` and `choices` are free-form JSON in the schema). */
export type TrainingConfigSchema = Omit<Schemas["TrainingConfigOutput"], "defaults" | "choices"> & {
  defaults: TrainingConfig;
  choices: Record<string, string[]>;
};

/** [stage, epoch, step, loss] */
export type StepLoss = [string, number, number, number];
/** One finished epoch: stage and epoch, then whatever the trainer logged (loss, val_loss, …). */
export type HistoryEntry = { stage: string; epoch: number } & Record<string, unknown>;

/** A run; its configuration, history and step losses are JSON in the schema, typed here. */
export type TrainingRun = Omit<Schemas["RunDetail"], "config" | "history" | "step_losses"> & {
  config: TrainingConfig;
  history: HistoryEntry[];
  step_losses: StepLoss[];
};

export type RunRequest = Schemas["TrainingRunInput"];
export type ModelVersion = Schemas["ModelVersion"];

/** ROC points of one class on one split; null where the split lacks positives or negatives. */
export type RocCurve = { fpr: number[]; tpr: number[] } | null;

/** What the version page inlines for its charts (not an API answer): per split, per class,
 * the ROC curve. */
export interface RocData {
  classes: string[];
  splits: Record<string, Record<string, RocCurve>>;
}

export const groundTruthVersions = (url: string): Promise<Schemas["PaginatedGroundTruthVersionOutputList"]> =>
  getJson(`${url}?limit=500`);


/** POST snapshots/: `created` is false when the same snapshot existed already (HTTP 200). */
export async function snapshotRequest(url: string, body: SnapshotRequest): Promise<{ snapshot: Snapshot; created: boolean }> {
  const answer = await requestWithStatus<Snapshot>(url, { method: "POST", json: body });
  return { snapshot: answer.body, created: answer.status === 201 };
}

export const snapshotCancel = (url: string): Promise<Snapshot> => postJson<Snapshot>(url);
export const trainingConfig = (url: string): Promise<TrainingConfigSchema> => getJson<TrainingConfigSchema>(url);
export const runStart = (url: string, body: RunRequest): Promise<TrainingRun> => postJson<TrainingRun>(url, body);
export const runGet = (url: string): Promise<TrainingRun> => getJson<TrainingRun>(url);
export const runCancel = (url: string): Promise<TrainingRun> => postJson<TrainingRun>(url);
export const runLog = (url: string): Promise<Schemas["TrainingRunLogOutput"]> => getJson(url);
export const versionSetStatus = (url: string, status: ModelStatus): Promise<ModelVersion> =>
  postJson<ModelVersion>(url, { status } satisfies Schemas["ModelVersionStatusInput"]);

/** Which scans a release or withdrawal names: a split (of one center), or scan ids. */
export type ReleaseScans = Schemas["ReleaseScansInput"];
/** POST models/<id>/releases/ (approved models only; 409 otherwise). */
export const outputRelease = (url: string, scans: ReleaseScans): Promise<Schemas["ReleaseCounts"]> =>
  postJson<Schemas["ReleaseCounts"]>(url, scans);
/** POST models/<id>/releases/withdraw/. */
export const outputWithdraw = (url: string, scans: ReleaseScans): Promise<Schemas["WithdrawCounts"]> =>
  postJson<Schemas["WithdrawCounts"]>(url, scans);

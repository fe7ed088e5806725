/**
 * The modelops API (modelops/<feature>/api.py, under /api/v1/modelops/): dataset snapshots, training runs
 * and the model registry, plus the frozen ground-truth versions a snapshot is made from.
 */
import { apiErrorFrom, ApiError, csrfToken, getJson, postJson } from "../api/client";
import type { GroundTruthVersion } from "../api/coordination";
import type { JobStatus } from "../api/types";

export type ModelStatus = "candidate" | "approved" | "retired";

export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface SplitFigures {
  scans: number;
  slices: number;
  positive_scans: number;
}

export interface Snapshot {
  id: number;
  name: string;
  ground_truth: number;
  ground_truth_name: string;
  image_size: number;
  slice_mm: number;
  files_sha256: string;
  size_bytes: number;
  status: JobStatus;
  message: string;
  scans_done: number;
  scans_total: number;
  splits: Record<string, SplitFigures>;
}

export interface SnapshotRequest {
  ground_truth: number;
  image_size: number;
  slice_mm: number;
  name: string;
}

/** A configuration value as the training configuration's JSON holds it. */
export type ConfigValue = string | number | boolean;
export type TrainingConfig = Record<string, ConfigValue>;

/** GET training-config/: every field of TrainingConfig, its default and the fixed choices. */
export interface TrainingConfigSchema {
  defaults: TrainingConfig;
  fields: string[];
  choices: Record<string, string[]>;
}

/** [stage, epoch, step, loss] */
export type StepLoss = [string, number, number, number];
/** One finished epoch: stage and epoch, then whatever the trainer logged (loss, val_loss, …). */
export type HistoryEntry = { stage: string; epoch: number } & Record<string, unknown>;

export interface TrainingRun {
  id: string;
  name: string;
  snapshot: number;
  snapshot_name: string;
  status: JobStatus;
  message: string;
  stage: string;
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  progress: number;
  attempts: number;
  heartbeat_at: string | null;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  model_version: number | null;
  config: TrainingConfig;
  history: HistoryEntry[];
  step_losses: StepLoss[];
  worker: string;
}

export interface RunRequest {
  snapshot: number;
  name: string;
  config: TrainingConfig;
  /** A model version to fine-tune end to end; null trains from new weights. */
  initial_model: number | null;
}

export interface ModelVersion {
  id: number;
  name: string;
  status: ModelStatus;
  status_changed_at: string | null;
}

/** ROC points of one class on one split; null where the split lacks positives or negatives. */
export type RocCurve = { fpr: number[]; tpr: number[] } | null;

/** What the version page inlines for its charts: per split, per class, the ROC curve. */
export interface RocData {
  classes: string[];
  splits: Record<string, Record<string, RocCurve>>;
}

export const groundTruthVersions = (url: string): Promise<Paginated<GroundTruthVersion>> =>
  getJson<Paginated<GroundTruthVersion>>(`${url}?limit=500`);

/** POST snapshots/: `created` is false when the same snapshot existed already (HTTP 200). */
export async function snapshotRequest(url: string, body: SnapshotRequest): Promise<{ snapshot: Snapshot; created: boolean }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError("Could not reach the server; check the connection and try again", 0);
  }
  const text = await response.text().catch(() => "");
  let parsed: unknown = null;
  try {
    parsed = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) throw apiErrorFrom(response.status, response.statusText, parsed);
  return { snapshot: parsed as Snapshot, created: response.status === 201 };
}

export const snapshotCancel = (url: string): Promise<Snapshot> => postJson<Snapshot>(url);
export const trainingConfig = (url: string): Promise<TrainingConfigSchema> => getJson<TrainingConfigSchema>(url);
export const runStart = (url: string, body: RunRequest): Promise<TrainingRun> => postJson<TrainingRun>(url, body);
export const runGet = (url: string): Promise<TrainingRun> => getJson<TrainingRun>(url);
export const runCancel = (url: string): Promise<TrainingRun> => postJson<TrainingRun>(url);
export const runLog = (url: string): Promise<{ log: string }> => getJson<{ log: string }>(url);
export const versionSetStatus = (url: string, status: ModelStatus): Promise<ModelVersion> =>
  postJson<ModelVersion>(url, { status });

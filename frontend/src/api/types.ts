/** JSON shapes of the REST API under /api/v1/ (see /api/schema/). */

/** Every API error body: a message for the user plus details (DRF field errors under `fields`). */
export interface ApiErrorBody {
  message: string;
  extra: Record<string, unknown>;
}

export type Split = "train" | "validation" | "test";

export type JobStatus =
  | "pending"
  | "running"
  | "canceling"
  | "succeeded"
  | "warning"
  | "failed"
  | "canceled";

/** Statuses after which a job never changes again. */
export const FINISHED_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>([
  "succeeded",
  "warning",
  "failed",
  "canceled",
]);

export interface Center {
  id: number;
  name: string;
  split: Split;
  scan_count: number;
  slice_count: number;
}

export interface ImportBatch {
  id: string;
  source: string;
  center: string;
  split: Split;
  status: JobStatus;
  status_display: string;
  files_total: number;
  files_done: number;
  message: string;
  report: Record<string, unknown> | null;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

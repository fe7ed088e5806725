/**
 * JSON shapes of the REST API under /api/v1/: aliases of the types generated from its OpenAPI
 * schema (the document /api/schema/ serves), so a change of the Python API that the pages do
 * not follow fails `tsc --noEmit` in the build. `frontend/src/generated/api.ts` is written by
 * scripts/lib.sh (frontend_generate) with openapi-typescript and is not in git. Hand-written
 * here is only what the schema cannot say, each with the reason.
 */
import type { components } from "../generated/api";

/** Every schema component by name, as drf-spectacular names them. */
export type Schemas = components["schemas"];

/**
 * Every API error body: a message for the user plus details (DRF field errors under `fields`).
 * Hand-written: the schema declares no error answers (the one exception handler writes them).
 */
export interface ApiErrorBody {
  message: string;
  extra: Record<string, unknown>;
}

export type Split = Schemas["SplitEnum"];
export type JobStatus = Schemas["JobStatusEnum"];

/** Statuses after which a job never changes again. */
export const FINISHED_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>([
  "succeeded",
  "warning",
  "failed",
  "canceled",
]);

export type Center = Schemas["CenterOutput"];
export type ImportBatch = Schemas["ImportBatchOutput"];

/**
 * The reader-study API as the pages use it (/api/v1/reader-studies/..., /reader-study-reads/...):
 * the shapes of the answers the pages read, and the calls. Written against the reader study's
 * API contract; the fields a page does not read are left out.
 */
import { getJson, postJson } from "../api/client";

/** An answer's object, read field by field. */
export type Json = Record<string, unknown>;
export const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

export type Modality = "unaided" | "aided_scores" | "aided_saliency";

export const MODALITY_NAMES: Record<Modality, string> = {
  unaided: "Unaided",
  aided_scores: "Aided: model scores",
  aided_saliency: "Aided: scores and saliency overlay",
};

export function modalityName(modality: string): string {
  return MODALITY_NAMES[modality as Modality] ?? modality;
}

/** Where the reader stands in a study: a read to answer, a washout, model output being made, or done. */
export type NextState =
  | { state: "read"; read: number }
  | { state: "waiting"; opens_at: string | null; modality_sequence?: number }
  | { state: "preparing" }
  | { state: "done" };

export interface ReadSlice {
  position_index: number;
  url: string;
}

/** The model output an aided session shows: per-class scan scores, the model's frozen
 * thresholds, and (aided with saliency) the overlay's URL template with {position_index}. */
export interface ReadModel {
  scores: Record<string, number>;
  thresholds: Record<string, number | null | undefined>;
  overlay: string | null;
}

export interface ReadAnswer {
  any_ich: boolean;
  subtypes: Record<string, boolean>;
  confidence: number;
  active_time_s?: number;
  answered_at?: string | null;
}

export interface StudyRead {
  id: number;
  study: number | { id: number; name?: string };
  session: { sequence: number; modality: Modality; total: number; answered: number };
  position: number;
  slices: ReadSlice[];
  opened_at: string | null;
  answer: ReadAnswer | null;
  model: ReadModel | null;
}

export interface AnswerBody {
  any_ich: boolean;
  subtypes: Record<string, boolean>;
  confidence: number;
  active_time_s: number;
}

export type AnswerResponse = StudyRead & { next: NextState };

export const nextGet = (url: string): Promise<NextState> => getJson<NextState>(url);
export const readGet = (url: string): Promise<StudyRead> => getJson<StudyRead>(url);
export const answerPost = (url: string, body: AnswerBody): Promise<AnswerResponse> => postJson<AnswerResponse>(url, body);

/** A date and time as the reader's browser writes it. */
export function dateText(iso: string | null | undefined): string {
  if (!iso) return "a date not known yet";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

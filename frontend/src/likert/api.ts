/** The Likert study's API as a reader uses it: their cases in their own order, saving a score,
 * and where a case's slice and overlay are (by the study's token of the case, nothing else). */
import { getJson, postJson } from "../api/client";
import type { Schemas } from "../api/types";

/** One of the reader's cases: its place in their order, the study's token of it, their score
 * (null until scored) and the slice's size, which the overlay is stretched to. */
export type LikertItem = Schemas["LikertItemOutput"];

export const itemsGet = (url: string): Promise<LikertItem[]> => getJson<LikertItem[]>(url);

/** Save the score of the case at `position`; null takes it back. */
export const scoreSave = (url: string, position: number, score: number | null): Promise<LikertItem> =>
  postJson<LikertItem>(url, { position, score } satisfies Schemas["LikertScoreInput"]);

/** A case's URL from the page's template ("/api/v1/modelops/likert-cases/{case}/slice/"). */
export function caseUrl(template: string, token: string): string {
  return template.replace("{case}", encodeURIComponent(token));
}

/** Centers: their split role (train, validation, test). */
import { postJson } from "./client";
import type { Center, Schemas, Split } from "./types";

/** Set a center's split; `url` is the form's action, `/api/v1/centers/<id>/split/`. */
export const centerSplitSet = (url: string, split: Split): Promise<Center> =>
  postJson<Center>(url, { split } satisfies Schemas["CenterSplitSetInput"]);

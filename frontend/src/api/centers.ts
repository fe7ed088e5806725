/** Centers: their split role (train, validation, test). */
import { getJson, postJson } from "./client";
import type { Center, Schemas, Split } from "./types";

/** Set a center's split; `url` is the form's action, `/api/v1/centers/<id>/split/`. The server
 * answers 409 with `extra.reasons` while the move would break a running reading round. */
export const centerSplitSet = (url: string, split: Split): Promise<Center> =>
  postJson<Center>(url, { split } satisfies Schemas["CenterSplitSetInput"]);

/** What moving the center to `split` would affect, and whether it is refused; `url` as above. */
export const centerSplitChange = (url: string, split: Split): Promise<Schemas["CenterSplitChange"]> =>
  getJson<Schemas["CenterSplitChange"]>(`${url}change/?${new URLSearchParams({ split })}`);

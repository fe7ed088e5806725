/** Page script of a Likert study's scoring page (/likert/<id>/score/): one case at a time, the
 * map over the slice, 1-4 to score. */
import { byId, showStartError } from "../dom";
import { startLikert } from "../likert/reader";

const section = byId("likert-reader");
startLikert(section).catch((error: unknown) => showStartError(section, "The scoring page could not start", error));

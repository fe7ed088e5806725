/** Page script of a Likert study's scoring page (/likert/<id>/score/): one case at a time, the
 * map over the slice, 1-4 to score. */
import { byId, showMessage } from "../dom";
import { startLikert } from "../likert/reader";

const section = byId("likert-reader");
startLikert(section).catch((error: unknown) => {
  const message = document.createElement("p");
  message.className = "message error";
  section.append(message);
  showMessage(message, `The scoring page could not start: ${error instanceof Error ? error.message : String(error)}`, "error");
  section.dataset.failed = "true";
});

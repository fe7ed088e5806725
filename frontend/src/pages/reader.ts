/** Page script of the reading view (/reading/<id>/): the Cornerstone3D reader of one read. */
import { byId, showMessage } from "../dom";
import { startReader } from "../reading/reader";

const section = byId("reader");
startReader(section).catch((error: unknown) => {
  const message = document.createElement("p");
  message.className = "message error";
  section.prepend(message);
  showMessage(message, `The reader could not start: ${error instanceof Error ? error.message : String(error)}`, "error");
  section.dataset.failed = "true";
});

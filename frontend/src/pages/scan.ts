/** Page script of a scan's page (/study/scans/<id>/): its slices in a read-only viewer, with
 * the saliency overlay for ML engineers. */
import { byId, showMessage } from "../dom";
import { ScanViewer } from "../scan/viewer";

const section = byId("scan-viewer");
new ScanViewer(section).start().catch((error: unknown) => {
  const message = document.createElement("p");
  message.className = "message error";
  section.prepend(message);
  showMessage(message, `The viewer could not start: ${error instanceof Error ? error.message : String(error)}`, "error");
  section.dataset.failed = "true";
});

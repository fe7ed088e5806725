/** Page script of a scan's page (/study/scans/<id>/): its slices in a read-only viewer, with
 * the saliency overlay for ML engineers. */
import { byId, showStartError } from "../dom";
import { ScanViewer } from "../scan/viewer";

const section = byId("scan-viewer");
new ScanViewer(section).start().catch((error: unknown) => showStartError(section, "The viewer could not start", error, true));

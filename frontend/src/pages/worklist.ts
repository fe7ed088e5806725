/**
 * Page script of the reader's worklist (/reading/). While the reader chooses a scan, the GPU
 * capability probe Cornerstone runs before showing an image (texture formats, about 50 ms) is
 * run once here, when the browser is idle; Cornerstone keeps its answer in localStorage, so the
 * reading view starts without it. Reader-study sessions waiting for the reader are listed
 * above the worklist.
 */
import { getRenderingCapabilities } from "@cornerstonejs/core/utilities/renderingCapabilities";
import { showReaderStudyNotice } from "../reader_study/worklist-notice";

const probe = (): void => {
  getRenderingCapabilities();
};
if ("requestIdleCallback" in window) window.requestIdleCallback(probe, { timeout: 2000 });
else setTimeout(probe, 200);

showReaderStudyNotice().catch((error: unknown) => {
  // The worklist itself works without the notice; say why it is missing.
  console.warn("ICHLabel: the reader studies could not be listed", error);
});

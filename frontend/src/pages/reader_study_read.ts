/** Page script of a reader study's reading page (/reader-studies/<id>/read/). */
import { byId, showMessage } from "../dom";
import { startStudyReader } from "../reader_study/read";

const section = byId("reader-study-read");
startStudyReader(section).catch((error: unknown) => {
  const message = document.createElement("p");
  message.className = "message error";
  section.append(message);
  showMessage(message, `The reading page could not start: ${error instanceof Error ? error.message : String(error)}`, "error");
  section.dataset.failed = "true";
});

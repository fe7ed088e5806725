/** Page script of a reader study's page (/reader-studies/<id>/): plan, progress and results. */
import { byId, showMessage } from "../dom";
import { startStudyPage } from "../reader_study/study";

const section = byId("reader-study");
startStudyPage(section).catch((error: unknown) => {
  const message = document.createElement("p");
  message.className = "message error";
  section.append(message);
  showMessage(message, `The study could not be shown: ${error instanceof Error ? error.message : String(error)}`, "error");
  section.dataset.failed = "true";
});

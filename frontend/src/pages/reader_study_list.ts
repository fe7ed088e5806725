/** Page script of the reader studies' list (/reader-studies/). */
import { byId, showMessage } from "../dom";
import { startStudyList } from "../reader_study/list";

const section = byId("reader-study-list");
startStudyList(section).catch((error: unknown) => {
  const message = document.createElement("p");
  message.className = "message error";
  section.append(message);
  showMessage(message, `The reader studies could not be listed: ${error instanceof Error ? error.message : String(error)}`, "error");
  section.dataset.failed = "true";
});

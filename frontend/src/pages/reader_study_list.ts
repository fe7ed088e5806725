/** Page script of the reader studies' list (/reader-studies/). */
import { byId, showStartError } from "../dom";
import { startStudyList } from "../reader_study/list";

const section = byId("reader-study-list");
startStudyList(section).catch((error: unknown) => showStartError(section, "The reader studies could not be listed", error));

/** Page script of a reader study's page (/reader-studies/<id>/): plan, progress and results. */
import { byId, showStartError } from "../dom";
import { startStudyPage } from "../reader_study/study";

const section = byId("reader-study");
startStudyPage(section).catch((error: unknown) => showStartError(section, "The study could not be shown", error));

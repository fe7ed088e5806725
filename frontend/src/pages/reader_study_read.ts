/** Page script of a reader study's reading page (/reader-studies/<id>/read/). */
import { byId, showStartError } from "../dom";
import { startStudyReader } from "../reader_study/read";

const section = byId("reader-study-read");
startStudyReader(section).catch((error: unknown) => showStartError(section, "The reading page could not start", error));

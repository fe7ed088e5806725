/** Page script of the reading view (/reading/<id>/): the Cornerstone3D reader of one read. */
import { byId, showStartError } from "../dom";
import { startReader } from "../reading/reader";

const section = byId("reader");
startReader(section).catch((error: unknown) => showStartError(section, "The reader could not start", error, true));

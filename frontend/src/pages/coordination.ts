/**
 * Page script of the coordinator's reading-round pages: /study/reading/ (assignment, reads),
 * /study/adjudication/ (the queue and decisions) and /study/ground-truth/ (versions).
 * The page's root gets data-ready="true" once its controls are live.
 */
import { initAdjudication } from "../coordination/adjudication-queue";
import { initAssignment } from "../coordination/assignment";
import { initExportJobs } from "../coordination/export-jobs";
import { initGroundTruth } from "../coordination/ground-truth";
import { initReadDialog } from "../coordination/read-dialog";

const reading = document.getElementById("reading-round");
if (reading) {
  const names = JSON.parse(document.getElementById("readers-data")?.textContent ?? "{}") as Record<string, string>;
  initAssignment(reading, names);
  initReadDialog(reading, names);
  reading.dataset["ready"] = "true";
}
const adjudication = document.getElementById("adjudication");
if (adjudication) {
  initAdjudication(adjudication);
  adjudication.dataset["ready"] = "true";
}
const groundTruth = document.getElementById("ground-truth");
if (groundTruth) {
  initGroundTruth(groundTruth);
  initExportJobs(groundTruth);
  groundTruth.dataset["ready"] = "true";
}

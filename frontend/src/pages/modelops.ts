/**
 * Page script of the ML engineer's pages: the workspace (/models/), a training run
 * (/models/runs/<id>/) and a model version (/models/versions/<id>/). The compare page needs
 * none. The page's root gets data-ready="true" once its controls are live.
 */
import { initRun } from "../modelops/run";
import { initVersion } from "../modelops/version";
import { initWorkspace } from "../modelops/workspace";

const workspace = document.getElementById("models");
if (workspace) {
  initWorkspace(workspace);
  workspace.dataset["ready"] = "true";
}
const run = document.getElementById("run");
if (run) {
  initRun(run);
  run.dataset["ready"] = "true";
}
const version = document.getElementById("model-version");
if (version) initVersion(version);

/**
 * Page script of the ML engineer's pages: the workspace (/models/), a training run
 * (/models/runs/<id>/), a model version (/models/versions/<id>/) and a saliency study's results
 * (/likert/<id>/results/: the score distributions as a chart), the inference nodes (/models/nodes/)
 * and a model's prospective page (their charts). The compare page needs none. The
 * page's root gets data-ready="true" once its controls are live.
 */
import { scoreHistogramChart, type ScoreHistogram } from "../modelops/charts";
import { initMonitoringCharts } from "../modelops/monitoring";
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
const histograms = document.getElementById("likert-histogram-data");
if (histograms?.textContent) {
  const figure = document.getElementById("likert-histogram-figure");
  const canvas = document.getElementById("likert-histogram-chart") as HTMLCanvasElement | null;
  if (figure && canvas) {
    figure.hidden = false;
    scoreHistogramChart(canvas, JSON.parse(histograms.textContent) as ScoreHistogram[]);
    document.getElementById("likert-histograms")?.setAttribute("hidden", "");
    figure.dataset["drawn"] = "true";
  }
}
initMonitoringCharts();

/** Charts of the nodes' monitoring (/models/nodes/) and of a model's prospective page
 * (/models/versions/<id>/prospective/): the data come from the page (json_script), drawn
 * with the charts' shared Chart.js. */
import { Chart } from "../charts";

const PALETTE = ["#1f5fbf", "#dc2626", "#16a34a", "#f59e0b", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];

/** modelops/monitoring/selectors.py monitoring_chart */
export interface MonitoringChart {
  days: string[];
  stages: string[];
  nodes: { node: string; per_day: number[]; median_s: number[] }[];
}

/** modelops/monitoring/prospective.py prospective_drift */
export interface Drift {
  class: string;
  reference: { n: number; median: number; q1: number; q3: number } | null;
  groups: { name: string; weeks: { week: string; scores: { n: number; median: number }; shifted: boolean }[] }[];
}

const colour = (index: number): string => PALETTE[index % PALETTE.length]!;

/** Predictions per day, one stacked bar segment per node. */
export function perDayChart(canvas: HTMLCanvasElement, data: MonitoringChart): Chart {
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.days,
      datasets: data.nodes.map((node, index) => ({ label: node.node, data: node.per_day, backgroundColor: colour(index) })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: "predictions" } } },
    },
  });
}

/** Each node's median seconds per stage, stacked into its median path to the PACS. */
export function latencyChart(canvas: HTMLCanvasElement, data: MonitoringChart): Chart {
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.nodes.map((node) => node.node),
      datasets: data.stages.map((stage, index) => ({
        label: stage.replace("_", " "),
        data: data.nodes.map((node) => node.median_s[index] ?? 0),
        backgroundColor: colour(index),
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      indexAxis: "y",
      scales: { x: { stacked: true, beginAtZero: true, title: { display: true, text: "seconds (median)" } }, y: { stacked: true } },
    },
  });
}

/** Weekly median scores per group (points) against the validation median and quartiles. */
export function driftChart(canvas: HTMLCanvasElement, drift: Drift): Chart {
  const weeks = [...new Set(drift.groups.flatMap((group) => group.weeks.map((week) => week.week)))].sort();
  const reference = drift.reference;
  const flat = (value: number | undefined) => weeks.map(() => value ?? null);
  const datasets = drift.groups.map((group, index) => {
    const byWeek = new Map(group.weeks.map((week) => [week.week, week]));
    return {
      label: group.name,
      data: weeks.map((week) => byWeek.get(week)?.scores.median ?? null),
      borderColor: colour(index),
      backgroundColor: colour(index),
      pointRadius: weeks.map((week) => (byWeek.get(week)?.shifted ? 7 : 4)),
      showLine: false,
    };
  });
  const lines = [
    { label: "validation median", data: flat(reference?.median), borderColor: "#111827", borderWidth: 2 },
    { label: "validation quartiles", data: flat(reference?.q1), borderColor: "#9ca3af", borderDash: [5, 5] },
    { label: "", data: flat(reference?.q3), borderColor: "#9ca3af", borderDash: [5, 5] },
  ].map((line) => ({ ...line, pointRadius: 0, backgroundColor: line.borderColor }));
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    type: "line",
    data: { labels: weeks, datasets: [...datasets, ...lines] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { title: { display: true, text: "week of" } }, y: { min: 0, max: 1, title: { display: true, text: `${drift.class} score` } } },
      plugins: { legend: { position: "bottom", labels: { filter: (item) => item.text !== "" } } },
    },
  });
}

/** Draws what the page carries, shows the figures, marks them drawn. */
export function initMonitoringCharts(): void {
  const monitoring = document.getElementById("monitoring-data");
  const charts = document.getElementById("monitoring-charts");
  if (monitoring?.textContent && charts) {
    const data = JSON.parse(monitoring.textContent) as MonitoringChart;
    if (data.nodes.length) {
      charts.hidden = false;
      perDayChart(document.getElementById("per-day-chart") as HTMLCanvasElement, data);
      latencyChart(document.getElementById("latency-chart") as HTMLCanvasElement, data);
      charts.dataset["drawn"] = "true";
    }
  }
  const drift = document.getElementById("drift-data");
  const figure = document.getElementById("drift-figure");
  if (drift?.textContent && figure) {
    figure.hidden = false;
    driftChart(document.getElementById("drift-chart") as HTMLCanvasElement, JSON.parse(drift.textContent) as Drift);
    figure.dataset["drawn"] = "true";
  }
}

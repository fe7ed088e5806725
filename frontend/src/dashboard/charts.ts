/** The dashboard's charts (Chart.js, only the parts used, so the page stays small). */
import { Chart } from "../charts";
import type { DayProgress, ReaderProgress, WeekAgreement } from "./types";


const STATUS_COLOURS = { completed: "#16a34a", in_progress: "#f59e0b", assigned: "#6366f1" } as const;

/** Reads per reader, stacked by status. */
export function readersChart(canvas: HTMLCanvasElement, rows: readonly ReaderProgress[]): Chart {
  const statuses = ["completed", "in_progress", "assigned"] as const;
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map((row) => row.reader),
      datasets: statuses.map((status) => ({
        label: status.replace("_", " "),
        data: rows.map((row) => row[status]),
        backgroundColor: STATUS_COLOURS[status],
      })),
    },
    options: { animation: false, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "reads" } } } },
  });
}

/** Reads completed per day. */
export function daysChart(canvas: HTMLCanvasElement, rows: readonly DayProgress[]): Chart {
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map((row) => row.day),
      datasets: [{ label: "reads completed", data: rows.map((row) => row.completed), backgroundColor: STATUS_COLOURS.completed }],
    },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });
}

/** Fleiss' kappa per week and cumulatively; an existing chart is replaced. */
export function agreementTimeChart(canvas: HTMLCanvasElement, weeks: readonly WeekAgreement[]): Chart {
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: weeks.map((week) => week.week),
      datasets: [
        { label: "that week's scans", data: weeks.map((week) => week.fleiss_kappa), borderColor: "#6366f1", spanGaps: true },
        { label: "all scans so far", data: weeks.map((week) => week.cumulative_fleiss_kappa), borderColor: "#16a34a", spanGaps: true },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { min: -1, max: 1, title: { display: true, text: "Fleiss' κ" } } },
    },
  });
}

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

/** Kappa's ticks: its whole range, labelled at the values that read as agreement levels. */
const KAPPA_TICKS = [-1, -0.5, 0, 0.5, 1];
/** The axis reaches a little past kappa's range, so a point at -1 or 1 is drawn whole. */
const KAPPA_PADDING = 0.1;

/** Fleiss' kappa per week and cumulatively; an existing chart is replaced. The week axis is
 * offset by half a category, so one week's point sits in the middle of the chart instead of
 * on its edge. */
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
      scales: {
        x: { offset: true },
        y: {
          min: -1 - KAPPA_PADDING,
          max: 1 + KAPPA_PADDING,
          afterBuildTicks: (scale) => {
            scale.ticks = KAPPA_TICKS.map((value) => ({ value }));
          },
          title: { display: true, text: "Fleiss' κ" },
        },
      },
    },
  });
}

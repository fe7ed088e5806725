/** Charts of the modelops pages (Chart.js, only the parts used): loss curves, ROC curves and
 * the Likert study's score distributions. */
import { Chart, type ChartDataset } from "../charts";
import { CLASS_NAMES } from "../generated/vocabulary";
import type { HistoryEntry, RocData, StepLoss } from "./api";
import { historyAxis, isFiniteNumber, numericHistoryKeys, smoothed, stepSeries } from "./format";


export const PALETTE = ["#1f5fbf", "#dc2626", "#16a34a", "#f59e0b", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];
/** One colour per hemorrhage class, the same on every split's chart. */
const CLASS_COLOURS: Record<string, string> = {
  any: "#111827",
  iph: "#dc2626",
  ivh: "#f59e0b",
  sah: "#16a34a",
  sdh: "#1f5fbf",
  edh: "#7c3aed",
};
const CLASS_LABELS: Readonly<Record<string, string>> = CLASS_NAMES;

type Point = { x: number; y: number };

/** The training loss of every logged step, per stage, with a smoothed trend; redrawn in place. */
export function stepLossChart(canvas: HTMLCanvasElement, points: readonly StepLoss[]): Chart {
  const datasets: ChartDataset<"line", Point[]>[] = [];
  let colour = 0;
  for (const [stage, series] of stepSeries(points)) {
    const base = PALETTE[colour++ % PALETTE.length]!;
    datasets.push({ label: `${stage} loss`, data: series, borderColor: `${base}55`, backgroundColor: `${base}55`, borderWidth: 1, pointRadius: 0 });
    datasets.push({ label: `${stage} (smoothed)`, data: smoothed(series), borderColor: base, backgroundColor: base, borderWidth: 2, pointRadius: 0 });
  }
  return draw(canvas, datasets, {
    x: { type: "linear", title: { display: true, text: "logged step" } },
    y: { type: "linear", title: { display: true, text: "loss" } },
  });
}

/** Every numeric key of the per-epoch history: losses on the left axis, figures in [0, 1] and
 * the learning rate on their own right axes, anything else hidden until chosen in the legend. */
export function historyChart(canvas: HTMLCanvasElement, history: readonly HistoryEntry[]): Chart {
  const labels = history.map((entry) => `${entry.stage} ${entry.epoch}`);
  const axes = new Set<string>();
  const datasets = numericHistoryKeys(history).map((key, index) => {
    const axis = historyAxis(key);
    axes.add(axis);
    const colour = PALETTE[index % PALETTE.length]!;
    return {
      label: key,
      data: history.map((entry) => (isFiniteNumber(entry[key]) ? (entry[key] as number) : null)),
      borderColor: colour,
      backgroundColor: colour,
      yAxisID: axis,
      spanGaps: true,
      hidden: axis === "other",
      ...(axis === "lr" ? { borderDash: [4, 4] } : {}),
    };
  });
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    type: "line",
    data: { labels, datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { title: { display: true, text: "stage and epoch" } },
        loss: { type: "linear", position: "left", display: axes.has("loss"), title: { display: true, text: "loss" } },
        figure: { type: "linear", position: "right", min: 0, max: 1, display: axes.has("figure"), grid: { drawOnChartArea: false }, title: { display: true, text: "AUROC etc." } },
        lr: { type: "logarithmic", position: "right", display: axes.has("lr"), grid: { drawOnChartArea: false }, title: { display: true, text: "learning rate" } },
        other: { type: "linear", position: "right", display: false },
      },
    },
  });
}

/** ROC curves of one split, one line per class, and the diagonal of a test that guesses. */
export function rocChart(canvas: HTMLCanvasElement, split: string, data: RocData): Chart {
  const curves = data.splits[split] ?? {};
  const lines: RocLine[] = [];
  for (const cls of data.classes) {
    const curve = curves[cls];
    if (curve) lines.push({ label: CLASS_LABELS[cls] ?? cls.toUpperCase(), colour: CLASS_COLOURS[cls] ?? "#6b7280", curve });
  }
  return rocLinesChart(canvas, lines);
}

/** One ROC curve of a chart: its legend, colour and points. */
export interface RocLine {
  label: string;
  colour: string;
  curve: { fpr: readonly number[]; tpr: readonly number[] };
}

/** ROC curves, one line each, and the diagonal of a test that guesses. */
export function rocLinesChart(canvas: HTMLCanvasElement, lines: readonly RocLine[]): Chart {
  const datasets: ChartDataset<"line", Point[]>[] = lines.map(({ label, colour, curve }) => ({
    label,
    data: curve.fpr.map((fpr, i) => ({ x: fpr, y: curve.tpr[i] ?? 0 })),
    borderColor: colour,
    backgroundColor: colour,
    borderWidth: 2,
    pointRadius: 0,
  }));
  datasets.push({ label: "chance", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: "#9ca3af", backgroundColor: "#9ca3af", borderDash: [5, 5], borderWidth: 1, pointRadius: 0 });
  return draw(
    canvas,
    datasets,
    {
      x: { type: "linear", min: 0, max: 1, title: { display: true, text: "1 − specificity (false-positive rate)" } },
      y: { type: "linear", min: 0, max: 1, title: { display: true, text: "sensitivity (true-positive rate)" } },
    },
  );
}

function draw(canvas: HTMLCanvasElement, datasets: ChartDataset<"line", Point[]>[], scales: Record<string, object>): Chart {
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    type: "line",
    data: { datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales,
      plugins: { legend: { position: "bottom" }, tooltip: { mode: "nearest", intersect: false } },
    },
  });
}

/** One method's score counts as the results page carries them (modelops/likert/results.py). */
export interface ScoreHistogram {
  method: string;
  bars: { score: number; count: number; percent: number }[];
}

const SCORE_NAMES: Record<number, string> = { 1: "1 bad", 2: "2 acceptable", 3: "3 good", 4: "4 excellent" };

/** The share of each Likert score per method, side by side (counts in the tooltip). */
export function scoreHistogramChart(canvas: HTMLCanvasElement, histograms: readonly ScoreHistogram[]): Chart {
  const scores = histograms[0]?.bars.map((bar) => bar.score) ?? [];
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: scores.map((score) => SCORE_NAMES[score] ?? String(score)),
      datasets: histograms.map((histogram, index) => ({
        label: histogram.method,
        data: histogram.bars.map((bar) => bar.percent),
        backgroundColor: PALETTE[index % PALETTE.length]!,
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { title: { display: true, text: "score" } },
        y: { beginAtZero: true, max: 100, title: { display: true, text: "share of the method's scores (%)" } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (item) => {
              const bar = histograms[item.datasetIndex]?.bars[item.dataIndex];
              return `${item.dataset.label ?? ""}: ${bar?.percent ?? 0}% (${bar?.count ?? 0} scores)`;
            },
          },
        },
      },
    },
  });
}

/** Number and text formats of the modelops pages (modelops/pages.py writes the same server-side). */
import type { JobStatus } from "../api/types";
import type { HistoryEntry, StepLoss } from "./api";

/** Statuses of a run or snapshot that may still change. */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set<JobStatus>(["pending", "running", "canceling"]);

export const isFiniteNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** 0.9834 -> "98.3%"; null, NaN and non-numbers -> "—". */
export function percent(value: unknown): string {
  return isFiniteNumber(value) ? `${(value * 100).toFixed(1)}%` : "—";
}

/** A run's epoch or step counter: "2 / 4", or "—" before it is known. */
export function counter(done: number, total: number): string {
  return total > 0 ? `${done} / ${total}` : "—";
}

/** An ISO time as "2025-01-31 14:05:09" in the browser's zone; "—" when missing. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A history value for its table: numbers to four significant digits, "—" when missing. */
export function historyCell(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : "—";
  return String(value);
}

/** The history table's columns: stage and epoch first, then every key in order of appearance. */
export function historyColumns(history: readonly HistoryEntry[]): string[] {
  const columns = ["stage", "epoch"];
  for (const entry of history) for (const key of Object.keys(entry)) if (!columns.includes(key)) columns.push(key);
  return columns;
}

/** Keys of the history that hold a number in at least one epoch (stage and epoch excluded). */
export function numericHistoryKeys(history: readonly HistoryEntry[]): string[] {
  return historyColumns(history).filter(
    (key) => key !== "stage" && key !== "epoch" && history.some((entry) => isFiniteNumber(entry[key])),
  );
}

/** Which axis a history key is drawn on: losses, figures in [0, 1], the learning rate, or other. */
export function historyAxis(key: string): "loss" | "figure" | "lr" | "other" {
  const name = key.toLowerCase();
  if (name.includes("loss")) return "loss";
  if (name === "lr" || name.includes("learning_rate")) return "lr";
  if (/(auroc|auc|acc|f1|sens|spec|precision|recall)/.test(name)) return "figure";
  return "other";
}

/** Step losses as points on one axis of steps, counted across stages and epochs. */
export function stepSeries(points: readonly StepLoss[]): Map<string, { x: number; y: number }[]> {
  const series = new Map<string, { x: number; y: number }[]>();
  points.forEach(([stage, , , loss], index) => {
    if (!isFiniteNumber(loss)) return;
    const list = series.get(stage) ?? [];
    list.push({ x: index + 1, y: loss });
    series.set(stage, list);
  });
  return series;
}

/** An exponential moving average of the losses (smoothing 0.9), for a readable trend. */
export function smoothed(points: readonly { x: number; y: number }[], weight = 0.9): { x: number; y: number }[] {
  let last: number | undefined;
  return points.map((point) => {
    last = last === undefined ? point.y : last * weight + point.y * (1 - weight);
    return { x: point.x, y: last };
  });
}

const ACRONYMS = new Set(["cnn", "rnn", "lr", "auroc"]);

/** "learning_rate" -> "Learning rate", "rnn_units" -> "RNN units". */
export function fieldLabel(name: string): string {
  const words = name.split("_").map((word) => (ACRONYMS.has(word) ? word.toUpperCase() : word));
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

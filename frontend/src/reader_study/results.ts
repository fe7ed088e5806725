/**
 * What the study page shows of a reader study's results (reader-studies/<id>/results/): the
 * reader x modality table, the ROC charts (one per reader, one of the reader-averaged curves per
 * modality), the OR analysis in words and numbers per comparison, the reading times. The
 * answer's parts are read tolerantly (a list of rows or a reader -> modality mapping), so the
 * page shows what the server has computed so far.
 */
import { Chart } from "../charts";
import { PALETTE, rocLinesChart } from "../modelops/charts";
import { isObject, modalityName, type Json } from "./api";

export interface Curve {
  fpr: number[];
  tpr: number[];
}

export interface TableRow {
  reader: string;
  modality: string;
  auc: number | null;
  sensitivity: number | null;
  specificity: number | null;
  reads: number | null;
  median_time_s: number | null;
}

const num = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null);

/** The readers' names of a reader entry (a username, or an object naming one). */
function readerName(value: unknown): string {
  if (typeof value === "string") return value;
  if (isObject(value)) return String(value["username"] ?? value["reader"] ?? value["name"] ?? value["id"] ?? "?");
  return String(value);
}

function row(reader: string, modality: string, figures: Json): TableRow {
  return {
    reader,
    modality,
    auc: num(figures["auc"]),
    sensitivity: num(figures["sensitivity"]),
    specificity: num(figures["specificity"]),
    reads: num(figures["reads"]),
    median_time_s: num(figures["median_time_s"]),
  };
}

/** The table as rows, from a list of rows or a reader -> modality -> figures mapping. */
export function tableRows(table: unknown): TableRow[] {
  if (Array.isArray(table)) {
    return table.filter(isObject).map((entry) => row(readerName(entry["reader"]), String(entry["modality"] ?? ""), entry));
  }
  if (!isObject(table)) return [];
  const rows: TableRow[] = [];
  for (const [reader, modalities] of Object.entries(table)) {
    if (!isObject(modalities)) continue;
    for (const [modality, figures] of Object.entries(modalities)) if (isObject(figures)) rows.push(row(reader, modality, figures));
  }
  return rows;
}

function isCurve(value: unknown): value is Curve {
  return isObject(value) && Array.isArray(value["fpr"]) && Array.isArray(value["tpr"]);
}

/** ROC curves: each reader's per modality, and the reader-averaged one per modality. The
 * server's shape: {readers: [{reader, modality, roc}], average: [{modality, roc}]} (roc null
 * where a reader's cases hold one class only). */
export interface RocCurves {
  readers: Map<string, Map<string, Curve>>;
  average: Map<string, Curve>;
}

export function rocCurves(roc: unknown): RocCurves {
  const result: RocCurves = { readers: new Map(), average: new Map() };
  if (!isObject(roc)) return result;
  const entries = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
  for (const entry of entries(roc["average"])) {
    if (isCurve(entry["roc"])) result.average.set(String(entry["modality"]), entry["roc"]);
  }
  for (const entry of entries(roc["readers"])) {
    if (!isCurve(entry["roc"])) continue;
    const reader = readerName(entry["reader"]);
    if (!result.readers.has(reader)) result.readers.set(reader, new Map());
    result.readers.get(reader)!.set(String(entry["modality"]), entry["roc"]);
  }
  return result;
}

/** One OR analysis (RRRC, FRRC or RRFC) of a difference, as numbers. */
export interface Difference {
  difference: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  f: number | null;
  df1: number | null;
  df2: number | null;
  p: number | null;
}

export function difference(value: unknown): Difference | null {
  if (!isObject(value)) return null;
  const ci = value["ci"];
  const [ciLow, ciHigh] = Array.isArray(ci)
    ? [num(ci[0]), num(ci[1])]
    : isObject(ci)
      ? [num(ci["low"] ?? ci["lower"]), num(ci["high"] ?? ci["upper"])]
      : [num(value["ci_low"]), num(value["ci_high"])];
  return {
    difference: num(value["difference"] ?? value["estimate"]),
    ciLow,
    ciHigh,
    f: num(value["f"] ?? value["statistic"]),
    df1: num(value["df1"]),
    df2: num(value["df2"] ?? value["df"]),
    p: num(value["p"] ?? value["p_value"]),
  };
}

/** Analyses per comparison (e.g. "aided_scores vs unaided") and figure of merit. */
export interface Comparison {
  name: string;
  figures: { figure: string; summary: string; rrrc: Difference | null; frrc: Difference | null; rrfc: Difference | null }[];
}

export function comparisons(analysis: unknown): Comparison[] {
  if (!Array.isArray(analysis)) return [];
  return analysis.filter(isObject).map((entry) => ({
    name: `${modalityName(String(entry["aided"] ?? "?"))} vs ${modalityName(String(entry["unaided"] ?? "unaided"))}`,
    figures: ["auc", "sensitivity", "specificity"]
      .filter((figure) => isObject(entry[figure]))
      .map((figure) => {
        const body = entry[figure] as Json;
        return {
          figure,
          summary: typeof body["summary"] === "string" ? body["summary"] : "",
          rrrc: difference(body["rrrc"]),
          frrc: difference(body["frrc"]),
          rrfc: difference(body["rrfc"]),
        };
      }),
  }));
}

export const fixed = (value: number | null, digits = 3): string => (value === null ? "—" : value.toFixed(digits));
export const percent = (value: number | null): string => (value === null ? "—" : `${(value * 100).toFixed(1)}%`);

export function pText(p: number | null): string {
  if (p === null) return "p —";
  return p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`;
}

/** A difference in numbers: "+0.043 (95% CI −0.002 to 0.088), F(1, 15.3) = 4.46, p = 0.052". */
export function differenceText(d: Difference): string {
  const sign = d.difference !== null && d.difference > 0 ? "+" : "";
  const ci = d.ciLow === null || d.ciHigh === null ? "" : ` (95% CI ${fixed(d.ciLow)} to ${fixed(d.ciHigh)})`;
  const f = d.f === null ? "" : `, F(${fixed(d.df1, 0)}, ${fixed(d.df2, 1)}) = ${fixed(d.f, 2)}`;
  return `${sign}${fixed(d.difference)}${ci}${f}, ${pText(d.p)}`;
}

// --- charts -----------------------------------------------------------------------------------

const MODALITY_COLOURS: Record<string, string> = { unaided: "#6b7280", aided_scores: "#1f5fbf", aided_saliency: "#dc2626" };

/** ROC curves, one line per modality, with the diagonal of guessing. */
export function rocChart(canvas: HTMLCanvasElement, curves: Map<string, Curve>): Chart {
  let index = 0;
  const lines = [...curves].map(([modality, curve]) => ({
    label: modalityName(modality),
    colour: MODALITY_COLOURS[modality] ?? PALETTE[index++ % PALETTE.length]!,
    curve,
  }));
  return rocLinesChart(canvas, lines);
}

/** Median reading time per reader, one bar per modality. */
export function timeChart(canvas: HTMLCanvasElement, rows: readonly TableRow[]): Chart {
  const readers = [...new Set(rows.map((r) => r.reader))];
  const modalities = [...new Set(rows.map((r) => r.modality))];
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: readers,
      datasets: modalities.map((modality, index) => ({
        label: modalityName(modality),
        data: readers.map((reader) => rows.find((r) => r.reader === reader && r.modality === modality)?.median_time_s ?? null),
        backgroundColor: MODALITY_COLOURS[modality] ?? PALETTE[index % PALETTE.length]!,
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, title: { display: true, text: "median active time per case (s)" } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
}

/**
 * Active learning on the reading page: with "Most uncertain first" the never-read scans of the
 * selection are assigned in the order of a model's uncertainty about any ICH (closest to its
 * frozen threshold first). The line under the form says how many of those scans the model has
 * scored; the unscored ones come last and can be scored first (a job).
 */
import { getJson, postJson } from "../api/client";
import type { Schemas } from "../api/types";
import { byId, showMessage } from "../dom";
import { el, messageOf, numberField, textField } from "./html";

export type UncertaintyPool = Schemas["UncertaintyPool"];
export type UncertaintyScoring = Schemas["UncertaintyScoring"];

/** One scan of the pool in assignment order (free-form in the schema: the service's dicts). */
export interface PoolScan {
  scan: number;
  score: number | null;
  distance: number | null;
}

export function poolScans(pool: Pick<UncertaintyPool, "scans">): PoolScan[] {
  return pool.scans.map((row) => ({
    scan: Number(row["scan"]),
    score: typeof row["score"] === "number" ? row["score"] : null,
    distance: typeof row["distance"] === "number" ? row["distance"] : null,
  }));
}

/** What the pool holds, in a line: "12 of 40 never-read scans scored by m1 (threshold 0.60)". */
export function poolSummary(pool: UncertaintyPool): string {
  const scans = `${pool.pool} never-read scan${pool.pool === 1 ? "" : "s"}`;
  const head = `${pool.scored} of ${scans} scored by ${pool.model_name} (threshold for any ICH ${pool.threshold.toFixed(2)})`;
  const unscored = pool.pool - pool.scored;
  return unscored > 0 ? `${head}; ${unscored} unscored come last.` : `${head}.`;
}

/** The first scans in order with their score: "scan 12 (0.61), scan 5 (0.55), …". */
export function poolHead(pool: Pick<UncertaintyPool, "scans">, n = 5): string {
  const rows = poolScans(pool).slice(0, n);
  return rows.map((row) => `scan ${row.scan} (${row.score === null ? "unscored" : row.score.toFixed(2)})`).join(", ");
}

/** The query of the pool for the form's selection; null unless ordering by uncertainty. */
export function poolQuery(form: HTMLFormElement): URLSearchParams | null {
  if (textField(form, "order") !== "uncertainty") return null;
  const model = numberField(form, "model_version");
  if (model === undefined) return null;
  const query = new URLSearchParams({ model_version: String(model), head: "5" });
  const center = numberField(form, "center");
  if (center !== undefined) query.set("center", String(center));
  const split = textField(form, "split");
  if (split) query.set("split", split);
  return query;
}

export function initUncertainty(form: HTMLFormElement): void {
  const box = document.getElementById("uncertainty");
  if (!box) return;
  const url = box.dataset["url"] ?? "";
  const line = byId("uncertainty-pool");
  const scoreButton = byId<HTMLButtonElement>("uncertainty-score");
  let current: URLSearchParams | null = null;

  const refresh = async (): Promise<void> => {
    const query = poolQuery(form);
    const byUncertainty = textField(form, "order") === "uncertainty";
    for (const part of Array.from(form.querySelectorAll<HTMLElement>("[data-uncertainty]"))) part.hidden = !byUncertainty;
    box.hidden = query === null;
    current = query;
    if (!query) return;
    try {
      const pool = await getJson<UncertaintyPool>(`${url}?${query}`);
      if (current !== query) return;
      line.replaceChildren(el("span", {}, poolSummary(pool)),
        pool.scans.length ? el("span", { class: "muted" }, ` First: ${poolHead(pool)}.`) : el("span"));
      scoreButton.hidden = pool.scored >= pool.pool;
      scoreButton.textContent = `Score the ${pool.pool - pool.scored} unscored`;
    } catch (error) {
      showMessage(line, messageOf(error), "error");
      scoreButton.hidden = true;
    }
  };

  form.addEventListener("change", (event) => {
    const name = (event.target as HTMLInputElement | null)?.name ?? "";
    if (["order", "model_version", "center", "split"].includes(name)) void refresh();
  });
  scoreButton.addEventListener("click", () => {
    const query = poolQuery(form);
    if (!query) return;
    scoreButton.disabled = true;
    const body = Object.fromEntries(Array.from(query.entries()).filter(([key]) => key !== "head"));
    void postJson<UncertaintyScoring>(url, body)
      .then((job) => showMessage(line, job.job
        ? `Scoring ${job.scans_total} scan${job.scans_total === 1 ? "" : "s"} (job ${job.status}); reload the count when it is done.`
        : "Every never-read scan is scored or being scored."))
      .catch((error: unknown) => showMessage(line, messageOf(error), "error"))
      .finally(() => { scoreButton.disabled = false; });
  });
  void refresh();
}

/**
 * The study page of a reader study (/reader-studies/<id>/): for coordinators and ML engineers,
 * the pre-registered plan (frozen once the first read opened), the model output's preparation,
 * each reader's progress per session, and the results: the reader x modality table, ROC charts
 * per reader and reader-averaged per modality, the OR analysis in words and numbers, reading
 * times, the CSV of every read; a coordinator closes the study or asks again for failed model
 * output. Until the plan freezes a coordinator edits the design in the list page's form (PATCH
 * with the changed fields; the cases, sessions and plan are drawn anew). Built inside
 * `<section id="reader-study">` from its data-* URLs.
 */
import { ApiError, getJson, postJson, request } from "../api/client";
import { askToConfirm } from "../confirm";
import { dataAttribute, element as el, setFormDisabled, showMessage } from "../dom";
import { dateText, isObject, modalityName, type Json } from "./api";
import { buildCreateForm, changedFields, designValues, editBody, prefillForm, type DesignOptions } from "./list";
import {
  comparisons,
  differenceText,
  fixed,
  percent,
  pText,
  rocChart,
  rocCurves,
  tableRows,
  timeChart,
  type TableRow,
} from "./results";

const PREPARATION_POLL_MS = 10_000;

const text = (value: unknown): string => (value === null || value === undefined ? "—" : String(value));

function table(id: string, head: string[], rows: (string | Node)[][], numeric: ReadonlySet<number> = new Set()): HTMLTableElement {
  const element = el("table", { id });
  const headRow = element.createTHead().insertRow();
  head.forEach((title, index) => headRow.append(el("th", { textContent: title, className: numeric.has(index) ? "num" : "" })));
  const body = element.createTBody();
  for (const cells of rows) {
    const row = body.insertRow();
    cells.forEach((cell, index) => {
      const td = row.insertCell();
      if (numeric.has(index)) td.className = "num";
      td.append(cell);
    });
  }
  return element;
}

function chartFigure(id: string, title: string): { figure: HTMLElement; canvas: HTMLCanvasElement } {
  const figure = el("figure", { className: "chart", id: `${id}-figure` });
  const box = el("div", { className: "chart-box" });
  const canvas = el("canvas", { id });
  box.append(canvas);
  figure.append(el("figcaption", { textContent: title }), box);
  return { figure, canvas };
}

export class StudyPage {
  private readonly message = el("p", { className: "message", id: "study-page-message" });
  private readonly overview = el("div", { id: "study-overview" });
  private readonly results = el("section", { id: "study-results" });
  private readonly editor = el("div", { id: "study-edit" });
  private preparing = false;

  constructor(
    private readonly section: HTMLElement,
    private readonly urls: { detail: string; results: string; csv: string; close: string; prepare: string },
    private readonly manages: boolean,
    /** The design's form options (coordinators only). */
    private readonly options: DesignOptions | null = null,
  ) {
    this.section.querySelector("noscript")?.remove();
    this.section.append(this.message, this.overview, this.editor, this.results);
  }

  async load(): Promise<void> {
    const detail = await getJson<Json>(this.urls.detail);
    this.showOverview(detail);
    try {
      this.showResults(await getJson<Json>(this.urls.results));
    } catch (error) {
      this.results.replaceChildren(el("p", { className: "message error", textContent: `The results could not be computed: ${(error as Error).message}` }));
    }
    this.section.dataset.loaded = "true";
  }

  // --- the study --------------------------------------------------------------------------

  /** While the model output is computed, the overview is read again every few seconds. */
  private followPreparation(): void {
    if (this.preparing) return;
    this.preparing = true;
    window.setTimeout(() => {
      this.preparing = false;
      getJson<Json>(this.urls.detail)
        .then((detail) => this.showOverview(detail))
        .catch(() => this.followPreparation()); // the page stays as it was; try again
    }, PREPARATION_POLL_MS);
  }

  private showOverview(detail: Json): void {
    const status = String(detail["status"] ?? "");
    const frozen = detail["plan_frozen_at"] as string | null | undefined;
    this.section.dataset.status = status;
    const facts = el("p", { id: "study-status" });
    facts.append(
      el("span", { className: `badge ${status}`, textContent: status || "?" }),
      ` · plan ${frozen ? `frozen on ${dateText(frozen)}` : "a draft until the first read opens"}`,
    );
    const parts: Node[] = [facts];
    if (typeof detail["description"] === "string" && detail["description"]) parts.push(el("p", { textContent: detail["description"] }));
    parts.push(this.planBox(detail["plan"], Boolean(frozen)));
    const preparation = detail["preparation"];
    if (isObject(preparation) && Number(preparation["total"]) > 0) parts.push(this.preparationBox(preparation, status));
    parts.push(this.progressBox(detail));
    if (frozen) {
      parts.push(el("p", { className: "muted", id: "study-design-frozen", textContent: "The design is frozen: the first read opened, so the study can no longer change." }));
      this.editor.replaceChildren();
    } else if (this.manages && this.options && status !== "closed") {
      const edit = el("button", { type: "button", id: "study-edit-open", className: "secondary", textContent: "Edit the design" });
      edit.addEventListener("click", () => this.openEditor(detail));
      parts.push(edit);
    }
    if (this.manages && status !== "closed") {
      const close = el("button", { type: "button", id: "study-close", className: "danger", textContent: "Close the study" });
      close.addEventListener("click", () => void this.close());
      const actions = el("div", { className: "actions" });
      actions.append(close);
      parts.push(actions);
    }
    this.overview.replaceChildren(...parts);
    if (status === "preparing") this.followPreparation();
  }

  /** The list page's form, filled with the study's design; saving sends what changed. */
  private openEditor(detail: Json): void {
    if (!this.options) return;
    const form = buildCreateForm(this.options, { id: "study-edit-form", title: "Edit the design", submit: "Save the design" });
    prefillForm(form, designValues(detail));
    const before = editBody(form);
    const message = form.querySelector<HTMLElement>(".message")!;
    const cancel = el("button", { type: "button", className: "secondary", textContent: "Cancel" });
    cancel.addEventListener("click", () => this.editor.replaceChildren());
    form.querySelector(".actions")?.append(cancel);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const changes = changedFields(before, editBody(form));
      if (!Object.keys(changes).length) {
        showMessage(message, "Nothing was changed.");
        return;
      }
      setFormDisabled(form, true);
      showMessage(message, "Saving the design…");
      request<Json>(this.urls.detail, { method: "PATCH", json: changes })
        .then((saved) => {
          this.editor.replaceChildren();
          this.showOverview(saved);
          showMessage(this.message, "The design was saved; its cases, sessions and plan were drawn anew.");
        })
        .catch((error: unknown) => {
          showMessage(message, `The design was not saved: ${(error as Error).message}`, "error");
          setFormDisabled(form, false);
          const unaided = form.querySelector<HTMLInputElement>("input[name=modalities][value=unaided]");
          if (unaided) unaided.disabled = true;
        });
    });
    this.editor.replaceChildren(form);
    form.scrollIntoView({ block: "nearest" });
  }

  /** The plan in words: design, modalities and each reader's order, washout, cases, the
   * questions, the primary endpoint, the analysis, the model and its frozen thresholds. */
  private planBox(plan: unknown, frozen: boolean): HTMLElement {
    const box = el("section", { className: "card", id: "study-plan" });
    box.append(el("h2", { textContent: frozen ? "Pre-registered plan (frozen)" : "Plan (draft until the first read opens)" }));
    if (!isObject(plan)) {
      box.append(el("p", { className: "muted", textContent: "No plan recorded." }));
      return box;
    }
    const list = el("dl", { className: "plan" });
    const add = (term: string, value: string | Node): void => {
      const dd = el("dd");
      dd.append(value);
      list.append(el("dt", { textContent: term }), dd);
    };
    const entries = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
    const shown = new Set<string>();
    const take = (key: string): unknown => {
      shown.add(key);
      return plan[key];
    };
    if (typeof plan["design"] === "string") add("Design", String(take("design")));
    const modalities = entries(take("modalities")).map((m) => text(m["label"] ?? m["value"]));
    if (modalities.length) add("Modalities", modalities.join("; "));
    const readers = entries(take("readers"));
    if (readers.length) {
      const ul = el("ul", { id: "study-plan-readers" });
      for (const reader of readers) {
        const order = Array.isArray(reader["modality_order"]) ? (reader["modality_order"] as string[]).map(modalityName).join(" → ") : "";
        const before = Number(reader["cases_read_before"] ?? 0);
        ul.append(el("li", { textContent: `${text(reader["username"])}: ${order}${before ? ` (labelled ${before} of the cases before)` : ""}` }));
      }
      add("Readers and their modality order", ul);
    }
    if (plan["washout_days"] !== undefined) add("Washout", `${text(take("washout_days"))} days between a reader's sessions`);
    const cases = take("cases");
    if (isObject(cases)) {
      const prevalence = typeof cases["prevalence"] === "number" ? ` (prevalence ${(cases["prevalence"] * 100).toFixed(0)}%)` : "";
      add(
        "Cases",
        `${text(cases["count"])}: ${text(cases["positive"])} with hemorrhage, ${text(cases["negative"])} without${prevalence}; ground truth ${text(cases["ground_truth_version"])}, split ${text(cases["split"])}, seed ${text(cases["seed"])}`,
      );
    }
    const questions = entries(take("questions"));
    if (questions.length) {
      const ol = el("ol");
      for (const q of questions) ol.append(el("li", { textContent: text(q["text"]) }));
      add("Questions per case", ol);
    }
    if (typeof plan["primary_endpoint"] === "string") add("Primary endpoint", String(take("primary_endpoint")));
    if (typeof plan["analysis"] === "string") add("Analysis", String(take("analysis")));
    const model = take("model");
    if (isObject(model)) {
      const thresholds = isObject(model["thresholds"])
        ? Object.entries(model["thresholds"]).map(([cls, value]) => `${cls} ${typeof value === "number" ? value.toFixed(3) : text(value)}`).join(", ")
        : "";
      add("Model", `${text(model["name"])}${thresholds ? `; frozen thresholds ${thresholds}` : ""}`);
    }
    for (const [key, value] of Object.entries(plan)) {
      if (shown.has(key) || value === null || value === undefined) continue;
      add(key.replaceAll("_", " "), typeof value === "object" ? el("code", { textContent: JSON.stringify(value) }) : text(value));
    }
    box.append(list);
    return box;
  }

  private preparationBox(preparation: Json, status: string): HTMLElement {
    const box = el("section", { className: "card", id: "study-preparation" });
    const [done, failed, total] = [Number(preparation["done"] ?? 0), Number(preparation["failed"] ?? 0), Number(preparation["total"] ?? 0)];
    box.append(el("h2", { textContent: "Model output" }));
    box.append(el("p", { textContent: `${done} of ${total} cases ready${failed ? `, ${failed} failed` : ""}${status === "preparing" ? " (aided sessions open when every case is ready)" : ""}.` }));
    const errors = preparation["errors"];
    if (Array.isArray(errors) && errors.length) {
      const list = el("ul", { className: "errors" });
      for (const error of errors) list.append(el("li", { textContent: isObject(error) ? `Case ${text(error["case"])}: ${text(error["message"])}` : text(error) }));
      box.append(list);
    }
    if (this.manages && failed) {
      const retry = el("button", { type: "button", id: "study-prepare", textContent: "Compute the failed model output again" });
      retry.addEventListener("click", () => void this.prepare(retry));
      box.append(retry);
    }
    return box;
  }

  /** Each reader's sessions: modality, when it opens, answered of total, completed. */
  private progressBox(detail: Json): HTMLElement {
    const box = el("section", { className: "card", id: "study-progress" });
    box.append(el("h2", { textContent: "Readers' progress" }));
    const source = detail["progress"] ?? detail["sessions"];
    const rows: (string | Node)[][] = [];
    const add = (reader: string, session: Json): void => {
      rows.push([
        reader,
        text(session["sequence"]),
        modalityName(String(session["modality"] ?? "")),
        session["opens_at"] ? dateText(session["opens_at"] as string) : "—",
        `${text(session["answered"])} / ${text(session["total"])}`,
        session["completed_at"] ? dateText(session["completed_at"] as string) : "",
      ]);
    };
    const readerOf = (value: Json): string => {
      const reader = value["username"] ?? value["reader"];
      return isObject(reader) ? String(reader["username"] ?? reader["id"]) : text(reader);
    };
    if (Array.isArray(source)) {
      for (const entry of source.filter(isObject)) {
        if (Array.isArray(entry["sessions"])) for (const session of entry["sessions"].filter(isObject)) add(readerOf(entry), session);
        else add(readerOf(entry), entry);
      }
    } else if (isObject(source)) {
      for (const [reader, sessions] of Object.entries(source)) if (Array.isArray(sessions)) for (const s of sessions.filter(isObject)) add(reader, s);
    }
    box.append(rows.length ? table("study-progress-table", ["Reader", "Session", "Modality", "Opens", "Answered", "Completed"], rows) : el("p", { className: "muted", textContent: "No sessions." }));
    return box;
  }

  // --- the results ------------------------------------------------------------------------

  private showResults(results: Json): void {
    const parts: Node[] = [el("h2", { textContent: "Results" })];
    const complete = Array.isArray(results["complete_readers"]) ? (results["complete_readers"] as unknown[]).map((r) => (isObject(r) ? text(r["username"]) : text(r))) : [];
    parts.push(
      el("p", {
        id: "study-results-readers",
        textContent: `${text(results["cases"])} cases; readers who finished every session (in the OR analysis): ${complete.length ? complete.join(", ") : "none yet"}.`,
      }),
    );
    const csv = el("a", { href: this.urls.csv, id: "study-csv", className: "button secondary", textContent: "Every read as CSV" });
    csv.setAttribute("download", "");
    parts.push(csv);

    const rows = tableRows(results["table"]);
    parts.push(el("h3", { textContent: "Readers x modalities" }), this.resultsTable(rows));

    parts.push(el("h3", { textContent: "Obuchowski-Rockette analysis" }), this.analysisBox(results["analysis"]));
    const overall = this.overallBox(results["overall"]);
    if (overall) parts.push(overall);
    if (typeof results["analysis_note"] === "string") parts.push(el("p", { className: "muted", id: "study-analysis-note", textContent: results["analysis_note"] }));
    parts.push(el("h3", { textContent: "Reading time" }), this.readingTimeBox(results["reading_time"]));

    const curves = rocCurves(results["roc"]);
    const charts = el("div", { className: "charts", id: "study-roc-charts" });
    const drawings: (() => void)[] = [];
    if (curves.average.size) {
      const { figure, canvas } = chartFigure("study-roc-average", "Reader-averaged ROC curve per modality");
      charts.append(figure);
      drawings.push(() => rocChart(canvas, curves.average));
    }
    [...curves.readers].forEach(([reader, byModality], index) => {
      const { figure, canvas } = chartFigure(`study-roc-reader-${index}`, `ROC curves of ${reader}`);
      figure.dataset.reader = reader;
      charts.append(figure);
      drawings.push(() => rocChart(canvas, byModality));
    });
    parts.push(el("h3", { textContent: "ROC curves (confidence 0-100)" }), charts);
    if (rows.some((r) => r.median_time_s !== null)) {
      const { figure, canvas } = chartFigure("study-time-chart", "Median active reading time per case");
      parts.push(figure);
      drawings.push(() => timeChart(canvas, rows));
    }
    this.results.replaceChildren(...parts);
    for (const draw of drawings) draw();
    this.results.dataset.drawn = String(drawings.length);
  }

  private resultsTable(rows: readonly TableRow[]): HTMLElement {
    if (!rows.length) return el("p", { className: "muted", id: "study-results-table", textContent: "No answered reads yet." });
    return table(
      "study-results-table",
      ["Reader", "Modality", "AUC", "Sensitivity", "Specificity", "Reads", "Median time (s)"],
      rows.map((r) => [r.reader, modalityName(r.modality), fixed(r.auc), percent(r.sensitivity), percent(r.specificity), text(r.reads), fixed(r.median_time_s, 1)]),
      new Set([2, 3, 4, 5, 6]),
    );
  }

  private analysisBox(analysis: unknown): HTMLElement {
    const box = el("div", { id: "study-analysis" });
    const found = comparisons(analysis);
    if (!found.length) {
      box.append(el("p", { className: "muted", textContent: "No analysis yet." }));
      return box;
    }
    for (const comparison of found) {
      const part = el("section", { className: "comparison" });
      part.dataset.comparison = comparison.name;
      part.append(el("h4", { textContent: comparison.name }));
      for (const figure of comparison.figures) {
        const name = figure.figure === "auc" ? "AUC" : figure.figure;
        if (figure.summary) part.append(el("p", { className: "summary", textContent: figure.summary }));
        const rows = (["rrrc", "frrc", "rrfc"] as const)
          .filter((kind) => figure[kind])
          .map((kind) => [
            name,
            { rrrc: "random readers, random cases", frrc: "fixed readers, random cases", rrfc: "random readers, fixed cases" }[kind],
            differenceText(figure[kind]!),
          ]);
        part.append(table(`study-analysis-${figure.figure}-${found.indexOf(comparison)}`, ["Figure", "Generalisation", "Difference (aided − unaided)"], rows));
      }
      box.append(part);
    }
    return box;
  }

  /** With three modalities: the OR test of equal figures over all of them (RRRC). */
  private overallBox(overall: unknown): HTMLElement | null {
    if (!isObject(overall)) return null;
    const lines: string[] = [];
    for (const figure of ["auc", "sensitivity", "specificity"]) {
      const body = overall[figure];
      if (!isObject(body) || !isObject(body["rrrc"])) continue;
      const test = body["rrrc"];
      const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
      const means = Array.isArray(test["means"]) ? (test["means"] as unknown[]).map((m) => fixed(num(m))).join(" / ") : "";
      lines.push(
        `${figure === "auc" ? "AUC" : figure}: F(${fixed(num(test["df1"]), 0)}, ${fixed(num(test["df2"]), 1)}) = ${fixed(num(test["f"]), 2)}, ${pText(num(test["p"]))}${means ? ` (means ${means})` : ""}`,
      );
    }
    if (!lines.length) return null;
    const box = el("div", { id: "study-overall" });
    box.append(el("h4", { textContent: "All modalities at once (random readers and cases)" }));
    const ul = el("ul");
    for (const line of lines) ul.append(el("li", { textContent: line }));
    box.append(ul);
    return box;
  }

  /** Per comparison: the ratio of geometric mean reading times with its CI and paired test,
   * in the server's words, and each reader's mean times. */
  private readingTimeBox(readingTime: unknown): HTMLElement {
    const box = el("div", { id: "study-reading-time" });
    const entries = Array.isArray(readingTime) ? readingTime.filter(isObject) : [];
    if (!entries.length) {
      box.append(el("p", { className: "muted", textContent: "Compared once two readers have finished every session." }));
      return box;
    }
    for (const entry of entries) {
      const name = `${modalityName(String(entry["aided"] ?? "?"))} vs ${modalityName(String(entry["unaided"] ?? "unaided"))}`;
      const ci = Array.isArray(entry["ci"]) ? (entry["ci"] as (number | null)[]) : [null, null];
      const ratio = typeof entry["ratio"] === "number" ? entry["ratio"] : null;
      const p = typeof entry["p"] === "number" ? entry["p"] : null;
      const numbers = `ratio ${fixed(ratio, 2)} (95% CI ${fixed(ci[0] ?? null, 2)} to ${fixed(ci[1] ?? null, 2)}), ${pText(p)}`;
      const part = el("section", { className: "comparison" });
      part.append(el("h4", { textContent: name }));
      if (typeof entry["summary"] === "string") part.append(el("p", { className: "summary", textContent: entry["summary"] }));
      part.append(el("p", { className: "muted", textContent: numbers }));
      const perReader = Array.isArray(entry["per_reader"]) ? entry["per_reader"].filter(isObject) : [];
      if (perReader.length) {
        part.append(
          table(
            `study-time-readers-${entries.indexOf(entry)}`,
            ["Reader", "Aided: geometric mean (s)", "Unaided: geometric mean (s)"],
            perReader.map((r) => [text(r["reader"]), fixed(typeof r["aided_s"] === "number" ? r["aided_s"] : null, 1), fixed(typeof r["unaided_s"] === "number" ? r["unaided_s"] : null, 1)]),
            new Set([1, 2]),
          ),
        );
      }
      box.append(part);
    }
    return box;
  }

  // --- actions ----------------------------------------------------------------------------

  private async close(): Promise<void> {
    if (!askToConfirm("Close the study? Readers can no longer answer; the results stay.")) return;
    try {
      await postJson(this.urls.close);
      window.location.reload();
    } catch (error) {
      showMessage(this.message, `The study was not closed: ${(error as Error).message}`, "error");
    }
  }

  private async prepare(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      await postJson(this.urls.prepare);
      showMessage(this.message, "The failed model output is being computed again.");
    } catch (error) {
      showMessage(this.message, `Not requested: ${error instanceof ApiError ? error.message : String(error)}`, "error");
      button.disabled = false;
    }
  }
}

export async function startStudyPage(section: HTMLElement): Promise<void> {
  const urls = {
    detail: dataAttribute(section, "detailUrl"),
    results: dataAttribute(section, "resultsUrl"),
    csv: dataAttribute(section, "csvUrl"),
    close: dataAttribute(section, "closeUrl"),
    prepare: dataAttribute(section, "prepareUrl"),
  };
  const options = document.getElementById("reader-study-options")?.textContent;
  const manages = section.dataset.manages === "true";
  await new StudyPage(section, urls, manages, manages && options ? (JSON.parse(options) as DesignOptions) : null).load();
}

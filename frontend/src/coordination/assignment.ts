/**
 * The "Assign scans" form of the reading page: Preview asks the server for a dry run and shows
 * the plan per scan; Assign then saves that same plan (same filter, same scans, same seed), and
 * the workload and reads tables are re-rendered from the server, and with them the open-read
 * counts beside the reader checkboxes (the checkboxes and capacities typed stay as they are).
 */
import { scansAssign, type AssignRequest, type AssignResult } from "../api/coordination";
import type { Split } from "../api/types";
import { byId, setFormDisabled, showMessage } from "../dom";
import { el, messageOf, numberField, refreshSections, textField } from "./html";
import { describeScanPlan, summarisePlan } from "./plan";
import { initUncertainty, poolHead } from "./uncertainty";

export const REFRESHED_SECTIONS = ["workload", "study-reads"];

/** After any change of reads: the workload and reads tables again from the server, and the
 * open counts beside the reader checkboxes taken from the fresh workload table. */
export async function refreshReading(): Promise<void> {
  await refreshSections(REFRESHED_SECTIONS);
  syncOpenCounts(document);
}

/** Copy each reader's open reads from the workload table to the count beside their checkbox. */
export function syncOpenCounts(root: ParentNode): void {
  for (const count of Array.from(root.querySelectorAll<HTMLElement>("[data-open-reads]"))) {
    const reader = count.dataset["openReads"] ?? "";
    const cell = root.querySelector<HTMLElement>(`#workload-table tr[data-reader="${CSS.escape(reader)}"] td[data-open]`);
    if (cell) count.textContent = `${cell.textContent?.trim() ?? ""} open`;
  }
}

export function initAssignment(root: HTMLElement, names: Record<string, string>): void {
  const url = root.dataset["assignUrl"] ?? "";
  const form = byId<HTMLFormElement>("assign-form");
  const assignButton = byId<HTMLButtonElement>("assign-button");
  const message = byId("assign-message");
  const preview = byId("assign-preview");
  let planned: { request: AssignRequest; result: AssignResult } | null = null;
  initUncertainty(form);

  const forget = (): void => {
    planned = null;
    assignButton.disabled = true;
  };
  // A changed filter invalidates the preview: Assign only ever saves what was shown.
  form.addEventListener("input", forget);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void run(async () => {
      const request = assignRequest(form);
      showMessage(message, "Computing the plan…");
      const result = await scansAssign(url, { ...request, dry_run: true });
      renderPreview(preview, result, names);
      if (result.reads.length) {
        planned = { request, result };
        assignButton.disabled = false;
        showMessage(message, planText(result, true));
        assignButton.focus();
      } else {
        forget();
        showMessage(message, result.skipped.length ? "No scan can be assigned (see why below)." : "No scan matches.");
      }
    });
  });

  assignButton.addEventListener("click", () => {
    if (!planned) return;
    const { request, result } = planned;
    void run(async () => {
      showMessage(message, "Assigning…");
      const scans = [...new Set(result.reads.map((read) => read.scan))];
      const saved = await scansAssign(url, { ...request, scans, seed: result.seed, dry_run: false });
      forget();
      renderPreview(preview, saved, names);
      showMessage(message, planText(saved, false));
      await refreshReading();
    });
  });

  async function run(work: () => Promise<void>): Promise<void> {
    setFormDisabled(form, true);
    assignButton.disabled = true;
    try {
      await work();
    } catch (error) {
      forget();
      showMessage(message, messageOf(error), "error");
    } finally {
      setFormDisabled(form, false);
      assignButton.disabled = planned === null;
    }
  }
}

/** The request of the form's current state (no dry_run yet). */
export function assignRequest(form: HTMLFormElement): AssignRequest {
  const status = (textField(form, "status") || "unassigned") as NonNullable<AssignRequest["status"]>;
  const request: AssignRequest = { dry_run: true, status };
  const center = numberField(form, "center");
  if (center !== undefined) request.center = center;
  const split = textField(form, "split");
  if (split) request.split = split as Split;
  const limit = numberField(form, "limit");
  if (limit !== undefined) request.limit = limit;
  if (textField(form, "order") === "uncertainty") {
    const model = numberField(form, "model_version");
    if (model === undefined) throw new Error("Choose the model whose uncertainty orders the scans.");
    request.order = "uncertainty";
    request.model_version = model;
  }
  const capacity = numberField(form, "capacity");
  if (capacity !== undefined) request.capacity = capacity;
  const boxes = Array.from(form.querySelectorAll<HTMLInputElement>("input[name=reader]"));
  const chosen = boxes.filter((box) => box.checked).map((box) => Number(box.value));
  if (boxes.length && chosen.length < boxes.length) {
    if (!chosen.length) throw new Error("Choose at least one reader.");
    request.readers = chosen;
  }
  const capacities: Record<string, number> = {};
  for (const id of chosen) {
    const value = numberField(form, `capacity-${id}`);
    if (value !== undefined) capacities[String(id)] = value;
  }
  if (Object.keys(capacities).length) request.capacities = capacities;
  return request;
}

function planText(result: AssignResult, dryRun: boolean): string {
  const scans = `${result.assigned_scans} scan${result.assigned_scans === 1 ? "" : "s"}`;
  const reads = `${result.reads.length} read${result.reads.length === 1 ? "" : "s"}`;
  const skipped = result.skipped.length ? `; ${result.skipped.length} skipped` : "";
  return dryRun
    ? `Preview: ${reads} on ${scans}${skipped}. Press Assign to save this plan.`
    : `Assigned ${reads} on ${scans}${skipped}.`;
}

function renderPreview(container: HTMLElement, result: AssignResult, names: Record<string, string>): void {
  const summary = summarisePlan(result.reads, names);
  container.replaceChildren();
  container.hidden = false;
  if (summary.scans.length) {
    const rows = summary.scans.map((plan) =>
      el(
        "tr",
        { "data-scan": plan.scan },
        el("td", { class: "num" }, plan.scan),
        el("td", {}, plan.level),
        el("td", {}, plan.level === "scan" ? "—" : (plan.primary ?? "already assigned")),
        el("td", {}, plan.level === "scan" ? describeScanPlan(plan) : plan.others.join(", ") || "—"),
      ),
    );
    container.append(
      el(
        "table",
        { id: "preview-table" },
        el(
          "thead",
          {},
          el("tr", {}, el("th", { class: "num" }, "Scan"), el("th", {}, "Level"), el("th", {}, "Primary reader"),
            el("th", {}, "Cross-readers / scan-level readers")),
        ),
        el("tbody", {}, ...rows),
      ),
      el("p", { class: "muted" }, `New reads per reader: ${summary.perReader.map(([name, n]) => `${name} +${n}`).join(", ")}`),
    );
  }
  if (result.uncertainty) {
    container.append(el("p", { id: "preview-uncertainty" },
      `Never-read scans, most uncertain for ${result.uncertainty.model_name} first: ${poolHead(result.uncertainty, 10) || "none"}.`));
  }
  if (result.skipped.length) {
    container.append(
      el("h3", {}, "Skipped"),
      el("ul", { id: "preview-skipped" }, ...result.skipped.map((skip) => el("li", {}, `Scan ${skip.scan}: ${skip.reason}`))),
    );
  }
}

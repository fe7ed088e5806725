/** The agreement part of the dashboard: filters, the table, the CSV link, the reader-pair
 * heatmap per label and agreement over time, all from one call of the agreement API. */
import { getJson } from "../api/client";
import { byId, dataAttribute, setFormDisabled, showMessage } from "../dom";
import { CLASS_NAMES } from "../generated/vocabulary";
import { agreementTimeChart } from "./charts";
import { estimateText } from "./format";
import { renderHeatmap } from "./heatmap";
import type { AgreementReport, AgreementRow } from "./types";

/** The classes' names, `any` spelled out as the table heads it. */
const LABEL_NAMES: Readonly<Record<string, string>> = { ...CLASS_NAMES, any: "Any ICH" };

export class AgreementPanel {
  private readonly form = byId<HTMLFormElement>("agreement-filters");
  private readonly status = byId("agreement-status");
  private readonly body = byId("agreement-table").querySelector("tbody")!;
  private readonly csv = byId<HTMLAnchorElement>("agreement-csv");
  private readonly heatmapLabel = byId<HTMLSelectElement>("heatmap-label");
  private report: AgreementReport | null = null;

  constructor(private readonly section: HTMLElement) {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.load();
    });
    this.heatmapLabel.addEventListener("change", () => this.showHeatmap());
  }

  async load(): Promise<void> {
    const query = this.query();
    this.csv.href = `${dataAttribute(this.section, "agreementCsvUrl")}?${query}`;
    setFormDisabled(this.form, true);
    showMessage(this.status, "Computing agreement…");
    try {
      this.report = await getJson<AgreementReport>(`${dataAttribute(this.section, "agreementUrl")}?${query}`);
      this.show(this.report);
    } catch (error) {
      showMessage(this.status, `Agreement could not be computed: ${(error as Error).message}`, "error");
    } finally {
      setFormDisabled(this.form, false);
    }
  }

  private query(): string {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(this.form)) if (value !== "") params.set(name, String(value));
    return params.toString();
  }

  private show(report: AgreementReport): void {
    const interval = `${Math.round(report.ci_level * 100)}% intervals from ${report.n_boot} bootstrap replicates over scans`;
    showMessage(this.status, report.reads ? `${report.scans} scans, ${report.reads} completed reads; ${interval}.` : "No completed reads in this selection.");
    this.body.replaceChildren(...report.table.map((row) => tableRow(row)));
    const labels = report.pairwise.map((matrix) => `${matrix.label}|${matrix.level}`);
    this.heatmapLabel.replaceChildren(
      ...labels.map((key) => {
        const [label, level] = key.split("|") as [string, string];
        return new Option(`${LABEL_NAMES[label] ?? label}, ${level} level`, key);
      }),
    );
    this.showHeatmap();
    agreementTimeChart(byId<HTMLCanvasElement>("chart-agreement-time"), report.over_time);
    this.section.dataset.agreementLoaded = "true";
  }

  private showHeatmap(): void {
    const [label, level] = this.heatmapLabel.value.split("|");
    const matrix = this.report?.pairwise.find((item) => item.label === label && item.level === level);
    renderHeatmap(byId("agreement-heatmap"), matrix);
  }
}

function tableRow(row: AgreementRow): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.dataset.label = row.label;
  tr.dataset.level = row.level;
  const cells = [
    LABEL_NAMES[row.label] ?? row.label,
    row.level,
    String(row.n_items),
    estimateText(row.fleiss_kappa),
    estimateText(row.krippendorff_alpha),
    estimateText(row.mean_cohen_kappa),
    estimateText(row.percent_agreement, 2, true),
    estimateText(row.prevalence, 2, true),
  ];
  cells.forEach((content, index) => {
    const td = document.createElement("td");
    td.textContent = content;
    if (index === 2) td.className = "num";
    tr.append(td);
  });
  return tr;
}

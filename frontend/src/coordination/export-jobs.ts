/**
 * Exports built on the server (the DICOM SR zip: about a third of a second per scan). The
 * link keeps its plain URL for scripts; a click here starts the export as a job instead,
 * shows how many scans are done, offers a cancel, and downloads the file once it is whole.
 */
import { getJson, postJson } from "../api/client";
import type { Schemas } from "../api/types";
import { FINISHED_STATUSES } from "../api/types";
import { showMessage } from "../dom";
import { el, messageOf } from "./html";

export type ExportJob = Schemas["ExportJobOutput"];

/** How often a running export is asked how far it got. */
const POLL_MS = 1000;

export function initExportJobs(root: HTMLElement): void {
  root.addEventListener("click", (event) => {
    const link = (event.target as HTMLElement).closest<HTMLAnchorElement>("a[data-export-job-url]");
    if (!link) return;
    event.preventDefault();
    if (link.dataset["running"] !== "true") void runExport(link);
  });
}

/** "SR export: 40 of 121 scans" and the like, for the status line. */
export function exportProgressText(job: Pick<ExportJob, "status" | "scans_done" | "scans_total" | "message" | "file_bytes">): string {
  const scans = `${job.scans_total} scan${job.scans_total === 1 ? "" : "s"}`;
  switch (job.status) {
    case "pending":
      return `Export queued (${scans}).`;
    case "running":
      return `Building the reports: ${job.scans_done} of ${scans}.`;
    case "canceling":
      return "Stopping the export…";
    case "succeeded":
    case "warning":
      return `Ready: ${scans}, ${megabytes(job.file_bytes ?? 0)}.`;
    case "canceled":
      return "Export canceled.";
    default:
      return job.message || "The export failed.";
  }
}

function megabytes(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1000))} kB`;
}

async function runExport(link: HTMLAnchorElement): Promise<void> {
  const box = link.closest<HTMLElement>(".gt-exports") ?? link.parentElement!;
  const panel = el("div", { class: "export-job", "data-kind": link.dataset["kind"] ?? "" });
  const line = el("span", { role: "status" });
  const bar = el("progress", { max: 1, value: 0 });
  const cancel = el("button", { type: "button", class: "secondary" }, "Cancel");
  panel.append(bar, " ", line, " ", cancel);
  box.querySelector(`.export-job[data-kind="${link.dataset["kind"] ?? ""}"]`)?.remove();
  box.append(panel);
  link.dataset["running"] = "true";
  link.setAttribute("aria-disabled", "true");
  showMessage(line, "Starting the export…");
  let job: ExportJob | null = null;
  cancel.addEventListener("click", () => {
    if (!job) return;
    cancel.disabled = true;
    void postJson<ExportJob>(`${job.url}cancel/`).catch((error: unknown) => showMessage(line, messageOf(error), "error"));
  });
  try {
    job = await postJson<ExportJob>(link.dataset["exportJobUrl"] ?? "", { kind: link.dataset["kind"] });
    panel.dataset["job"] = job.id;
    while (!FINISHED_STATUSES.has(job.status)) {
      show(panel, bar, line, job);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      job = await getJson<ExportJob>(job.url);
    }
    show(panel, bar, line, job);
    cancel.remove();
    if (job.download_url) {
      const download = el("a", { href: job.download_url, download: job.file_name, class: "export-download" }, `Download ${job.file_name}`);
      panel.append(" ", download);
      download.click(); // the user asked for the file: it comes as soon as it is whole
    }
  } catch (error) {
    cancel.remove();
    showMessage(line, `The export could not be followed: ${messageOf(error)}`, "error");
  } finally {
    delete link.dataset["running"];
    link.removeAttribute("aria-disabled");
  }
}

function show(panel: HTMLElement, bar: HTMLProgressElement, line: HTMLElement, job: ExportJob): void {
  panel.dataset["status"] = job.status;
  bar.value = job.status === "succeeded" ? 1 : job.progress;
  const failed = job.status === "failed";
  showMessage(line, exportProgressText(job), failed ? "error" : "info");
}

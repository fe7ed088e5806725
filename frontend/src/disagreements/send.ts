/**
 * The disagreements page (/models/versions/<id>/disagreements/): a coordinator ticks listed
 * disagreements and sends their scans to a blinded second read (a chosen reader or balanced);
 * anyone on the page may queue the scoring of scans the model has no score of. The list itself
 * is rendered by the server; after a send the page reloads to show each scan's new state.
 */
import { postJson, requestWithStatus } from "../api/client";
import { showMessage } from "../dom";

/** One ticked row, as POST .../disagreements/second-reads/ takes it. */
export interface Selection {
  scan: number;
  hemorrhage_class: string;
  source: string;
}

export interface SendResult {
  sent: { scan: number; reader: string; reason: Record<string, unknown> }[];
  refused: { scan: number; code: string; reason: string }[];
}

/** The selections of the ticked rows (a row carries data-scan, data-class, data-source). */
export function selectionsOf(rows: Iterable<HTMLElement>): Selection[] {
  const picked: Selection[] = [];
  for (const row of rows) {
    const box = row.querySelector<HTMLInputElement>("input.pick");
    if (!box?.checked || box.disabled) continue;
    picked.push({
      scan: Number(row.dataset["scan"]),
      hemorrhage_class: row.dataset["class"] ?? "",
      source: row.dataset["source"] ?? "",
    });
  }
  return picked;
}

/** "2 scans sent to a second read (neuro2, neuro3); 1 refused: scan 7: …" */
export function sendSummary(result: SendResult): string {
  const parts: string[] = [];
  const readers = [...new Set(result.sent.map((s) => s.reader))].sort();
  if (result.sent.length) {
    const noun = result.sent.length === 1 ? "scan" : "scans";
    parts.push(`${result.sent.length} ${noun} sent to a blinded second read (${readers.join(", ")})`);
  } else {
    parts.push("No scan was sent");
  }
  if (result.refused.length) {
    const reasons = result.refused.map((r) => `scan ${r.scan}: ${r.reason}`).join("; ");
    parts.push(`${result.refused.length} refused: ${reasons}`);
  }
  return `${parts.join("; ")}.`;
}

export function initDisagreements(root: HTMLElement): void {
  const rows = () => Array.from(root.querySelectorAll<HTMLTableRowElement>("#disagreements-table tbody tr"));
  const send = root.querySelector<HTMLButtonElement>("#send-selected");
  const message = root.querySelector<HTMLElement>("#send-message");
  const reader = root.querySelector<HTMLSelectElement>("#send-reader");
  const all = root.querySelector<HTMLInputElement>("#select-all");
  const refresh = () => {
    if (send) send.disabled = selectionsOf(rows()).length === 0;
  };
  root.querySelector("#disagreements-table")?.addEventListener("change", refresh);
  all?.addEventListener("change", () => {
    for (const box of root.querySelectorAll<HTMLInputElement>("input.pick:not(:disabled)")) box.checked = all.checked;
    refresh();
  });
  send?.addEventListener("click", async () => {
    const items = selectionsOf(rows());
    if (!items.length || !message) return;
    send.disabled = true;
    try {
      const chosen = reader?.value ? Number(reader.value) : null;
      const result = await postJson<SendResult>(root.dataset["sendUrl"] ?? "", { items, reader: chosen });
      showMessage(message, sendSummary(result), result.sent.length ? "info" : "error");
      if (result.sent.length) window.setTimeout(() => window.location.reload(), 1500);
      else refresh();
    } catch (error) {
      showMessage(message, error instanceof Error ? error.message : String(error), "error");
      refresh();
    }
  });
  const score = root.querySelector<HTMLButtonElement>("#score-missing");
  const scoring = root.querySelector<HTMLElement>("#scoring-message");
  score?.addEventListener("click", async () => {
    if (!scoring) return;
    score.disabled = true;
    try {
      const answer = await requestWithStatus<{ message?: string; scans_total?: number }>(root.dataset["scoringUrl"] ?? "", {
        method: "POST",
        json: {},
      });
      const text =
        answer.status === 201
          ? `Scoring ${answer.body.scans_total ?? 0} scans on a training worker; reload the page once it has finished.`
          : (answer.body.message ?? "Nothing to score.");
      showMessage(scoring, text);
    } catch (error) {
      showMessage(scoring, error instanceof Error ? error.message : String(error), "error");
      score.disabled = false;
    }
  });
  refresh();
  root.dataset["ready"] = "true";
}

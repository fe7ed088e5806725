/**
 * On the reader's worklist (/reading/): the reader-study sessions waiting for the reader, each
 * with a link to its reading page (or the date it opens after the washout). Read from the
 * reader-study list API, which gives a reader only their own studies and sessions.
 */
import { getJson } from "../api/client";
import { element as el } from "../dom";
import { dateText, type NextState } from "./api";

export const STUDIES_API = "/api/v1/reader-studies/";
export const STUDIES_PAGE = "/reader-studies/";

interface ReaderStudySummary {
  id: number;
  name: string;
  status: string;
  sessions: { sequence: number; answered: number; total: number; completed_at: string | null }[];
  next: NextState | null;
}

/** One line per study with something for the reader now or later; null when none. */
export function noticeItems(studies: readonly ReaderStudySummary[]): HTMLLIElement[] {
  const items: HTMLLIElement[] = [];
  for (const study of studies) {
    const next = study.next;
    if (!next || next.state === "done" || study.status === "closed") continue;
    const current = study.sessions.find((s) => !s.completed_at);
    const item = el("li");
    item.dataset.study = String(study.id);
    const where = current ? ` · session ${current.sequence} of ${study.sessions.length}, ${current.answered} of ${current.total} cases answered` : "";
    item.append(el("strong", { textContent: study.name }), where);
    if (next.state === "read") {
      const started = study.sessions.some((s) => s.answered > 0);
      item.append(" ", el("a", { className: "button", href: `${STUDIES_PAGE}${study.id}/read/`, textContent: started ? "Continue" : "Start" }));
    } else if (next.state === "waiting") {
      item.append(` · next session opens on ${dateText(next.opens_at)}`);
    } else {
      item.append(" · the model output of your next session is being prepared");
    }
    items.push(item);
  }
  return items;
}

/** Add the notice after the worklist's heading; nothing when no study waits. */
export async function showReaderStudyNotice(doc: Document = document): Promise<void> {
  const answer = await getJson<ReaderStudySummary[] | { results: ReaderStudySummary[] }>(STUDIES_API);
  const studies = Array.isArray(answer) ? answer : answer.results;
  const items = noticeItems(studies);
  if (!items.length) return;
  const box = el("section", { className: "card", id: "reader-study-notice" });
  const list = el("ul");
  list.append(...items);
  box.append(el("h2", { textContent: "Reader studies" }), list);
  doc.querySelector("main h1")?.after(box);
}

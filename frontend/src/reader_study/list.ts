/**
 * The reader studies' list page (/reader-studies/): every study with its state for those who
 * watch them (a link to each study's page), a reader's own studies with each session's state and
 * a Start / Continue button (or the date a session opens after the washout), and for a
 * coordinator the form that creates a study (sent to the API as JSON; field errors shown).
 */
import { getJson, postJson } from "../api/client";
import { dataAttribute, setFormDisabled, showMessage } from "../dom";
import { dateText, modalityName } from "./api";

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

/** A list answer as an array (a plain list, or a paginated {results: [...]}). */
function items(answer: unknown): Json[] {
  if (Array.isArray(answer)) return answer.filter(isObject);
  if (isObject(answer) && Array.isArray(answer["results"])) return (answer["results"] as unknown[]).filter(isObject);
  return [];
}

/** What a session is for its reader now: done, open (answered so far), or waiting to open. */
export function sessionState(session: Json, now: Date = new Date()): "done" | "open" | "waiting" | "later" {
  if (session["completed_at"]) return "done";
  const opens = session["opens_at"];
  if (typeof opens !== "string") return "later";
  return new Date(opens) <= now ? "open" : "waiting";
}

function sessionText(session: Json, now: Date): string {
  const name = `Session ${String(session["sequence"] ?? "?")} (${modalityName(String(session["modality"] ?? ""))})`;
  const progress = `${String(session["answered"] ?? 0)} / ${String(session["total"] ?? "?")}`;
  switch (sessionState(session, now)) {
    case "done":
      return `${name}: done, ${progress}`;
    case "open":
      return `${name}: ${progress} answered`;
    case "waiting":
      return `${name}: opens on ${dateText(session["opens_at"] as string)}`;
    case "later":
      return `${name}: opens after the washout that follows the previous session`;
  }
}

export class StudyList {
  constructor(
    private readonly section: HTMLElement,
    private readonly urls: { api: string; page: string; read: string },
    private readonly watches: boolean,
  ) {}

  async load(): Promise<void> {
    const studies = items(await getJson<unknown>(this.urls.api));
    const box = el("div", { id: "reader-studies" });
    if (!studies.length) {
      box.append(el("p", { className: "muted", id: "no-studies", textContent: this.watches ? "No reader study yet." : "No reader study for you." }));
    } else if (this.watches) {
      box.append(this.watchTable(studies));
    } else {
      for (const study of studies) box.append(this.readerCard(study));
    }
    this.section.querySelector("#reader-studies")?.remove();
    this.section.querySelector("noscript")?.remove();
    this.section.prepend(box);
    this.section.dataset.loaded = "true";
  }

  private pageUrl(template: string, id: unknown): string {
    return template.replace("{study}", String(id));
  }

  private watchTable(studies: Json[]): HTMLElement {
    const table = el("table", { id: "reader-study-table" });
    const head = table.createTHead().insertRow();
    for (const title of ["Study", "Status", "Cases", "Readers", "Modalities", "Created", ""]) head.append(el("th", { textContent: title }));
    const body = table.createTBody();
    for (const study of studies) {
      const row = body.insertRow();
      row.dataset.study = String(study["id"]);
      row.insertCell().textContent = String(study["name"] ?? "");
      row.insertCell().append(el("span", { className: `badge ${String(study["status"] ?? "")}`, textContent: String(study["status"] ?? "") }));
      row.insertCell().textContent = String(study["cases_total"] ?? study["case_count"] ?? "");
      row.insertCell().textContent = String(study["readers_total"] ?? (Array.isArray(study["readers"]) ? study["readers"].length : ""));
      row.insertCell().textContent = Array.isArray(study["modalities"]) ? (study["modalities"] as string[]).map(modalityName).join(", ") : "";
      row.insertCell().textContent = typeof study["created_at"] === "string" ? study["created_at"].slice(0, 10) : "";
      row.insertCell().append(el("a", { href: this.pageUrl(this.urls.page, study["id"]), textContent: "Open" }));
    }
    return table;
  }

  private readerCard(study: Json): HTMLElement {
    const now = new Date();
    const card = el("section", { className: "card reader-study" });
    card.dataset.study = String(study["id"]);
    card.append(el("h2", { textContent: String(study["name"] ?? "") }));
    if (typeof study["description"] === "string" && study["description"]) card.append(el("p", { textContent: study["description"] }));
    const sessions = Array.isArray(study["sessions"]) ? (study["sessions"] as unknown[]).filter(isObject) : [];
    const list = el("ul", { className: "sessions" });
    for (const session of sessions) {
      const item = el("li", { textContent: sessionText(session, now) });
      item.dataset.state = sessionState(session, now);
      list.append(item);
    }
    card.append(list);
    const current = sessions.find((session) => sessionState(session, now) !== "done");
    if (study["status"] === "closed") {
      card.append(el("p", { className: "muted", textContent: "This study is closed." }));
    } else if (current && sessionState(current, now) === "open") {
      const started = Number(current["answered"] ?? 0) > 0 || sessions.some((s) => sessionState(s, now) === "done");
      card.append(el("a", { className: "button", href: this.pageUrl(this.urls.read, study["id"]), textContent: started ? "Continue" : "Start" }));
    } else if (!current && sessions.length) {
      card.append(el("p", { className: "muted", textContent: "All your sessions are done. Thank you." }));
    }
    return card;
  }
}

/** The create form's fields as the API's body. */
export function createBody(form: HTMLFormElement): Json {
  const data = new FormData(form);
  const value = (name: string): string => String(data.get(name) ?? "").trim();
  const numbers = (name: string): number[] => data.getAll(name).map((v) => Number(v));
  const body: Json = {
    name: value("name"),
    description: value("description"),
    ground_truth_version: Number(value("ground_truth_version")),
    case_count: Number(value("case_count")),
    readers: numbers("readers"),
    modalities: data.getAll("modalities").map(String),
    washout_days: Number(value("washout_days") || 0),
  };
  if (value("split")) body["split"] = value("split");
  if (value("model_version")) body["model_version"] = Number(value("model_version"));
  if (value("seed")) body["seed"] = Number(value("seed"));
  if (value("primary_endpoint")) body["primary_endpoint"] = value("primary_endpoint");
  return body;
}

function wireCreateForm(form: HTMLFormElement, apiUrl: string, pageUrl: string): void {
  const message = form.querySelector<HTMLElement>(".message") ?? form.appendChild(el("p", { className: "message" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setFormDisabled(form, true);
    showMessage(message, "Creating the study…");
    postJson<Json>(apiUrl, createBody(form))
      .then((study) => window.location.assign(pageUrl.replace("{study}", String(study["id"]))))
      .catch((error: unknown) => {
        showMessage(message, `The study was not created: ${(error as Error).message}`, "error");
        setFormDisabled(form, false);
      });
  });
}

export async function startStudyList(section: HTMLElement): Promise<void> {
  const urls = {
    api: dataAttribute(section, "apiUrl"),
    page: dataAttribute(section, "studyUrl"),
    read: dataAttribute(section, "readUrl"),
  };
  const form = document.getElementById("reader-study-form");
  if (form instanceof HTMLFormElement) wireCreateForm(form, urls.api, urls.page);
  await new StudyList(section, urls, section.dataset.watches === "true").load();
}

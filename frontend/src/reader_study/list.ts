/**
 * The reader studies' list page (/reader-studies/): every study with its state for those who
 * watch them (a link to each study's page), a reader's own studies with each session's state and
 * a Start / Continue button (or the date a session opens after the washout), and for a
 * coordinator the form that creates a study (sent to the API as JSON; field errors shown).
 */
import { getJson, postJson } from "../api/client";
import { dataAttribute, element as el, setFormDisabled, showMessage } from "../dom";
import { dateText, isObject, modalityName, type Json } from "./api";

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

/** What the coordinator's form offers (the page's `reader-study-options`). */
export interface DesignOptions {
  ground_truth_versions: { id: number; name: string; splits: Record<string, { positive: number; negative: number }> }[];
  model_versions: { id: number; name: string; status: string }[];
  readers: { id: number; username: string }[];
  modalities: { value: string; label: string }[];
  default_primary_endpoint: string;
}

/** Positive and negative scans of a version, in one split or in all. */
export function splitCounts(version: DesignOptions["ground_truth_versions"][number], split: string): { positive: number; negative: number } {
  const entries = split ? (version.splits[split] ? [version.splits[split]] : []) : Object.values(version.splits);
  let positive = 0;
  let negative = 0;
  for (const entry of entries) {
    positive += entry.positive;
    negative += entry.negative;
  }
  return { positive, negative };
}

function field(label: string, control: HTMLElement, hint = ""): HTMLLabelElement {
  const wrap = el("label", { textContent: `${label} ` });
  wrap.append(control);
  if (hint) wrap.append(el("small", { className: "muted", textContent: ` ${hint}` }));
  return wrap;
}

/** The form's words and ids: creating a study (the list page) or editing its design (the study page). */
export interface FormTexts {
  id: string;
  title: string;
  submit: string;
}

const CREATE_TEXTS: FormTexts = { id: "reader-study-form", title: "New reader study", submit: "Create the study" };

/** The create form, built from the options the page carries. */
export function buildCreateForm(options: DesignOptions, texts: FormTexts = CREATE_TEXTS): HTMLFormElement {
  const form = el("form", { id: texts.id, className: "card" });
  form.append(el("h2", { textContent: texts.title }));
  const name = el("input", { name: "name", required: true, maxLength: 200 });
  const description = el("textarea", { name: "description", rows: 2 });
  const version = el("select", { name: "ground_truth_version", required: true });
  for (const v of options.ground_truth_versions) version.append(el("option", { value: String(v.id), textContent: v.name }));
  const split = el("select", { name: "split" });
  const counts = el("span", { id: "reader-study-counts", className: "muted" });
  const refreshSplits = (): void => {
    const chosen = options.ground_truth_versions.find((v) => String(v.id) === version.value);
    const previous = split.value;
    split.replaceChildren(el("option", { value: "", textContent: "every split" }));
    for (const name of Object.keys(chosen?.splits ?? {}).sort()) split.append(el("option", { value: name, textContent: name }));
    split.value = [...split.options].some((o) => o.value === previous) ? previous : "";
    const c = chosen ? splitCounts(chosen, split.value) : { positive: 0, negative: 0 };
    counts.textContent = `${c.positive} scans with hemorrhage, ${c.negative} without`;
  };
  version.addEventListener("change", refreshSplits);
  split.addEventListener("change", refreshSplits);
  refreshSplits();
  const caseCount = el("input", { name: "case_count", type: "number", min: "2", value: "20", required: true });
  const readers = el("fieldset", { id: "reader-study-readers" });
  readers.append(el("legend", { textContent: "Readers (neuroradiologists, at least two)" }));
  for (const reader of options.readers) {
    const box = el("input", { type: "checkbox", name: "readers", value: String(reader.id) });
    const label = el("label", { className: "check" });
    label.append(box, ` ${reader.username}`);
    readers.append(label);
  }
  const modalities = el("fieldset", { id: "reader-study-modalities" });
  modalities.append(el("legend", { textContent: "Modalities (unaided always)" }));
  for (const modality of options.modalities) {
    const box = el("input", { type: "checkbox", name: "modalities", value: modality.value });
    if (modality.value === "unaided") box.checked = box.disabled = true;
    if (modality.value === "aided_scores") box.checked = true;
    const label = el("label", { className: "check" });
    label.append(box, ` ${modality.label}`);
    modalities.append(label);
  }
  const model = el("select", { name: "model_version" });
  model.append(el("option", { value: "", textContent: "—" }));
  for (const m of options.model_versions) model.append(el("option", { value: String(m.id), textContent: `${m.name} (${m.status})` }));
  if (options.model_versions[0]) model.value = String(options.model_versions[0].id);
  const washout = el("input", { name: "washout_days", type: "number", min: "0", max: "365", value: "28", required: true });
  const seed = el("input", { name: "seed", type: "number", min: "0" });
  const endpoint = el("textarea", { name: "primary_endpoint", rows: 3, value: options.default_primary_endpoint });
  const submit = el("button", { type: "submit", textContent: texts.submit });
  const actions = el("div", { className: "actions" });
  actions.append(submit);
  form.append(
    field("Name", name),
    field("Description", description),
    field("Ground-truth version", version),
    field("Split", split),
    counts,
    field("Cases", caseCount, "a seeded random sample with both scans with and without hemorrhage"),
    readers,
    modalities,
    field("Model version", model, "its scores (and maps) are shown in aided sessions"),
    field("Washout (days)", washout, "between a reader's sessions"),
    field("Seed", seed, "empty: chosen at random"),
    field("Primary endpoint", endpoint),
    actions,
    el("p", { className: "message", id: `${texts.id}-message` }),
  );
  return form;
}

/** The form's body with unaided always read (a disabled checkbox is not in the form's data). */
export function formBody(form: HTMLFormElement): Json {
  const body = createBody(form);
  body["modalities"] = ["unaided", ...(body["modalities"] as string[]).filter((m) => m !== "unaided")];
  return body;
}

/** The form controls' values for a study's design, from its detail (the coordinator's view of
 * the API): single fields as text, the readers' and modalities' checked boxes as lists. */
export function designValues(study: Json): Record<string, string | string[]> {
  const textOf = (value: unknown): string => (value === null || value === undefined ? "" : String(isObject(value) ? value["id"] : value));
  const progress = Array.isArray(study["progress"]) ? (study["progress"] as unknown[]).filter(isObject) : [];
  const modalities = Array.isArray(study["modalities"]) ? (study["modalities"] as unknown[]).map(String) : [];
  return {
    ...Object.fromEntries(
      ["name", "description", "ground_truth_version", "split", "case_count", "model_version", "washout_days", "seed", "primary_endpoint"].map((key) => [key, textOf(study[key])]),
    ),
    readers: progress.map((entry) => textOf(entry["reader"])),
    modalities: ["unaided", ...modalities.filter((m) => m !== "unaided")],
  };
}

/** The form filled with a study's design (`designValues`). */
export function prefillForm(form: HTMLFormElement, values: Record<string, string | string[]>): void {
  for (const [name, value] of Object.entries(values)) {
    if (Array.isArray(value)) {
      for (const box of form.querySelectorAll<HTMLInputElement>(`input[type=checkbox][name=${name}]`)) box.checked = value.includes(box.value);
      continue;
    }
    const control = form.elements.namedItem(name);
    if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement || control instanceof HTMLTextAreaElement) {
      control.value = value;
      control.dispatchEvent(new Event("change")); // the version's splits and counts follow
    }
  }
}

/** The edit form's body, with what may be cleared said explicitly (no split, no model). */
export function editBody(form: HTMLFormElement): Json {
  const body = formBody(form);
  return { ...body, split: body["split"] ?? "", model_version: body["model_version"] ?? null, primary_endpoint: body["primary_endpoint"] ?? "" };
}

/** The fields of `after` that differ from `before` (what a PATCH sends). */
export function changedFields(before: Json, after: Json): Json {
  const changed: Json = {};
  for (const [key, value] of Object.entries(after)) if (JSON.stringify(value) !== JSON.stringify(before[key])) changed[key] = value;
  return changed;
}

function wireCreateForm(form: HTMLFormElement, apiUrl: string, pageUrl: string): void {
  const message = form.querySelector<HTMLElement>(".message") ?? form.appendChild(el("p", { className: "message" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = formBody(form);
    setFormDisabled(form, true);
    showMessage(message, "Creating the study…");
    postJson<Json>(apiUrl, body)
      .then((study) => window.location.assign(pageUrl.replace("{study}", String(study["id"]))))
      .catch((error: unknown) => {
        showMessage(message, `The study was not created: ${(error as Error).message}`, "error");
        setFormDisabled(form, false);
        const unaided = form.querySelector<HTMLInputElement>('input[name=modalities][value=unaided]');
        if (unaided) unaided.disabled = true;
      });
  });
}

export async function startStudyList(section: HTMLElement): Promise<void> {
  const urls = {
    api: dataAttribute(section, "apiUrl"),
    page: dataAttribute(section, "studyUrl"),
    read: dataAttribute(section, "readUrl"),
  };
  const options = document.getElementById("reader-study-options")?.textContent;
  if (options && section.dataset.manages === "true") {
    const form = buildCreateForm(JSON.parse(options) as DesignOptions);
    section.append(form);
    wireCreateForm(form, urls.api, urls.page);
  }
  await new StudyList(section, urls, section.dataset.watches === "true").load();
}

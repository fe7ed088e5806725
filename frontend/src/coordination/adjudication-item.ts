/**
 * One adjudication item, opened from the queue: every read of the scan with what it says,
 * and the form that decides the item (values and a required reason).
 *
 * Keys in the form: y / n for a split vote, 1–5 toggle IPH…EDH of a scan-level decision,
 * Ctrl+Enter decides, Esc goes back to the queue.
 */
import {
  adjudicationItemGet,
  adjudicationItemResolve,
  type AdjudicationItemDetail,
  type ReadLevel,
  type SubtypeValues,
} from "../api/coordination";
import { SUBTYPES, type Subtype } from "../generated/vocabulary";
import { showMessage } from "../dom";
import { decidedText, decisionKind, describeValues, isVoteItem, itemHeadline, resolveRequest, voteOn, type Decision } from "./decision";
import { el, messageOf } from "./html";
import { showScanImages } from "../scan/item-viewer";

export interface ItemContext {
  listUrl: string;
  level: ReadLevel;
  sliceCount: number;
  /** Called after the item was decided. */
  onDecided: (item: AdjudicationItemDetail, text: string) => void;
  onClose: () => void;
}

export async function showItem(view: HTMLElement, id: number, context: ItemContext): Promise<void> {
  view.hidden = false;
  view.replaceChildren(el("p", { class: "muted" }, `Loading item ${id}…`));
  let item: AdjudicationItemDetail;
  try {
    item = await adjudicationItemGet(context.listUrl, id);
  } catch (error) {
    view.replaceChildren(el("p", { class: "error", role: "alert" }, messageOf(error)));
    return;
  }
  view.dataset["item"] = String(item.id);
  view.replaceChildren(
    el("div", { class: "item-head" },
      el("h2", { id: "item-title" }, `Item ${item.id}`),
      el("button", { type: "button", class: "secondary", id: "item-close", title: "Back to the queue (Esc)" }, "Close")),
    el("p", { id: "item-headline" }, itemHeadline(item)),
    el("p", { class: "muted" }, `${item.center} · ${item.split} · ${item.status}`),
    votesTable(item),
  );
  view.querySelector("#item-close")!.addEventListener("click", context.onClose);
  const images = itemImages(view, item, context);
  if (images) view.append(images);
  if (item.status === "open") view.append(decisionForm(item, context));
  else view.append(decidedSummary(item));
  view.querySelector<HTMLElement>("#decision-form input, #decision-form textarea")?.focus();
}

/** The scan's images with the slices in question and the readers' votes on each (the page
 * names the slice files' URL; without it, no viewer). */
function itemImages(view: HTMLElement, item: AdjudicationItemDetail, context: ItemContext): HTMLElement | null {
  const template = view.closest<HTMLElement>("[data-slice-url]")?.dataset["sliceUrl"];
  if (!template || !context.sliceCount) return null;
  const section = el("section", { id: "item-images", class: "scan-images", "data-scan": item.scan },
    el("h3", {}, "Images ", el("a", { href: `/study/scans/${item.scan}/`, class: "muted", id: "item-scan-link" }, `scan ${item.scan}'s page`)),
    el("p", { class: "muted loading" }, "Loading the images…"));
  const images = el("div", { class: "scan-images-body" });
  section.append(images);
  void showScanImages(images, {
    sliceUrl: template.replace("{scan}", String(item.scan)),
    sliceCount: context.sliceCount,
    slices: item.slices,
  }).then(() => section.querySelector("p.loading")?.remove());
  return section;
}

function votesTable(item: AdjudicationItemDetail): HTMLElement {
  const split = isVoteItem(item);
  const head = el("tr", {}, el("th", {}, "Reader"), el("th", {}, "Kind"), el("th", {}, "Status"),
    split ? el("th", {}, item.label.toUpperCase()) : el("th", { class: "num" }, "Labelled slices"),
    el("th", {}, item.slice_index === null ? "Scan label" : "Labels of this slice"));
  const rows = item.votes.map((vote) => {
    const said = voteOn(vote, item.label);
    return el("tr", { "data-read": vote.read },
      el("td", {}, vote.reader),
      el("td", {}, vote.kind),
      el("td", {}, el("span", { class: `badge ${vote.status}` }, vote.status.replace("_", " "))),
      split
        ? el("td", { class: said ? "vote-yes" : "vote-no" }, said === null ? "—" : said ? "present" : "absent")
        : el("td", { class: "num" }, vote.labelled_slices),
      el("td", {}, describeValues(vote.values)));
  });
  return el("table", { id: "votes-table" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

function decisionForm(item: AdjudicationItemDetail, context: ItemContext): HTMLFormElement {
  const kind = decisionKind(item, context.level);
  const form = el("form", { id: "decision-form", "data-kind": kind });
  const message = el("p", { id: "decision-message", role: "status" });
  if (kind === "vote") {
    const label = item.label.toUpperCase();
    form.append(el("fieldset", {}, el("legend", {}, `Is ${label} present?`),
      el("label", { class: "check" }, el("input", { type: "radio", name: "value", value: "yes" }), ` Present `, el("kbd", {}, "y")),
      el("label", { class: "check" }, el("input", { type: "radio", name: "value", value: "no" }), ` Absent `, el("kbd", {}, "n"))));
  } else if (kind === "scan") {
    form.append(el("fieldset", {}, el("legend", {}, "Hemorrhage in the scan"),
      ...SUBTYPES.map((name, index) =>
        el("label", { class: "check" }, el("input", { type: "checkbox", name: "scan", value: name }),
          ` ${name.toUpperCase()} `, el("kbd", {}, index + 1)))));
  } else {
    form.append(sliceGrid(context.sliceCount));
  }
  form.append(
    el("label", {}, "Reason ", el("textarea", { name: "reason", rows: 2, required: true, maxlength: 2000 })),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Decide"), el("span", { class: "muted" }, " Ctrl+Enter")),
    message,
  );

  const read = (): Decision => {
    if (kind === "vote") {
      const chosen = form.querySelector<HTMLInputElement>("input[name=value]:checked");
      return { kind: "vote", value: chosen ? chosen.value === "yes" : null };
    }
    if (kind === "scan") {
      const values: SubtypeValues = {};
      for (const box of form.querySelectorAll<HTMLInputElement>("input[name=scan]:checked")) values[box.value as Subtype] = true;
      return { kind: "scan", values };
    }
    const slices = new Map<number, SubtypeValues>();
    for (const box of form.querySelectorAll<HTMLInputElement>("input[data-slice]:checked")) {
      const index = Number(box.dataset["slice"]);
      slices.set(index, { ...slices.get(index), [box.value]: true });
    }
    return { kind: "slices", slices };
  };

  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if ((event.target as HTMLElement).tagName === "TEXTAREA" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (kind === "vote" && (event.key === "y" || event.key === "n")) {
      event.preventDefault();
      const radio = form.querySelector<HTMLInputElement>(`input[name=value][value=${event.key === "y" ? "yes" : "no"}]`);
      if (radio) radio.checked = true;
    } else if (kind === "scan" && /^[1-5]$/.test(event.key)) {
      event.preventDefault();
      const box = form.querySelector<HTMLInputElement>(`input[name=scan][value=${SUBTYPES[Number(event.key) - 1]}]`);
      if (box) box.checked = !box.checked;
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = (form.elements.namedItem("reason") as HTMLTextAreaElement).value;
    let body;
    try {
      body = resolveRequest(read(), reason);
    } catch (error) {
      showMessage(message, messageOf(error), "error");
      return;
    }
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
    button.disabled = true;
    showMessage(message, "Saving the decision…");
    void adjudicationItemResolve(context.listUrl, item.id, body)
      .then(() => context.onDecided(item, `Item ${item.id} decided: ${decisionText(body)}.`))
      .catch((error: unknown) => {
        showMessage(message, messageOf(error), "error");
        button.disabled = false;
      });
  });
  return form;
}

function decisionText(body: ReturnType<typeof resolveRequest>): string {
  if (body.value !== undefined) return body.value ? "present" : "absent";
  if (body.scan) return describeValues(body.scan);
  const slices = body.slices ?? [];
  return slices.length ? `${slices.length} positive slice${slices.length === 1 ? "" : "s"}` : "no hemorrhage";
}

/** Slices × subtypes checkboxes for deciding a slice-level scan (unmarked slices: negative). */
function sliceGrid(sliceCount: number): HTMLElement {
  const head = el("tr", {}, el("th", { class: "num" }, "Slice"), ...SUBTYPES.map((name) => el("th", {}, name.toUpperCase())));
  const rows = Array.from({ length: sliceCount }, (_, index) =>
    el("tr", {}, el("td", { class: "num" }, index + 1),
      ...SUBTYPES.map((name) =>
        el("td", {}, el("input", { type: "checkbox", value: name, "data-slice": index, "aria-label": `Slice ${index + 1} ${name.toUpperCase()}` })))));
  return el("fieldset", {}, el("legend", {}, "Positive slices (unmarked slices hold no hemorrhage)"),
    el("table", { class: "slice-grid" }, el("thead", {}, head), el("tbody", {}, ...rows)));
}

function decidedSummary(item: AdjudicationItemDetail): HTMLElement {
  if (item.status !== "resolved") {
    return el("p", { id: "decided", class: "muted" }, "No longer needed: the scan has its reads again.");
  }
  const when = item.decided_at ? ` on ${item.decided_at.slice(0, 16).replace("T", " ")}` : "";
  return el("section", { id: "decided" },
    el("p", {}, `Decided by ${item.decided_by ?? "—"}${when}. Reason: ${item.decision_reason || "—"}`),
    el("ul", {}, ...decidedText(item).map((line) => el("li", {}, line))));
}

/**
 * The slices in question beside a coordinator's viewer: one row per slice some reader marked
 * (or the one slice an adjudication item is about), each reader's labels of it in a column,
 * and a button that shows the slice. Never built for readers: the data only reaches
 * coordinators (the scan page and the adjudication item API).
 */
import type { LabelValues, SliceInQuestion } from "../api/coordination";
import { describeValues } from "../coordination/decision";
import { el } from "../coordination/html";

/** Whether a read's label of a slice marks a subtype (not "no hemorrhage", not nothing). */
export function marksHemorrhage(values: LabelValues | null): boolean {
  return values !== null && Object.entries(values).some(([name, on]) => on && name !== "no_hemorrhage");
}

/** The slice a viewer opens on: the asked-for one if valid, else the first in question, else the middle. */
export function firstSlice(slices: readonly SliceInQuestion[], sliceCount: number, asked?: number | null): number {
  if (asked !== undefined && asked !== null && Number.isInteger(asked) && asked >= 0 && asked < sliceCount) return asked;
  return slices[0]?.slice_index ?? Math.floor(sliceCount / 2);
}

/** The table of slices in question; `onShow(index)` when a slice's button is pressed. */
export function sliceVotesTable(slices: readonly SliceInQuestion[], onShow: (index: number) => void): HTMLElement {
  const section = el("section", { class: "slice-votes", "data-testid": "slice-votes" },
    el("h3", {}, "Slices in question"));
  if (!slices.length) {
    section.append(el("p", { class: "muted" }, "No reader marked a hemorrhage on any slice of this scan."));
    return section;
  }
  const readers = slices[0]!.votes;
  const head = el("tr", {}, el("th", { class: "num" }, "Slice"),
    ...readers.map((vote) => el("th", { title: `${vote.kind} · ${vote.status}` }, vote.reader,
      vote.status === "withdrawn" ? el("span", { class: "muted" }, " (withdrawn)") : null)));
  const rows = slices.map((row) => el("tr", { "data-slice": row.slice_index },
    el("td", { class: "num" },
      el("button", { type: "button", class: "secondary slice-jump", "data-slice": row.slice_index, title: "Show this slice" }, row.slice_index + 1)),
    ...row.votes.map((vote) => el("td", { class: marksHemorrhage(vote.values) ? "vote-yes" : "vote-no", "data-read": vote.read },
      describeValues(vote.values)))));
  const table = el("table", { class: "slice-votes-table" }, el("thead", {}, head), el("tbody", {}, ...rows));
  table.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-slice]");
    if (button) onShow(Number(button.dataset["slice"]));
  });
  section.append(table);
  return section;
}

/** Mark the row of the slice on screen (if it is in question). */
export function markShown(table: HTMLElement, index: number): void {
  for (const row of table.querySelectorAll<HTMLElement>("tr[data-slice]")) {
    row.classList.toggle("current", Number(row.dataset["slice"]) === index);
  }
}

/**
 * The slice strip beside the image: one row per slice (most superior on top) with a coloured
 * mark per label, the current slice and the selected range highlighted, slices never shown
 * marked as such (after Done warned of them), and on a finished read the released ground truth
 * beside the reader's labels; a click jumps there.
 */
import { LABEL_FIELDS } from "../generated/vocabulary";
import { FIELD_NAMES, type LabelValues } from "./labels";

export class SliceStrip {
  readonly element: HTMLOListElement;
  private readonly rows: HTMLLIElement[] = [];
  private current = -1;

  constructor(sliceCount: number, onPick: (index: number) => void) {
    this.element = document.createElement("ol");
    this.element.id = "slice-strip";
    this.element.className = "slice-strip";
    this.element.setAttribute("aria-label", "Slices");
    for (let index = sliceCount - 1; index >= 0; index--) {
      const row = document.createElement("li");
      row.dataset.slice = String(index);
      const number = document.createElement("span");
      number.className = "slice-number";
      number.textContent = String(index + 1);
      row.append(number);
      for (const field of LABEL_FIELDS) {
        const mark = document.createElement("span");
        mark.className = `mark mark-${field}`;
        mark.dataset.field = field;
        mark.title = FIELD_NAMES[field];
        row.append(mark);
      }
      row.addEventListener("click", () => onPick(index));
      this.rows[index] = row;
    }
    this.element.append(...[...this.rows].reverse());
  }

  /** Show a slice's labels (marks filled and named in data-labels). */
  setLabels(index: number, values: LabelValues): void {
    const row = this.rows[index];
    if (!row) return;
    const on: string[] = [];
    for (const mark of Array.from(row.querySelectorAll<HTMLElement>(".mark"))) {
      const field = mark.dataset.field as keyof LabelValues;
      mark.classList.toggle("on", values[field]);
      mark.textContent = values[field] ? FIELD_NAMES[field] : "";
      if (values[field]) on.push(FIELD_NAMES[field]);
    }
    row.dataset.labels = on.join(" ");
  }

  setViewed(index: number): void {
    const row = this.rows[index];
    if (!row) return;
    row.classList.add("viewed");
    if (row.classList.contains("unseen")) {
      row.classList.remove("unseen");
      row.removeAttribute("title");
    }
  }

  /** Mark the slices never shown (until each is shown), distinct from a selected range. */
  setUnseen(indices: readonly number[]): void {
    for (const index of indices) {
      const row = this.rows[index];
      if (!row || row.classList.contains("viewed")) continue;
      row.classList.add("unseen");
      row.title = "Never shown";
    }
  }

  /** Show a slice's ground truth (the classes it holds, or "no ICH") after the reader's marks. */
  setTruth(index: number, classes: readonly string[]): void {
    const row = this.rows[index];
    if (!row) return;
    let cell = row.querySelector<HTMLElement>(".truth");
    if (!cell) {
      cell = document.createElement("span");
      cell.className = "truth";
      row.append(cell);
    }
    cell.textContent = classes.length ? classes.join(" ") : "no ICH";
    cell.title = "Ground truth";
    row.dataset.truth = classes.join(" ");
  }

  setCurrent(index: number): void {
    if (this.current >= 0) this.rows[this.current]?.classList.remove("current");
    this.current = index;
    const row = this.rows[index];
    if (!row) return;
    row.classList.add("current");
    row.scrollIntoView({ block: "nearest" });
  }

  setSelection(indices: readonly number[]): void {
    const chosen = new Set(indices);
    this.rows.forEach((row, index) => row.classList.toggle("selected", chosen.has(index)));
  }
}

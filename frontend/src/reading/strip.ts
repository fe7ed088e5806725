/**
 * The slice strip beside the image: one row per slice (most superior on top) with a coloured
 * mark per label, the current slice and the selected range highlighted; a click jumps there.
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
    this.rows[index]?.classList.add("viewed");
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

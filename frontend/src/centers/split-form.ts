/**
 * A center's split, changed in place on the study overview: the select saves on change, says
 * "saved" beside itself, and moves the center's scans between the split totals on the page.
 * On an error the select goes back to the saved value and the message shows instead.
 */
import { centerSplitSet } from "../api/centers";
import type { Split } from "../api/types";

const NOTE_VISIBLE_MS = 3000;

export function initSplitForm(form: HTMLFormElement): void {
  const select = form.querySelector<HTMLSelectElement>("select[name=split]");
  if (!select) return;
  const url = new URL(form.getAttribute("action") ?? "", window.location.href).pathname;
  const note = document.createElement("span");
  note.className = "split-note muted";
  note.setAttribute("role", "status");
  select.insertAdjacentElement("afterend", note);

  let saved = select.value as Split;
  let clearTimer: number | undefined;

  const say = (text: string, kind: "saved" | "error" | "busy"): void => {
    window.clearTimeout(clearTimer);
    note.textContent = text;
    note.className = `split-note ${kind === "error" ? "error" : "muted"}`;
    note.setAttribute("role", kind === "error" ? "alert" : "status");
    if (kind === "saved") clearTimer = window.setTimeout(() => (note.textContent = ""), NOTE_VISIBLE_MS);
  };

  const save = async (): Promise<void> => {
    const wanted = select.value as Split;
    if (wanted === saved) return;
    select.disabled = true;
    say("saving…", "busy");
    try {
      const center = await centerSplitSet(url, wanted);
      moveTotals(saved, center.split, center.scan_count, center.slice_count);
      saved = center.split;
      select.value = saved;
      say("saved", "saved");
    } catch (error) {
      select.value = saved;
      say(error instanceof Error ? error.message : String(error), "error");
    } finally {
      select.disabled = false;
    }
  };

  select.addEventListener("change", () => void save());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void save();
  });
}

/** Move a center's counts from one split's totals card to another's, where the page has them. */
function moveTotals(from: Split, to: Split, scans: number, slices: number): void {
  if (from === to) return;
  adjustCard(from, -scans, -slices);
  adjustCard(to, scans, slices);
}

function adjustCard(split: Split, scans: number, slices: number): void {
  const card = document.querySelector<HTMLElement>(`.totals [data-split="${CSS.escape(split)}"]`);
  if (!card) return;
  const big = card.querySelector<HTMLElement>(".big");
  const counts = card.querySelectorAll<HTMLElement>(".muted");
  if (big) addToLeadingNumber(big, scans);
  const last = counts[counts.length - 1];
  if (last && counts.length > 1) addToLeadingNumber(last, slices);
}

/** "12 scans" + 3 -> "15 scans"; text without a leading number stays as it is. */
export function addToLeadingNumber(element: HTMLElement, delta: number): void {
  const text = element.textContent ?? "";
  const match = /^(\s*)(\d[\d,]*)/.exec(text);
  if (!match) return;
  const value = Number(match[2]!.replace(/,/g, "")) + delta;
  element.textContent = `${match[1]}${Math.max(0, value)}${text.slice(match[0].length)}`;
}

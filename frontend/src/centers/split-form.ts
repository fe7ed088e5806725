/**
 * A center's split on the study overview. Choosing another split changes nothing yet: the
 * server is asked what the move would affect (`centerSplitChange`) and a dialog states it; only
 * the dialog's confirm button moves the center. A move the server refuses (it would break a
 * running reading round) shows the reasons with the confirm button disabled. Cancel or Escape
 * put the select back on the saved split. After a move the note beside the select says
 * "saved" and the center's scans move between the split totals on the page.
 */
import { centerSplitChange, centerSplitSet } from "../api/centers";
import type { Split } from "../api/types";
import { confirmDialog } from "../confirm";
import { byId } from "../dom";
import { describeSplitChange, splitName, type SplitChangeText } from "./split-change";

const NOTE_VISIBLE_MS = 3000;

interface PendingMove {
  text: SplitChangeText;
  /** Make the move (the dialog closes once it succeeds). */
  apply: () => Promise<void>;
  /** The dialog closed: put the select back unless the move was made. */
  closed: () => void;
}

/** The page's one split dialog, wired on first use. */
let openDialog: ((move: PendingMove) => void) | null = null;

function splitDialog(): (move: PendingMove) => void {
  if (openDialog) return openDialog;
  const dialog = byId<HTMLDialogElement>("split-dialog");
  const confirm = byId<HTMLButtonElement>("split-dialog-confirm");
  const refused = byId("split-dialog-refused");
  let current: PendingMove | null = null;
  const open = confirmDialog(dialog, {
    message: byId("split-dialog-message"),
    action: async () => {
      if (current) await current.apply();
    },
  });
  dialog.addEventListener("close", () => {
    const move = current;
    current = null;
    move?.closed();
  });
  openDialog = (move) => {
    current = move;
    byId("split-dialog-title").textContent = move.text.title;
    byId("split-dialog-consequences").replaceChildren(...move.text.lines.map((line) => item(line)));
    refused.hidden = move.text.refusals.length === 0;
    refused.querySelector("ul")?.replaceChildren(...move.text.refusals.map((line) => item(line)));
    // A refused move has nothing to confirm: the reasons show and the confirm button stays disabled.
    confirm.disabled = !refused.hidden;
    open();
  };
  return openDialog;
}

function item(text: string): HTMLLIElement {
  const li = document.createElement("li");
  li.textContent = text;
  return li;
}

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

  const ask = async (): Promise<void> => {
    const wanted = select.value as Split;
    if (wanted === saved) return;
    select.disabled = true;
    say("checking…", "busy");
    let moved = false;
    try {
      const change = await centerSplitChange(url, wanted);
      say("", "busy");
      splitDialog()({
        text: describeSplitChange(change),
        apply: async () => {
          const center = await centerSplitSet(url, wanted);
          moveTotals(saved, center.split, center.scan_count, center.slice_count);
          saved = center.split;
          moved = true;
          say(`saved: ${splitName(saved)}`, "saved");
        },
        closed: () => {
          select.value = saved;
          select.disabled = false;
          if (!moved) say("", "busy");
          select.focus();
        },
      });
    } catch (error) {
      select.value = saved;
      select.disabled = false;
      say(error instanceof Error ? error.message : String(error), "error");
    }
  };

  select.addEventListener("change", () => void ask());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void ask();
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

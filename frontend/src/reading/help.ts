/** The help overlay ("?" or H): every key and mouse action of the reader. */
import { CLASS_NAMES, NO_HEMORRHAGE, SUBTYPES } from "../generated/vocabulary";
import { WINDOW_PRESETS } from "../viewer/presets";
import { FIELD_KEYS } from "./keys";

/** A row and whether it is an editing key (left out of a read-only view's help). */
type Row = [keys: string, action: string, editing?: "edit"];

const ROWS: Row[] = [
  ["Wheel, ↑/↓, PgUp/PgDn", "Next / previous slice (↑ = superior)"],
  ["Shift+↑/↓", "Extend the slice selection (labels then apply to all of it); Esc clears it", "edit"],
  [SUBTYPES.map((s) => FIELD_KEYS[s]).join(" "), `Toggle ${SUBTYPES.map((s) => CLASS_NAMES[s]).join(", ")}`, "edit"],
  [FIELD_KEYS[NO_HEMORRHAGE], "Toggle no hemorrhage (clears the subtypes)", "edit"],
  ["C", "Copy the labels of the slice below (previous) onto this one", "edit"],
  ["Ctrl+Z or U", "Undo the last label change", "edit"],
  ["Ctrl+Shift+Z or Ctrl+Y", "Redo the label change last undone", "edit"],
  ["Left drag", "Window / level"],
  ["Right drag or Ctrl+wheel", "Zoom"],
  ["Middle drag", "Pan"],
  ["R", "Reset zoom, pan and window"],
  ...WINDOW_PRESETS.map((p): [string, string] => [p.key.toUpperCase(), `${p.name} window ${p.center}/${p.width}`]),
  ["T", "Model output released for this scan: saliency overlay on / off"],
  ["D", "Done: finish this read", "edit"],
  ["? or H", "Show / hide this help"],
];

/** The help overlay; `readOnly`: a finished read's view, without the editing keys. */
export function createHelp(readOnly = false): HTMLElement {
  const overlay = document.createElement("div");
  overlay.id = "reader-help";
  overlay.className = "reader-help";
  overlay.hidden = true;
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-label", "Reader keys");
  const title = document.createElement("h3");
  title.textContent = "Keys and mouse";
  const table = document.createElement("table");
  for (const [keys, action, editing] of ROWS) {
    if (readOnly && editing) continue;
    const row = table.insertRow();
    const th = document.createElement("th");
    th.textContent = keys;
    row.append(th);
    row.insertCell().textContent = action;
  }
  overlay.append(title, table);
  overlay.addEventListener("click", () => (overlay.hidden = true));
  return overlay;
}

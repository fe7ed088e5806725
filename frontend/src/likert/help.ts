/** The help overlay (H or ?): every key and mouse action of the scoring page. */
import type { WindowPreset } from "../viewer/presets";
import { SCALE, SCORE_NAMES } from "./scores";

export function createHelp(presets: readonly WindowPreset[]): HTMLElement {
  const rows: [string, string][] = [
    ...SCALE.map((score): [string, string] => [String(score), `Score ${score}: ${SCORE_NAMES[score].toLowerCase()}, then the next unscored case`]),
    ["U or Ctrl+Z", "Undo the last score and go back to its case"],
    ["→ ↓ PgDn / ← ↑ PgUp", "Next / previous case"],
    ["T", "Overlay on / off (the slider sets its opacity)"],
    ["Left drag", "Window / level"],
    ["Right drag or Ctrl+wheel", "Zoom"],
    ["Middle drag", "Pan"],
    ["R", "Reset zoom, pan and window"],
    ...presets.map((p): [string, string] => [p.key.toUpperCase(), `${p.name} window ${p.center}/${p.width}`]),
    ["H or ?", "Show / hide this help (Esc closes it)"],
  ];
  const overlay = document.createElement("div");
  overlay.id = "likert-help";
  overlay.className = "likert-help";
  overlay.hidden = true;
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-label", "Keys and mouse");
  const title = document.createElement("h2");
  title.textContent = "Keys and mouse";
  const table = document.createElement("table");
  for (const [keys, action] of rows) {
    const row = table.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = keys;
    row.append(th);
    row.insertCell().textContent = action;
  }
  const close = document.createElement("button");
  close.type = "button";
  close.className = "secondary";
  close.textContent = "Close";
  close.addEventListener("click", () => (overlay.hidden = true));
  overlay.append(title, table, close);
  return overlay;
}

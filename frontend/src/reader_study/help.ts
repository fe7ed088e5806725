/** The reading page's help overlay (H or ?): its keys and the viewer's mouse actions. */
import type { WindowPreset } from "../viewer/presets";

export function createStudyHelp(presets: readonly WindowPreset[], overlay: boolean): HTMLElement {
  const rows: [string, string][] = [
    ["Y / N", "Any intracranial hemorrhage: yes / no"],
    ["1 2 3 4 5", "Subtypes (after Yes): IPH, IVH, SAH, SDH, EDH"],
    ["[ / ]", "Confidence −5 / +5 (an unset confidence starts at 50)"],
    ["{ / }", "Confidence −1 / +1"],
    ["Enter", "Submit the answer and go to the next case"],
    ["Wheel, ↑/↓, PgUp/PgDn", "Next / previous slice"],
    ["Left drag", "Window / level"],
    ["Right drag or Ctrl+wheel", "Zoom"],
    ["Middle drag", "Pan"],
    ["R", "Reset zoom, pan and window"],
    ...presets.map((p): [string, string] => [p.key.toUpperCase(), `${p.name} window ${p.center}/${p.width}`]),
    ...(overlay ? [["T", "Saliency overlay on / off"] as [string, string]] : []),
    ["H or ?", "Show / hide this help; Esc hides it"],
  ];
  const box = document.createElement("div");
  box.id = "study-help";
  box.className = "reader-help";
  box.hidden = true;
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-label", "Keys");
  const title = document.createElement("h3");
  title.textContent = "Keys and mouse";
  const table = document.createElement("table");
  for (const [keys, action] of rows) {
    const row = table.insertRow();
    const th = document.createElement("th");
    th.textContent = keys;
    row.append(th);
    row.insertCell().textContent = action;
  }
  box.append(title, table);
  box.addEventListener("click", () => (box.hidden = true));
  return box;
}

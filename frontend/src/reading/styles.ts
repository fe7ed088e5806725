/** The reader's styles, added once to the page (a page script cannot rely on a CSS file link). */
const CSS = `
#reader .reader-layout { display: flex; gap: 1rem; align-items: flex-start; }
#reader .viewer-wrap { position: relative; }
#reader .viewer { width: min(78vh, 720px); height: min(78vh, 720px); background: #000; }
#reader .overlay { position: absolute; color: #ffd54a; font: 14px/1.2 monospace; pointer-events: none; text-shadow: 0 0 3px #000; }
#reader .overlay.top-left { top: 6px; left: 8px; }
#reader .overlay.top-right { top: 6px; right: 8px; text-align: right; }
#reader .overlay.bottom-left { bottom: 6px; left: 8px; }
#reader .side { display: flex; flex-direction: column; gap: .75rem; min-width: 16rem; }
#reader .toolbar { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
#reader .save-state { font-size: .9em; padding: 0 .4em; border-radius: 3px; }
#reader .save-state[data-state=saved] { color: #1b5e20; }
#reader .save-state[data-state=saving] { color: #8d6e00; }
#reader .save-state[data-state=error] { color: #fff; background: #b71c1c; }
#reader .slice-strip { list-style: none; margin: 0; padding: 0; max-height: min(60vh, 560px); overflow-y: auto; border: 1px solid #ccc; font: 12px monospace; }
#reader .slice-strip li { display: grid; grid-template-columns: 2.5em repeat(6, 2.6em); gap: 2px; padding: 1px 4px; cursor: pointer; color: #777; }
#reader .slice-strip li.viewed { color: #000; }
#reader .slice-strip li.selected { background: #e3f2fd; }
#reader .slice-strip li.current { background: #ffe082; outline: 1px solid #ff8f00; }
#reader .mark { border-radius: 2px; text-align: center; min-height: 1.2em; }
#reader .mark.on { color: #fff; }
#reader .mark-iph.on { background: #d32f2f; }
#reader .mark-ivh.on { background: #7b1fa2; }
#reader .mark-sah.on { background: #1976d2; }
#reader .mark-sdh.on { background: #388e3c; }
#reader .mark-edh.on { background: #f57c00; }
#reader .mark-no_hemorrhage.on { background: #616161; }
#reader .current-labels button { min-width: 3.2em; }
#reader .current-labels button[aria-pressed=true] { font-weight: bold; outline: 2px solid #333; }
#reader .scan-flags label { display: block; }
#reader .scan-flags textarea { width: 100%; }
#reader .reader-help { position: fixed; inset: 10% 20%; background: #fff; border: 1px solid #333; padding: 1rem; overflow: auto; z-index: 10; box-shadow: 0 4px 20px #0008; }
#reader .reader-help th { text-align: left; padding-right: 1rem; white-space: nowrap; }
#reader .message.error { color: #b71c1c; }
`;

export function addReaderStyles(): void {
  if (document.getElementById("reader-styles")) return;
  const style = document.createElement("style");
  style.id = "reader-styles";
  style.textContent = CSS;
  document.head.append(style);
}

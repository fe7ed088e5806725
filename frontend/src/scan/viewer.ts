/**
 * The scan page's viewer (/study/scans/<id>/): any scan, read-only, for coordinators and ML
 * engineers, with the reader's navigation (wheel, arrows, pages), window presets and mouse
 * tools; for ML engineers the "Model output" panel lays any model's saliency map over it.
 * `?model=<id>&class=<class>&method=<method>&slice=<index>` opens on a slice with the overlay on
 * (the saliency run page links here). For coordinators, the slices readers marked with every
 * read's labels of each, beside the images.
 */
import { getJson } from "../api/client";
import { dataAttribute, showMessage } from "../dom";
import { HEMORRHAGE_CLASSES } from "../generated/vocabulary";
import { SaliencyPanel, type PanelChoice } from "../saliency/panel";
import type { HemorrhageClass, Method, ScanModelOutput } from "../saliency/maps";
import { StackOverlay } from "../viewer/map-overlay";
import { WINDOW_PRESETS } from "../viewer/presets";
import { StackViewer, imageIdsFor } from "../viewer/stack";
import type { SliceInQuestion } from "../api/coordination";
import { firstSlice, markShown, sliceVotesTable } from "./votes";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

/** The page's query as a panel choice and a first slice; unknown values are ignored. */
export function choiceFrom(query: URLSearchParams, sliceCount: number): { choice: PanelChoice; slice: number } {
  const model = Number(query.get("model"));
  const cls = query.get("class");
  const method = query.get("method");
  const slice = Number(query.get("slice"));
  const choice: PanelChoice = {};
  if (Number.isInteger(model) && model > 0) {
    choice.model = model;
    choice.on = true;
  }
  if (cls && (HEMORRHAGE_CLASSES as readonly string[]).includes(cls)) choice.cls = cls as HemorrhageClass;
  if (method === "normgrad" || method === "gradcam") choice.method = method as Method;
  const first = Number.isInteger(slice) && slice >= 0 && slice < sliceCount ? slice : Math.floor(sliceCount / 2);
  return { choice, slice: first };
}

export class ScanViewer {
  private readonly viewerElement = el("div", { className: "viewer", id: "viewer" });
  private readonly position = el("div", { className: "overlay top-left", id: "slice-position" });
  private readonly message = el("p", { className: "message", id: "scan-viewer-message" });
  private readonly overlay = new StackOverlay(this.viewerElement);
  private readonly side = el("div", { className: "side" });
  private viewer: StackViewer | null = null;
  private panel: SaliencyPanel | null = null;
  private current: number;
  private readonly sliceCount: number;
  private readonly sliceVotes: SliceInQuestion[] | null;

  constructor(private readonly section: HTMLElement) {
    this.sliceCount = Number(dataAttribute(section, "sliceCount"));
    const query = new URLSearchParams(window.location.search);
    const { slice } = choiceFrom(query, this.sliceCount);
    const votes = document.getElementById("slice-votes")?.textContent;
    this.sliceVotes = votes ? (JSON.parse(votes) as SliceInQuestion[]) : null;
    // Without a slice in the link, a coordinator starts on the first slice a reader marked.
    this.current = this.sliceVotes && !query.has("slice") ? firstSlice(this.sliceVotes, this.sliceCount) : slice;
    const wrap = el("div", { className: "viewer-wrap" });
    wrap.append(this.viewerElement, this.overlay.canvas, this.position);
    const help = el("p", {
      className: "muted",
      textContent: `Wheel or ↑/↓: slices · left drag: window · right drag: zoom · middle drag: pan · R: reset · ${WINDOW_PRESETS.map((p) => p.key.toUpperCase()).join(" ")}: windows`,
    });
    this.side.append(help);
    const layout = el("div", { className: "reader-layout" });
    layout.append(wrap, this.side);
    section.querySelector("noscript")?.remove();
    section.append(this.message, layout);
  }

  async start(): Promise<void> {
    const imageIds = imageIdsFor(dataAttribute(this.section, "sliceUrl"), this.sliceCount);
    this.viewer = await StackViewer.create(this.viewerElement, imageIds, this.current);
    this.viewer.onNewImage((index) => {
      this.current = index;
      this.section.dataset.current = String(index);
      this.position.textContent = `${index + 1} / ${this.sliceCount}`;
    });
    this.position.textContent = `${this.current + 1} / ${this.sliceCount}`;
    this.section.dataset.current = String(this.current);
    this.offerSliceVotes();
    this.section.dataset.loaded = "true";
    this.viewerElement.addEventListener("wheel", (event) => this.onWheel(event), { passive: false });
    document.addEventListener("keydown", (event) => this.onKey(event));
    await this.offerModelOutput();
    await this.viewer.prefetch(() => undefined);
    this.section.dataset.prefetched = "true";
  }

  /** For coordinators the page carries the slices readers marked, with every read's labels:
   * a table beside the images whose buttons show each slice. */
  private offerSliceVotes(): void {
    if (!this.sliceVotes) return;
    const table = sliceVotesTable(this.sliceVotes, (index) => void this.viewer?.show(index));
    const mark = (index: number): void => markShown(table, index);
    this.viewer?.onNewImage(mark);
    mark(this.current);
    this.side.append(table);
  }

  private async offerModelOutput(): Promise<void> {
    try {
      const output = await getJson<ScanModelOutput>(dataAttribute(this.section, "modelOutputUrl"));
      if (!SaliencyPanel.offers(output)) return;
      const { choice } = choiceFrom(new URLSearchParams(window.location.search), this.sliceCount);
      this.panel = new SaliencyPanel(output, this.overlay, { sliceCount: this.sliceCount, current: () => this.current }, choice);
      this.side.prepend(this.panel.element);
    } catch (error) {
      showMessage(this.message, `The model output could not be loaded: ${(error as Error).message}`, "error");
    }
  }

  private go(delta: number): void {
    void this.viewer?.show(this.current + delta);
  }

  private onWheel(event: WheelEvent): void {
    event.preventDefault();
    if (!event.deltaY) return;
    if (event.ctrlKey) this.viewer?.zoomBy(event.deltaY < 0 ? 1.1 : 1 / 1.1);
    else this.go(event.deltaY < 0 ? 1 : -1);
  }

  private onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    if (target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const preset = WINDOW_PRESETS.find((p) => p.key === key);
    if (key === "ArrowUp" || key === "PageUp") this.go(1);
    else if (key === "ArrowDown" || key === "PageDown") this.go(-1);
    else if (key === "r") this.viewer?.reset();
    else if (key === "t") this.panel?.toggle();
    else if (preset) this.viewer?.setWindow(preset.center, preset.width);
    else return;
    event.preventDefault();
  }
}

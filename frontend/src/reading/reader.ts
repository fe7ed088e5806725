/**
 * The reading view of one read: the stack viewer, the slice strip, per-slice labels with
 * autosave, progress reports, scan flags and completion. Built inside `<section id="reader">`
 * from its data-* URLs.
 */
import { ApiError, getJson } from "../api/client";
import { readComplete, readGet, labelsSave, scanLabelSave, type ReadWithLabels } from "../api/reads";
import { askToConfirm } from "../confirm";
import { dataAttribute, showMessage } from "../dom";
import { WINDOW_PRESETS } from "../viewer/presets";
import { SaliencyPanel } from "../saliency/panel";
import type { ScanModelOutput } from "../saliency/maps";
import { StackOverlay } from "../viewer/map-overlay";
import { StackViewer, imageIdsFor } from "../viewer/stack";
import { FlagsForm } from "./flags";
import { createHelp } from "./help";
import { FIELD_KEYS, keyAction, type KeyAction } from "./keys";
import { LABEL_FIELDS, type LabelField } from "../generated/vocabulary";
import { FIELD_NAMES, LabelStore } from "./labels";
import { ProgressReporter } from "./progress";
import { LabelSaver, type SaveState } from "./saver";
import { SliceStrip } from "./strip";

export interface ReaderUrls {
  read: string;
  labels: string;
  progress: string;
  flags: string;
  complete: string;
  scanLabel: string;
  slice: string;
  worklist: string;
  /** The model output released for the scan (models and maps for the overlay). */
  modelOutput: string;
}

export function readerUrls(section: HTMLElement): ReaderUrls {
  return {
    read: dataAttribute(section, "readUrl"),
    labels: dataAttribute(section, "labelsUrl"),
    progress: dataAttribute(section, "progressUrl"),
    flags: dataAttribute(section, "flagsUrl"),
    complete: dataAttribute(section, "completeUrl"),
    scanLabel: dataAttribute(section, "scanLabelUrl"),
    slice: dataAttribute(section, "sliceUrl"),
    worklist: dataAttribute(section, "worklistUrl"),
    modelOutput: dataAttribute(section, "modelOutputUrl"),
  };
}

const SAVE_TEXT: Record<SaveState, string> = { saved: "saved", saving: "saving…", error: "not saved" };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

export class Reader {
  private readonly store: LabelStore;
  private readonly saver: LabelSaver;
  private readonly progress: ProgressReporter;
  private readonly strip: SliceStrip;
  private readonly flags: FlagsForm;
  private readonly help = createHelp();
  private readonly viewerElement = el("div", { className: "viewer", id: "viewer" });
  private readonly position = el("div", { className: "overlay top-left", id: "slice-position" });
  private readonly windowInfo = el("div", { className: "overlay top-right", id: "window-info" });
  private readonly labelInfo = el("div", { className: "overlay bottom-left", id: "slice-labels" });
  private readonly loadProgress = el("span", { id: "load-progress" });
  private readonly saveState = el("span", { className: "save-state", id: "save-state" });
  private readonly message = el("p", { className: "message", id: "reader-message" });
  private readonly labelButtons = new Map<LabelField, HTMLButtonElement>();
  private viewer: StackViewer | null = null;
  private readonly overlay = new StackOverlay(this.viewerElement);
  private panel: SaliencyPanel | null = null;
  private current = 0;
  private anchor: number | null = null;
  private completing = false;
  private readonly positions: readonly number[];
  private readonly sliceCount: number;
  /** A scan-level read (prospective test set): one set of labels for the whole scan, kept as
   * entry 0 of the label store; the slices are only looked at. */
  private readonly scanLevel: boolean;

  constructor(
    private readonly section: HTMLElement,
    private readonly urls: ReaderUrls,
    read: ReadWithLabels,
  ) {
    this.sliceCount = read.slice_count;
    this.scanLevel = read.level === "scan";
    this.store = this.scanLevel
      ? new LabelStore(1, read.scan_label ? [{ ...read.scan_label, slice_index: 0 }] : [])
      : new LabelStore(read.slice_count, read.labels);
    this.positions = read.slice_positions_mm ?? [];
    this.saver = new LabelSaver(
      this.store,
      (changes) => (this.scanLevel ? scanLabelSave(urls.scanLabel, changes) : labelsSave(urls.labels, changes)),
      (state, message) => this.setSaveState(state, message),
      (indices) => this.refresh(indices),
    );
    this.progress = new ProgressReporter(urls.progress);
    this.strip = new SliceStrip(read.slice_count, (index) => void this.goTo(index, false));
    this.flags = new FlagsForm(read, urls.flags, urls.read);
    this.current = Math.min(Math.max(read.last_slice_index ?? 0, 0), read.slice_count - 1);
    this.build();
    this.updateCurrent();
    for (const index of read.viewed_slices) this.strip.setViewed(index);
    this.refresh(Array.from({ length: this.store.sliceCount }, (_, i) => i));
    this.section.dataset.level = read.level;
    this.setSaveState("saved");
  }

  /** Show the first slice, then prefetch the whole series. */
  async start(): Promise<void> {
    const imageIds = imageIdsFor(this.urls.slice, this.sliceCount);
    this.viewer = await StackViewer.create(this.viewerElement, imageIds, this.current);
    this.viewer.onNewImage((index) => this.shown(index));
    this.viewer.onViewChange(() => this.updateWindowInfo());
    this.updateWindowInfo();
    this.shown(this.current);
    this.section.dataset.loaded = "true";
    this.viewerElement.addEventListener("wheel", (event) => this.onWheel(event), { passive: false });
    document.addEventListener("keydown", (event) => this.onKey(event));
    window.addEventListener("beforeunload", (event) => {
      if (this.store.dirty().length) event.preventDefault(); // the browser asks before leaving
    });
    await this.viewer.prefetch((done, total) => {
      this.loadProgress.textContent = done < total ? `Loading ${done}/${total}` : `${total} slices loaded`;
    });
    this.section.dataset.prefetched = "true";
    await this.offerModelOutput();
  }

  /** A panel for the model output a coordinator released for this scan; none when nothing is. */
  private async offerModelOutput(): Promise<void> {
    try {
      const output = await getJson<ScanModelOutput>(this.urls.modelOutput);
      if (!SaliencyPanel.offers(output)) return;
      this.panel = new SaliencyPanel(output, this.overlay, {
        sliceCount: this.sliceCount,
        current: () => this.current,
      });
      this.section.querySelector(".side")?.append(this.panel.element);
    } catch (error) {
      showMessage(this.message, `The model output could not be loaded: ${(error as Error).message}`, "error");
    }
  }

  private build(): void {
    const done = el("button", { type: "button", id: "reader-done", textContent: "Done (D)" });
    done.addEventListener("click", () => void this.complete());
    const helpButton = el("button", { type: "button", textContent: "Keys (?)" });
    helpButton.addEventListener("click", () => this.toggleHelp());
    const toolbar = el("div", { className: "toolbar" });
    const labelsTitle = this.scanLevel ? "Scan labels:" : "Labels:";
    toolbar.append(done, helpButton, el("span", { textContent: labelsTitle }), this.saveState, this.loadProgress);
    if (this.scanLevel) {
      const note = "Scan-level read: keys 1–5 (or 0 for no hemorrhage) label the whole scan; scroll through every slice.";
      toolbar.append(el("span", { className: "scan-level-note", id: "scan-level-note", textContent: note }));
    }

    const buttons = el("div", { className: "current-labels", id: "current-labels" });
    LABEL_FIELDS.forEach((field) => {
      const key = FIELD_KEYS[field];
      const button = el("button", { type: "button", textContent: FIELD_NAMES[field], title: `Key ${key}` });
      button.dataset.field = field;
      button.className = `mark-${field}`;
      button.addEventListener("click", () => {
        this.toggle(field);
        button.blur(); // keys keep going to the reader, not to a focused button
      });
      this.labelButtons.set(field, button);
      buttons.append(button);
    });

    const wrap = el("div", { className: "viewer-wrap" });
    wrap.append(this.viewerElement, this.overlay.canvas, this.position, this.windowInfo, this.labelInfo);
    const side = el("div", { className: "side" });
    side.append(buttons, this.strip.element, this.flags.element);
    const layout = el("div", { className: "reader-layout" });
    layout.append(wrap, side);
    this.section.querySelector("noscript")?.remove();
    this.section.append(toolbar, this.message, layout, this.help);
  }

  // --- navigation -------------------------------------------------------------------------

  private async goTo(index: number, extend: boolean): Promise<void> {
    const target = Math.min(Math.max(index, 0), this.sliceCount - 1);
    if (extend) this.anchor ??= this.current;
    else this.anchor = null;
    this.current = target;
    this.updateCurrent();
    await this.viewer?.show(target);
  }

  private shown(index: number): void {
    this.strip.setViewed(index);
    this.progress.shown(index);
  }

  private selection(): number[] {
    if (this.anchor === null) return [this.current];
    const [low, high] = [Math.min(this.anchor, this.current), Math.max(this.anchor, this.current)];
    return Array.from({ length: high - low + 1 }, (_, i) => low + i);
  }

  private updateCurrent(): void {
    const n = this.sliceCount;
    const selection = this.selection();
    const z = this.positions[this.current];
    this.position.textContent =
      `${this.current + 1} / ${n}` +
      (z === undefined ? "" : ` · ${z.toFixed(1)} mm`) +
      (selection.length > 1 ? `  (selected ${selection[0]! + 1}–${selection.at(-1)! + 1})` : "");
    this.section.dataset.current = String(this.current);
    this.strip.setCurrent(this.current);
    this.strip.setSelection(selection.length > 1 ? selection : []);
    this.updateLabelInfo();
  }

  private onWheel(event: WheelEvent): void {
    event.preventDefault();
    if (!event.deltaY) return;
    if (event.ctrlKey) this.viewer?.zoomBy(event.deltaY < 0 ? 1.1 : 1 / 1.1);
    else void this.goTo(this.current + (event.deltaY < 0 ? 1 : -1), event.shiftKey);
  }

  private onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const action = keyAction(event);
    if (!action) return;
    event.preventDefault();
    this.run(action);
  }

  private run(action: KeyAction): void {
    switch (action.kind) {
      case "move":
        void this.goTo(this.current + action.delta, action.extend);
        return;
      case "clear-selection":
        this.anchor = null;
        this.help.hidden = true;
        this.updateCurrent();
        return;
      case "toggle":
        this.toggle(action.field);
        return;
      case "copy-previous":
        this.copyPrevious();
        return;
      case "undo":
        this.changed(this.store.undo());
        return;
      case "reset":
        this.viewer?.reset();
        return;
      case "preset":
        this.viewer?.setWindow(action.preset.center, action.preset.width);
        return;
      case "done":
        void this.complete();
        return;
      case "overlay":
        this.panel?.toggle();
        return;
      case "help":
        this.toggleHelp();
        return;
    }
  }

  /** The overlay's window (a preset's name when it is one) and zoom, e.g. "Brain 40/80 · 1.5×". */
  private updateWindowInfo(): void {
    const view = this.viewer?.view();
    if (!view) return;
    const [center, width] = [Math.round(view.center), Math.round(view.width)];
    const preset = WINDOW_PRESETS.find((p) => p.center === center && p.width === width);
    const zoom = Math.abs(view.zoom - 1) < 0.01 ? "" : ` · ${view.zoom.toFixed(1)}×`;
    this.windowInfo.textContent = `${preset?.name ?? "Window"} ${center}/${width}${zoom}`;
  }

  private toggleHelp(): void {
    this.help.hidden = !this.help.hidden;
  }

  // --- labels -----------------------------------------------------------------------------

  /** Where labels go: the selected slices, or the scan (entry 0) in a scan-level read. */
  private labelTargets(): number[] {
    return this.scanLevel ? [0] : this.selection();
  }

  private toggle(field: LabelField): void {
    const value = !this.store.get(this.scanLevel ? 0 : this.current)[field];
    this.changed(this.store.edit(this.labelTargets(), { kind: "set", field, value }));
  }

  private copyPrevious(): void {
    if (this.current === 0 || this.scanLevel) return;
    const values = this.store.get(this.current - 1);
    this.changed(this.store.edit([this.current], { kind: "replace", values }));
  }

  private changed(indices: number[]): void {
    if (!indices.length) return;
    this.refresh(indices);
    void this.saver.flush();
  }

  private refresh(indices: readonly number[]): void {
    if (!this.scanLevel) for (const index of indices) this.strip.setLabels(index, this.store.get(index));
    this.updateLabelInfo();
  }

  private updateLabelInfo(): void {
    const values = this.store.get(this.scanLevel ? 0 : this.current);
    const on = LABEL_FIELDS.filter((field) => values[field]).map((field) => FIELD_NAMES[field]);
    this.labelInfo.textContent = this.scanLevel ? `Scan: ${on.join(" ") || "not labelled"}` : on.join(" ");
    for (const [field, button] of this.labelButtons) button.setAttribute("aria-pressed", String(values[field]));
  }

  private setSaveState(state: SaveState, message?: string): void {
    this.saveState.dataset.state = state;
    this.saveState.textContent = SAVE_TEXT[state];
    this.saveState.title = message ?? "";
    if (state === "error" && message) showMessage(this.message, `Labels not saved (retrying): ${message}`, "error");
    else if (state === "saved" && this.message.classList.contains("error")) showMessage(this.message, "");
  }

  // --- completion -------------------------------------------------------------------------

  private async complete(): Promise<void> {
    if (this.completing) return;
    this.completing = true;
    try {
      showMessage(this.message, "Finishing the read…");
      if (!(await this.saver.settle())) {
        showMessage(this.message, "Some labels are not saved yet; the read stays open.", "error");
        return;
      }
      await this.progress.send();
      try {
        await readComplete(this.urls.complete, false);
      } catch (error) {
        const unseen = error instanceof ApiError && error.status === 409 ? error.extra["unseen_slices"] : null;
        if (!Array.isArray(unseen)) throw error;
        const numbers = (unseen as number[]).map((index) => index + 1);
        this.strip.setSelection(unseen as number[]);
        showMessage(this.message, `Never shown: slices ${numbers.join(", ")}`, "error");
        if (!askToConfirm(`${numbers.length} slices were never shown (${numbers.join(", ")}). Finish the read anyway?`)) {
          return;
        }
        await readComplete(this.urls.complete, true);
      }
      window.location.assign(this.urls.worklist);
    } catch (error) {
      showMessage(this.message, `Could not finish the read: ${(error as Error).message}`, "error");
    } finally {
      this.completing = false;
    }
  }
}

/** Load the read and start the reader in `section`. */
export async function startReader(section: HTMLElement): Promise<void> {
  const urls = readerUrls(section);
  // The page carries the read as it was when served; fetch it only where it does not.
  const inline = document.getElementById("read-data")?.textContent;
  const read = inline ? (JSON.parse(inline) as ReadWithLabels) : await readGet(urls.read);
  await new Reader(section, urls, read).start();
}

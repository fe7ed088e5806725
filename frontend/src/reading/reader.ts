/**
 * The reading view of one read: the stack viewer, the slice strip, per-slice labels with
 * autosave, progress reports, scan flags and completion. Built inside `<section id="reader">`
 * from its data-* URLs. A completed read opens read-only (its labels, flags and note, when it was
 * completed and, once released, its ground truth; the images still scroll); an open read turns
 * read-only when the server says it was completed or withdrawn meanwhile. Other tabs' saves are
 * merged in (ReadSync).
 */
import { ApiError, getJson } from "../api/client";
import {
  readClosedStatus,
  readComplete,
  readGet,
  labelsSave,
  scanLabelSave,
  type ReadWithLabels,
} from "../api/reads";
import type { Schemas } from "../api/types";
import { askToConfirm } from "../confirm";
import { dataAttribute, showMessage } from "../dom";
import { WINDOW_PRESETS } from "../viewer/presets";
import { SaliencyPanel } from "../saliency/panel";
import type { ScanModelOutput } from "../saliency/maps";
// The stack viewer (Cornerstone3D) loads after the first slice is drawn: types only here.
import { FirstImage } from "../viewer/first-image";
import type { StackOverlay } from "../viewer/map-overlay";
import type { StackViewer } from "../viewer/stack";
import { FlagsForm } from "./flags";
import { createHelp } from "./help";
import { FIELD_KEYS, keyAction, type KeyAction } from "./keys";
import { CLASS_NAMES, LABEL_FIELDS, SUBTYPES, type LabelField } from "../generated/vocabulary";
import { FIELD_NAMES, LabelStore, type ServerLabel } from "./labels";
import { ProgressReporter } from "./progress";
import { LabelSaver, type SaveState } from "./saver";
import { SliceStrip } from "./strip";
import { ReadSync } from "./sync";

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

const SAVE_TEXT: Record<SaveState, string> = {
  saved: "saved",
  saving: "saving…",
  error: "not saved",
  closed: "read-only",
};

/** The ground truth of a finished read's scan as the page carries it: the shapes of the
 * reader's ground-truth API (nothing of how the truth was reached). */
interface GroundTruthData {
  version: Schemas["ReaderGroundTruthVersion"];
  scan: Schemas["ReaderGroundTruthScanLabel"];
  slices: Schemas["ReaderGroundTruthSliceLabel"][];
}

/** The hemorrhage classes a ground-truth row holds, by name ("IPH", "SDH"). */
function truthClasses(row: Pick<Schemas["ReaderGroundTruthSliceLabel"], (typeof SUBTYPES)[number]>): string[] {
  return SUBTYPES.filter((subtype) => row[subtype]).map((subtype) => CLASS_NAMES[subtype]);
}

/** What a read-only view still does: look at the images, not change the labels. */
const VIEWING_ACTIONS: ReadonlySet<KeyAction["kind"]> = new Set([
  "move",
  "clear-selection",
  "reset",
  "preset",
  "overlay",
  "help",
]);

function dateText(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : "";
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

export class Reader {
  private readonly store: LabelStore;
  private readonly saver: LabelSaver;
  private readonly progress: ProgressReporter;
  private readonly strip: SliceStrip;
  private readonly flags: FlagsForm;
  private help: HTMLElement;
  private readonly viewerElement = el("div", { className: "viewer", id: "viewer" });
  private readonly position = el("div", { className: "overlay top-left", id: "slice-position" });
  private readonly windowInfo = el("div", { className: "overlay top-right", id: "window-info" });
  private readonly labelInfo = el("div", { className: "overlay bottom-left", id: "slice-labels" });
  private readonly loadProgress = el("span", { id: "load-progress" });
  private readonly saveState = el("span", { className: "save-state", id: "save-state" });
  private readonly message = el("p", { className: "message", id: "reader-message" });
  private readonly readStatus = el("span", { className: "read-status", id: "read-status" });
  private readonly doneButton = el("button", { type: "button", id: "reader-done", textContent: "Done (D)" });
  private readonly labelBox = el("div", { className: "current-labels", id: "current-labels" });
  private readonly labelButtons = new Map<LabelField, HTMLButtonElement>();
  private viewer: StackViewer | null = null;
  /** The map overlay over the viewer, created with the viewer in start(). */
  private overlay!: StackOverlay;
  private panel: SaliencyPanel | null = null;
  private current = 0;
  private anchor: number | null = null;
  private completing = false;
  private readonly positions: readonly number[];
  private readonly sliceCount: number;
  /** A scan-level read (prospective test set): one set of labels for the whole scan, kept as
   * entry 0 of the label store; the slices are only looked at. */
  private readonly scanLevel: boolean;
  /** A finished read: shown, never changed (no editor keys, saves or progress reports). */
  private readOnly: boolean;
  /** Slices shown so far (the server's, then this page's): Done warns of the others. */
  private readonly viewed: Set<number>;
  private sync: ReadSync | null = null;

  constructor(
    private readonly section: HTMLElement,
    private readonly urls: ReaderUrls,
    read: ReadWithLabels,
  ) {
    this.sliceCount = read.slice_count;
    this.scanLevel = read.level === "scan";
    this.readOnly = read.status === "completed";
    this.help = createHelp(this.readOnly);
    this.viewed = new Set(read.viewed_slices);
    this.store = this.scanLevel
      ? new LabelStore(1, read.scan_label ? [{ ...read.scan_label, slice_index: 0 }] : [])
      : new LabelStore(read.slice_count, read.labels);
    this.positions = read.slice_positions_mm ?? [];
    this.saver = new LabelSaver(
      this.store,
      (changes) => (this.scanLevel ? scanLabelSave(urls.scanLabel, changes) : labelsSave(urls.labels, changes)),
      (state, message) => this.setSaveState(state, message),
      (indices) => {
        this.refresh(indices);
        this.sync?.announce();
      },
    );
    this.progress = new ProgressReporter(urls.progress);
    this.strip = new SliceStrip(read.slice_count, (index) => void this.goTo(index, false));
    this.flags = new FlagsForm(
      read,
      urls.flags,
      urls.read,
      (error) => this.closeRead(readClosedStatus(error) ?? "completed"),
      () => this.sync?.announce(),
    );
    this.current = Math.min(Math.max(read.last_slice_index ?? 0, 0), read.slice_count - 1);
    this.build();
    this.updateCurrent();
    for (const index of read.viewed_slices) this.strip.setViewed(index);
    this.refresh(Array.from({ length: this.store.sliceCount }, (_, i) => i));
    this.section.dataset.level = read.level;
    this.setSaveState("saved");
    if (this.readOnly) this.showReadOnly(read.finished_at);
    else
      this.sync = new ReadSync(read.id, urls.read, {
        read: (current) => this.merge(current),
        gone: () => this.closeRead("withdrawn"),
      });
  }

  // --- read-only, other tabs ----------------------------------------------------------------

  /** Turn the page into a read-only view: no Done, no label buttons, no saves or reports. */
  private showReadOnly(finishedAt: string | null | undefined, withdrawn = false): void {
    this.readOnly = true;
    this.progress.stop();
    this.sync?.stop();
    this.flags.setReadOnly();
    this.doneButton.remove();
    this.labelBox.remove();
    this.anchor = null;
    const help = createHelp(true);
    this.help.replaceWith(help);
    this.help = help;
    this.section.dataset.readOnly = "true";
    const when = dateText(finishedAt);
    this.readStatus.textContent = withdrawn
      ? "Withdrawn from you · read-only"
      : `Completed${when ? ` on ${when}` : ""} · read-only`;
    this.updateCurrent();
    this.showGroundTruth();
  }

  /** The server says the read takes no more changes (completed in another tab or window, or
   * withdrawn): stop saving, drop the edits it refused, say so once. */
  private closeRead(status: "completed" | "withdrawn", finishedAt?: string | null): void {
    if (this.readOnly) return;
    const refused = this.store.discardPending();
    this.refresh(Array.from({ length: this.store.sliceCount }, (_, i) => i));
    this.showReadOnly(finishedAt, status === "withdrawn");
    const why =
      status === "completed"
        ? "This read was completed (in another tab or window) and is read-only now"
        : "This read was withdrawn from you and is read-only now";
    showMessage(this.message, refused.length ? `${why}; your last label change was not saved.` : `${why}.`, "error");
  }

  /** The read as the server has it now (polled, or another tab saved): take the labels and
   * flags saved elsewhere where this page has no edit of its own pending. */
  private merge(read: ReadWithLabels): void {
    if (this.readOnly) return;
    if (read.status === "completed") {
      this.closeRead("completed", read.finished_at);
      return;
    }
    const labels: ServerLabel[] = this.scanLevel
      ? read.scan_label
        ? [{ ...read.scan_label, slice_index: 0 }]
        : []
      : read.labels;
    const changed = this.store.merge(labels);
    if (changed.length) this.refresh(changed);
    this.flags.merge(read);
  }

  /** On a finished read, the released ground truth of its scan beside the reader's labels. */
  private showGroundTruth(): void {
    const inline = document.getElementById("ground-truth-data")?.textContent;
    if (!inline || this.section.querySelector("#ground-truth")) return;
    const truth = JSON.parse(inline) as GroundTruthData;
    const box = el("section", { className: "ground-truth", id: "ground-truth" });
    const title = el("h3", { textContent: "Ground truth" });
    const released = dateText(truth.version.released_at);
    const source = el("p", {
      className: "muted",
      textContent: `Version ${truth.version.name}${released ? `, released ${released}` : ""}`,
    });
    const scanClasses = truthClasses(truth.scan);
    const scan = el("p", { id: "ground-truth-scan", textContent: `Scan: ${scanClasses.join(" ") || "no hemorrhage"}` });
    box.append(title, source, scan);
    this.section.querySelector(".side")?.prepend(box);
    if (this.scanLevel) return;
    for (const row of truth.slices) this.strip.setTruth(row.slice_index, truthClasses(row));
    this.section.dataset.groundTruth = truth.version.name;
  }

  /** Show the first slice, then prefetch the whole series. */
  async start(): Promise<void> {
    // The slice shown first is drawn by a small path of this page (the page's head preloads its
    // file) while the viewer's code loads; that code is evaluated only once the slice is drawn
    // (evaluating it holds the main thread). The series loads while the viewer is created.
    const first = new FirstImage(this.viewerElement);
    if (await first.show(this.urls.slice.replace("{index}", String(this.current)))) this.section.dataset.firstImage = "drawn";
    const [{ StackViewer, imageIdsFor, prefetchSeries }, { StackOverlay }] = await Promise.all([
      import("../viewer/stack"),
      import("../viewer/map-overlay"),
    ]);
    const imageIds = imageIdsFor(this.urls.slice, this.sliceCount);
    const prefetched = prefetchSeries(imageIds, this.current, (done, total) => {
      this.loadProgress.textContent = done < total ? `Loading ${done}/${total}` : `${total} slices loaded`;
    });
    prefetched.catch(() => undefined); // awaited below, unless the viewer fails first
    this.overlay = new StackOverlay(this.viewerElement);
    this.viewerElement.after(this.overlay.canvas);
    this.viewer = await first.handOver(this.section, () => StackViewer.create(this.viewerElement, imageIds, this.current));
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
    await prefetched;
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
    const done = this.doneButton;
    done.addEventListener("click", () => void this.complete());
    const helpButton = el("button", { type: "button", textContent: "Keys (?)" });
    helpButton.addEventListener("click", () => this.toggleHelp());
    const toolbar = el("div", { className: "toolbar" });
    const labelsTitle = this.scanLevel ? "Scan labels:" : "Labels:";
    toolbar.append(
      done,
      helpButton,
      this.readStatus,
      el("span", { textContent: labelsTitle }),
      this.saveState,
      this.loadProgress,
    );
    if (this.scanLevel) {
      const note = "Scan-level read: keys 1–5 (or 0 for no hemorrhage) label the whole scan; scroll through every slice.";
      toolbar.append(el("span", { className: "scan-level-note", id: "scan-level-note", textContent: note }));
    }

    const buttons = this.labelBox;
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
    wrap.append(this.viewerElement, this.position, this.windowInfo, this.labelInfo);
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
    this.viewed.add(index);
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
    if (!action || (this.readOnly && !VIEWING_ACTIONS.has(action.kind))) return;
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
      case "redo":
        this.changed(this.store.redo());
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
    if (this.readOnly) return;
    const value = !this.store.get(this.scanLevel ? 0 : this.current)[field];
    this.changed(this.store.edit(this.labelTargets(), { kind: "set", field, value }));
  }

  private copyPrevious(): void {
    if (this.current === 0 || this.scanLevel) return;
    const values = this.store.get(this.current - 1);
    this.changed(this.store.edit([this.current], { kind: "replace", values }));
  }

  private changed(indices: number[]): void {
    if (!indices.length || this.readOnly) return;
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
    if (state === "closed") {
      this.closeRead(this.saver.closedAs ?? "completed");
      return;
    }
    if (state === "error" && message) showMessage(this.message, `Labels not saved (retrying): ${message}`, "error");
    else if (state === "saved" && this.message.classList.contains("error")) showMessage(this.message, "");
  }

  // --- completion -------------------------------------------------------------------------

  /** Mark the slices never shown (not as a selection: they are not labelled by a key) and ask
   * whether to finish anyway. */
  private confirmUnseen(unseen: readonly number[]): boolean {
    const numbers = unseen.map((index) => index + 1);
    this.strip.setUnseen(unseen);
    this.section.dataset.unseen = unseen.join(" ");
    showMessage(this.message, `Never shown: slices ${numbers.join(", ")}`, "error");
    return askToConfirm(`${numbers.length} slices were never shown (${numbers.join(", ")}). Finish the read anyway?`);
  }

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
      // The page knows which slices it showed: it asks before finishing, rather than having the
      // server refuse (a 409 the browser would log); the server's check stays as the backstop.
      const unseen = Array.from({ length: this.sliceCount }, (_, i) => i).filter((i) => !this.viewed.has(i));
      let unseenOk = unseen.length > 0 && this.confirmUnseen(unseen);
      if (unseen.length && !unseenOk) return;
      try {
        await readComplete(this.urls.complete, unseenOk);
      } catch (error) {
        const refused = error instanceof ApiError && error.status === 409 ? error.extra["unseen_slices"] : null;
        if (!Array.isArray(refused)) throw error;
        unseenOk = this.confirmUnseen(refused as number[]);
        if (!unseenOk) return;
        await readComplete(this.urls.complete, true);
      }
      this.sync?.announce(); // another tab of this read turns read-only
      this.sync?.stop();
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

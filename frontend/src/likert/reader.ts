/**
 * The scoring page of a Likert study: the reader's cases one at a time in their own order, the
 * slice in a Cornerstone3D stack viewport (one image per case, so a case's position is its
 * index in the stack) with the map laid over it; 1-4 score (autosaved) and go on to the next
 * unscored case, U undoes, progress and an "All scored" end; a closed study is shown read-only.
 * Built inside `<section id="likert-reader">` from its data-* attributes. Cases are known by the
 * study's token alone: nothing here names a method or a map.
 */
import { getEnabledElement, imageLoader } from "@cornerstonejs/core";
import { dataAttribute, showMessage } from "../dom";
import { WINDOW_PRESETS } from "../viewer/presets";
import { StackViewer } from "../viewer/stack";
import { caseUrl, itemsGet, scoreSave, type LikertItem } from "./api";
import { createHelp } from "./help";
import { likertKeyAction, likertPresets, type LikertAction } from "./keys";
import { OverlayLayer } from "./overlay";
import { ScoreSaver, type SaveState } from "./saver";
import { SCALE, SCORE_NAMES, ScoreBook, type Score } from "./scores";

export interface LikertUrls {
  items: string;
  score: string;
  /** Templates with "{case}". */
  slice: string;
  overlay: string;
  list: string;
}

export function likertUrls(section: HTMLElement): LikertUrls {
  return {
    items: dataAttribute(section, "itemsUrl"),
    score: dataAttribute(section, "scoreUrl"),
    slice: dataAttribute(section, "sliceUrl"),
    overlay: dataAttribute(section, "overlayUrl"),
    list: dataAttribute(section, "listUrl"),
  };
}

/** Cases loaded ahead of the one on screen (slice and overlay). */
const PREFETCH_AHEAD = 3;
const DEFAULT_OPACITY_PERCENT = 50;
/** Keys a focused opacity slider keeps for itself. */
const SLIDER_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"]);
const SAVE_TEXT: Record<SaveState, string> = {
  saved: "saved",
  saving: "saving…",
  retrying: "not saved yet",
  closed: "not saved: study closed",
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

function button(id: string, text: string, shortcut: string, onClick: () => void): HTMLButtonElement {
  const element = el("button", { type: "button", id, textContent: text, className: "secondary" });
  element.setAttribute("aria-keyshortcuts", shortcut);
  element.addEventListener("click", onClick);
  return element;
}

export class LikertReader {
  private readonly book: ScoreBook;
  private readonly saver: ScoreSaver;
  private readonly presets = likertPresets(WINDOW_PRESETS);
  private readonly imageIds: readonly string[];
  private readonly cases: readonly string[];
  private readonly help = createHelp(this.presets);
  private readonly viewerElement = el("div", { className: "likert-viewer", id: "likert-viewer", tabIndex: 0 });
  private readonly overlay: OverlayLayer;
  private readonly caseInfo = el("div", { className: "corner top-left", id: "likert-case" });
  private readonly windowInfo = el("div", { className: "corner top-right", id: "likert-window" });
  private readonly progress = el("span", { className: "likert-progress", id: "likert-progress", ariaLive: "polite" });
  private readonly saveState = el("span", { className: "save-state", id: "likert-save" });
  private readonly message = el("p", { className: "message", id: "likert-message" });
  private readonly done = el("div", { className: "likert-done", id: "likert-done", hidden: true });
  private readonly currentScore = el("p", { className: "likert-current", id: "likert-current" });
  private readonly scoreButtons = new Map<Score, HTMLButtonElement>();
  private readonly undoButton = button("likert-undo", "Undo (U)", "U", () => this.undo());
  private readonly previousButton = button("likert-previous", "← Previous", "ArrowLeft", () => void this.goTo(this.current - 1));
  private readonly nextButton = button("likert-next", "Next →", "ArrowRight", () => void this.goTo(this.current + 1));
  private readonly overlayButton = button("likert-overlay-toggle", "Overlay (T)", "T", () => this.toggleOverlay());
  private readonly opacity = el("input", { type: "range", id: "likert-opacity", min: "0", max: "100", step: "5" });
  private readonly opacityValue = el("output", { id: "likert-opacity-value" });
  private viewer: StackViewer | null = null;
  private current: number;
  private readOnly: boolean;

  constructor(
    private readonly section: HTMLElement,
    private readonly urls: LikertUrls,
    items: readonly LikertItem[],
    closed: boolean,
  ) {
    const ordered = [...items].sort((a, b) => a.position - b.position);
    this.book = new ScoreBook(ordered);
    this.cases = ordered.map((item) => item.case);
    this.imageIds = this.cases.map((token) => `wadouri:${new URL(caseUrl(urls.slice, token), window.location.href).href}`);
    this.readOnly = closed;
    this.current = this.book.firstUnscored() ?? 0;
    this.overlay = new OverlayLayer(this.viewerElement, (problem) =>
      problem ? this.say(problem, "overlay", "error") : this.unsay("overlay"),
    );
    this.saver = new ScoreSaver((position, score) => scoreSave(urls.score, position, score), {
      state: (state, message) => this.setSaveState(state, message),
      closed: (message) => void this.closedMeanwhile(message),
      refused: (position, message) => void this.refused(position, message),
    });
    this.build();
    this.refresh();
    this.setSaveState("saved");
  }

  /** Show the first unscored case (or the first case), then listen to keys. */
  async start(): Promise<void> {
    void this.overlay.show(this.overlayUrl(this.current), this.imageIds[this.current]!);
    this.viewer = await StackViewer.create(this.viewerElement, this.imageIds, this.current);
    this.viewer.onViewChange(() => this.updateWindowInfo());
    this.updateWindowInfo();
    this.overlay.align();
    document.addEventListener("keydown", (event) => this.onKey(event));
    this.viewerElement.addEventListener("wheel", (event) => this.onWheel(event), { passive: false });
    new ResizeObserver(() => this.resize()).observe(this.viewerElement);
    window.addEventListener("online", () => void this.saver.flush());
    window.addEventListener("beforeunload", (event) => {
      if (this.saver.pendingCount && !this.saver.isClosed) event.preventDefault(); // the browser asks first
    });
    this.prefetch(this.current);
    this.viewerElement.focus({ preventScroll: true });
    this.section.dataset.loaded = "true";
  }

  private build(): void {
    const helpButton = button("likert-help-button", "Keys (H)", "H", () => this.toggleHelp());
    const toolbar = el("div", { className: "likert-toolbar" });
    toolbar.append(this.progress, this.saveState, helpButton);

    const back = el("a", { href: this.urls.list, id: "likert-back", className: "button", textContent: "Back to the studies" });
    this.done.setAttribute("role", "status");
    this.done.append(el("strong", { textContent: "All scored." }), " Every case has your score; you may still look through them. ", back);

    const scale = el("div", { className: "likert-scale", id: "likert-scale" });
    scale.setAttribute("role", "group");
    scale.setAttribute("aria-labelledby", "likert-scale-title");
    scale.append(el("h2", { id: "likert-scale-title", textContent: "Score this map" }));
    for (const score of SCALE) {
      const scoreButton = el("button", { type: "button", className: "score", textContent: `${score} ${SCORE_NAMES[score]}` });
      scoreButton.dataset.score = String(score);
      scoreButton.setAttribute("aria-keyshortcuts", String(score));
      scoreButton.addEventListener("click", () => this.score(score));
      this.scoreButtons.set(score, scoreButton);
      scale.append(scoreButton);
    }
    scale.append(this.currentScore, this.undoButton);

    const navigation = el("div", { className: "likert-nav" });
    navigation.append(this.previousButton, this.nextButton);

    this.opacity.value = String(DEFAULT_OPACITY_PERCENT);
    this.opacity.addEventListener("input", () => this.setOpacity());
    // Dragged with the mouse, the slider hands the keys back (arrows move between cases again);
    // reached with Tab, it keeps its arrow keys.
    this.opacity.addEventListener("pointerup", () => this.viewerElement.focus({ preventScroll: true }));
    const opacityLabel = el("label", { htmlFor: this.opacity.id, textContent: "Opacity" });
    const overlayControls = el("div", { className: "likert-overlay-controls" });
    overlayControls.append(this.overlayButton, opacityLabel, this.opacity, this.opacityValue);
    this.setOpacity();

    const side = el("div", { className: "likert-side" });
    side.append(scale, navigation, overlayControls);
    this.viewerElement.setAttribute("aria-label", "The slice with its map: left drag window, right drag zoom, middle drag pan");
    const wrap = el("div", { className: "likert-viewer-wrap" });
    wrap.append(this.viewerElement, this.overlay.image, this.caseInfo, this.windowInfo);
    const layout = el("div", { className: "likert-layout" });
    layout.append(wrap, side);
    this.section.querySelector("noscript")?.remove();
    this.section.append(toolbar, this.message, this.done, layout, this.help);
  }

  // --- scoring ----------------------------------------------------------------------------

  private score(score: Score): void {
    if (this.readOnly) return this.refuseReadOnly();
    const position = this.current;
    if (!this.overlay.isReady(this.overlayUrl(position), this.imageIds[position]!)) {
      this.say(`Case ${position + 1} is still loading: score it once its map is shown.`, "info");
      return;
    }
    const change = this.book.set(position, score);
    if (change) this.saver.save(position, score);
    this.refresh();
    const next = this.book.nextUnscored(position);
    if (next !== null) void this.goTo(next);
  }

  private undo(): void {
    if (this.readOnly) return this.refuseReadOnly();
    const change = this.book.undo();
    if (!change) {
      this.say("Nothing to undo: no score was given since this page opened.", "info");
      return;
    }
    this.saver.save(change.position, change.score);
    this.refresh();
    void this.goTo(change.position);
  }

  private refuseReadOnly(): void {
    this.say("This study is closed: your scores are kept and no longer change.", "closed", "error");
  }

  /** A message, tagged by what it is about, so that only that may take it back. */
  private say(text: string, source: string, kind: "info" | "error" = "info"): void {
    showMessage(this.message, text, kind);
    this.message.dataset.source = source;
  }

  private unsay(source: string): void {
    if (this.message.dataset.source === source) this.say("", "");
  }

  private setSaveState(state: SaveState, message?: string): void {
    this.saveState.dataset.state = state;
    this.saveState.textContent = SAVE_TEXT[state];
    this.saveState.title = message ?? "";
    this.section.dataset.saveState = state;
    if (state === "retrying") {
      const text = `Scores not saved yet (${message ?? "no answer"}); trying again. Keep this page open.`;
      this.say(text, "saver", "error");
    } else if (state === "saved") {
      this.unsay("saver");
    }
  }

  /** The study was closed while the page was open: show the scores the server kept. */
  private async closedMeanwhile(message: string): Promise<void> {
    this.readOnly = true;
    this.say(`${message} Your saved scores are shown.`, "closed", "error");
    await this.reload();
  }

  private async refused(position: number, message: string): Promise<void> {
    this.say(`The score of case ${position + 1} was not saved: ${message}`, "refused", "error");
    await this.reload();
  }

  /** The server's scores in place of the page's. */
  private async reload(): Promise<void> {
    try {
      this.book.replace(await itemsGet(this.urls.items));
    } catch (error) {
      this.say(`The saved scores could not be loaded: ${(error as Error).message}`, "reload", "error");
    }
    this.refresh();
  }

  // --- navigation and view ----------------------------------------------------------------

  private async goTo(position: number): Promise<void> {
    const target = Math.min(Math.max(position, 0), this.book.count - 1);
    this.current = target;
    this.unsay("info");
    this.unsay("slice");
    this.refresh();
    this.prefetch(target);
    void this.overlay.show(this.overlayUrl(target), this.imageIds[target]!);
    try {
      await this.viewer?.show(target);
    } catch (error) {
      if (this.current === target) {
        this.say(`The slice of case ${target + 1} could not be loaded: ${(error as Error).message}`, "slice", "error");
      }
    }
  }

  private prefetch(position: number): void {
    for (let ahead = 1; ahead <= PREFETCH_AHEAD; ahead++) {
      const next = position + ahead;
      if (next >= this.book.count) break;
      imageLoader.loadAndCacheImage(this.imageIds[next]!).catch(() => undefined); // shown on arrival
      this.overlay.preload(this.overlayUrl(next));
    }
  }

  private overlayUrl(position: number): string {
    return caseUrl(this.urls.overlay, this.cases[position]!);
  }

  private toggleOverlay(): void {
    this.overlay.setVisible(!this.overlay.isVisible);
    this.refresh();
  }

  private setOpacity(): void {
    const percent = Number(this.opacity.value);
    this.overlay.setOpacity(percent / 100);
    this.opacityValue.textContent = `${percent}%`;
    if (!this.overlay.isVisible && this.viewer) this.toggleOverlay();
  }

  private toggleHelp(): void {
    this.help.hidden = !this.help.hidden;
  }

  private resize(): void {
    if (!this.viewer) return;
    getEnabledElement(this.viewerElement)?.renderingEngine?.resize(true, true);
  }

  private onWheel(event: WheelEvent): void {
    if (!event.ctrlKey || !event.deltaY) return;
    event.preventDefault();
    this.viewer?.zoomBy(event.deltaY < 0 ? 1.1 : 1 / 1.1);
  }

  private onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    if (target?.isContentEditable || (target && ["TEXTAREA", "SELECT"].includes(target.tagName))) return;
    if (target instanceof HTMLInputElement && (target.type !== "range" || SLIDER_KEYS.has(event.key))) return;
    const action = likertKeyAction(event, this.presets);
    if (!action) return;
    event.preventDefault();
    this.run(action);
  }

  private run(action: LikertAction): void {
    switch (action.kind) {
      case "score":
        return this.score(action.score);
      case "undo":
        return this.undo();
      case "move":
        void this.goTo(this.current + action.delta);
        return;
      case "overlay":
        return this.toggleOverlay();
      case "reset":
        this.viewer?.reset();
        return;
      case "preset":
        this.viewer?.setWindow(action.preset.center, action.preset.width);
        return;
      case "help":
        return this.toggleHelp();
      case "escape":
        this.help.hidden = true;
        return;
    }
  }

  /** The window (a preset's name when it is one) and zoom, e.g. "Brain 40/80 · 1.5×". */
  private updateWindowInfo(): void {
    const view = this.viewer?.view();
    if (!view) return;
    const [center, width] = [Math.round(view.center), Math.round(view.width)];
    const preset = this.presets.find((p) => p.center === center && p.width === width);
    const zoom = Math.abs(view.zoom - 1) < 0.01 ? "" : ` · ${view.zoom.toFixed(1)}×`;
    this.windowInfo.textContent = `${preset?.name ?? "Window"} ${center}/${width}${zoom}`;
  }

  // --- what the page shows ----------------------------------------------------------------

  private refresh(): void {
    const { count, scoredCount, allScored } = this.book;
    const score = this.book.get(this.current);
    this.progress.textContent = `${scoredCount} of ${count} scored`;
    this.caseInfo.textContent = `Case ${this.current + 1} of ${count}`;
    this.currentScore.textContent = score === null ? "Not scored yet" : `Your score: ${score} (${SCORE_NAMES[score].toLowerCase()})`;
    for (const [value, scoreButton] of this.scoreButtons) {
      scoreButton.setAttribute("aria-pressed", String(value === score));
      scoreButton.disabled = this.readOnly;
    }
    this.undoButton.disabled = this.readOnly || !this.book.canUndo;
    this.previousButton.disabled = this.current === 0;
    this.nextButton.disabled = this.current === count - 1;
    this.overlayButton.setAttribute("aria-pressed", String(this.overlay.isVisible));
    this.done.hidden = !allScored;
    Object.assign(this.section.dataset, {
      position: String(this.current),
      scored: String(scoredCount),
      allScored: String(allScored),
      readOnly: String(this.readOnly),
      overlay: this.overlay.isVisible ? "on" : "off",
    });
  }
}

/** Load the reader's cases and start the page in `section`. */
export async function startLikert(section: HTMLElement): Promise<void> {
  const urls = likertUrls(section);
  const items = await itemsGet(urls.items);
  if (!items.length) {
    const empty = el("p", { className: "message", id: "likert-message", textContent: "This study has no cases for you." });
    section.querySelector("noscript")?.remove();
    section.append(empty);
    return;
  }
  await new LikertReader(section, urls, items, section.dataset.closed === "true").start();
}

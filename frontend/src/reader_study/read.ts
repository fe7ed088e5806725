/**
 * The reader study's reading page (/reader-studies/<id>/read/): the reader's current case, found
 * through the study's next/ (or the washout, model output being prepared, or the end), shown in
 * the reading view's stack viewer (first slice drawn by the small fast path, then Cornerstone3D),
 * the questions (any ICH, subtypes, confidence 0-100), and in aided sessions the model panel
 * (per-class scores against the model's thresholds; with saliency, the overlay over the slices).
 * Submitting sends the answer with the case's active time and opens the next case.
 *
 * In an unaided session the server sends nothing of the model ("model": null), and this page
 * builds no model panel or overlay at all.
 */
import { ApiError } from "../api/client";
import { dataAttribute, element as el, showMessage } from "../dom";
import { CLASS_NAMES, HEMORRHAGE_CLASSES, SUBTYPES, type Subtype } from "../generated/vocabulary";
import { loadOverlays, nearestFirst } from "../saliency/maps";
import { FirstImage } from "../viewer/first-image";
import type { StackOverlay } from "../viewer/map-overlay";
import { WINDOW_PRESETS } from "../viewer/presets";
import type { StackViewer } from "../viewer/stack";
import { ActiveTimeMeter, attach } from "./active-time";
import { AnswerDraft } from "./answer";
import { answerPost, dateText, modalityName, nextGet, readGet, type NextState, type ReadModel, type StudyRead } from "./api";
import { createStudyHelp } from "./help";
import { movedConfidence, studyKeyAction, studyPresets, type StudyAction } from "./keys";

export interface StudyReadUrls {
  next: string;
  /** A read's API URL with {read}. */
  read: string;
  /** A read's answer URL with {read}. */
  answer: string;
  list: string;
}

export function studyReadUrls(section: HTMLElement): StudyReadUrls {
  return {
    next: dataAttribute(section, "nextUrl"),
    read: dataAttribute(section, "readUrl"),
    answer: dataAttribute(section, "answerUrl"),
    list: dataAttribute(section, "listUrl"),
  };
}

const PREPARING_POLL_MS = 10_000;
/** Keys a focused range or number input keeps for itself. */
const INPUT_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"]);

function readUrl(template: string, id: number): string {
  return template.replace("{read}", String(id));
}

/** A class's score in the model output (keys "any", "IPH" or "iph"). */
function scoreOf(values: Record<string, number | null | undefined>, cls: string): number | null {
  const value = values[cls] ?? values[cls.toUpperCase()] ?? values[CLASS_NAMES[cls as keyof typeof CLASS_NAMES] ?? cls];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export class StudyReader {
  private readonly draft = new AnswerDraft();
  private readonly presets = studyPresets(WINDOW_PRESETS);
  private readonly help: HTMLElement;
  private readonly viewerElement = el("div", { className: "viewer", id: "study-viewer" });
  private readonly position = el("div", { className: "overlay top-left", id: "slice-position" });
  private readonly windowInfo = el("div", { className: "overlay top-right", id: "window-info" });
  private readonly loadProgress = el("span", { id: "load-progress" });
  private readonly message = el("p", { className: "message", id: "study-message" });
  private readonly anyButtons = new Map<boolean, HTMLButtonElement>();
  private readonly subtypeButtons = new Map<Subtype, HTMLButtonElement>();
  private readonly confidence = el("input", { type: "range", id: "study-confidence", min: "0", max: "100", step: "1" });
  private readonly confidenceNumber = el("input", { type: "number", id: "study-confidence-number", min: "0", max: "100", step: "1" });
  private readonly submitButton = el("button", { type: "button", id: "study-submit", textContent: "Submit and next (Enter)" });
  private readonly meter: ActiveTimeMeter;
  private viewer: StackViewer | null = null;
  private overlay: StackOverlay | null = null;
  private overlayToggle: HTMLButtonElement | null = null;
  private readonly sliceCount: number;
  private current: number;
  private submitting = false;

  constructor(
    private readonly section: HTMLElement,
    private readonly urls: StudyReadUrls,
    private readonly read: StudyRead,
  ) {
    this.sliceCount = read.slices.length;
    this.current = Math.floor((this.sliceCount - 1) / 2);
    this.help = createStudyHelp(this.presets, Boolean(read.model?.overlay));
    this.meter = new ActiveTimeMeter(() => performance.now(), document.visibilityState === "visible");
    attach(this.meter);
    this.build();
    this.refresh();
  }

  private sliceUrl(index: number): string {
    return this.read.slices[index]!.url;
  }

  async start(): Promise<void> {
    const first = new FirstImage(this.viewerElement);
    if (await first.show(this.sliceUrl(this.current))) this.section.dataset.firstImage = "drawn";
    const [{ StackViewer, prefetchSeries }, { StackOverlay }] = await Promise.all([
      import("../viewer/stack"),
      import("../viewer/map-overlay"),
    ]);
    const imageIds = this.read.slices.map((slice) => `wadouri:${new URL(slice.url, window.location.href).href}`);
    const prefetched = prefetchSeries(imageIds, this.current, (done, total) => {
      this.loadProgress.textContent = done < total ? `Loading ${done}/${total}` : `${total} slices loaded`;
    });
    prefetched.catch(() => undefined); // awaited below
    if (this.read.model?.overlay) {
      this.overlay = new StackOverlay(this.viewerElement);
      this.viewerElement.after(this.overlay.canvas);
    }
    this.viewer = await first.handOver(this.section, () => StackViewer.create(this.viewerElement, imageIds, this.current));
    this.viewer.onNewImage((index) => {
      this.current = index;
      this.updatePosition();
    });
    this.viewer.onViewChange(() => this.updateWindowInfo());
    this.updateWindowInfo();
    this.viewerElement.addEventListener("wheel", (event) => this.onWheel(event), { passive: false });
    document.addEventListener("keydown", (event) => this.onKey(event));
    this.section.dataset.loaded = "true";
    if (this.overlay && this.read.model?.overlay) void this.loadOverlay(this.overlay, this.read.model.overlay);
    await prefetched;
    this.section.dataset.prefetched = "true";
  }

  // --- building ---------------------------------------------------------------------------

  private build(): void {
    const { session } = this.read;
    const header = el("div", { className: "toolbar study-toolbar" });
    const caseInfo = el("strong", { id: "study-case", textContent: `Case ${session.answered + 1} of ${session.total}` });
    const modality = el("span", {
      id: "study-modality",
      className: `badge modality ${session.modality}`,
      textContent: `Session ${session.sequence}: ${modalityName(session.modality)}`,
    });
    const helpButton = el("button", { type: "button", className: "secondary", textContent: "Keys (H)" });
    helpButton.addEventListener("click", () => this.toggleHelp());
    header.append(caseInfo, modality, this.loadProgress, helpButton);

    const wrap = el("div", { className: "viewer-wrap" });
    wrap.append(this.viewerElement, this.position, this.windowInfo);
    const side = el("div", { className: "side" });
    side.append(this.questions());
    if (this.read.model) side.append(this.modelPanel(this.read.model));
    const layout = el("div", { className: "reader-layout" });
    layout.append(wrap, side);
    this.section.querySelector("noscript")?.remove();
    this.section.append(header, this.message, layout, this.help);
    Object.assign(this.section.dataset, {
      read: String(this.read.id),
      modality: session.modality,
      sequence: String(session.sequence),
      position: String(session.answered),
    });
  }

  private questions(): HTMLElement {
    const form = el("form", { className: "study-questions", id: "study-questions" });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    const any = el("fieldset", { id: "study-any" });
    any.append(el("legend", { textContent: "Any intracranial hemorrhage?" }));
    for (const [value, text] of [[true, "Yes (Y)"], [false, "No (N)"]] as const) {
      const button = el("button", { type: "button", textContent: text });
      button.dataset.any = String(value);
      button.setAttribute("aria-keyshortcuts", value ? "Y" : "N");
      button.addEventListener("click", () => {
        this.draft.setAny(value);
        button.blur();
        this.refresh();
      });
      this.anyButtons.set(value, button);
      any.append(button);
    }
    const subtypes = el("fieldset", { id: "study-subtypes" });
    subtypes.append(el("legend", { textContent: "Subtypes" }));
    SUBTYPES.forEach((subtype, index) => {
      const button = el("button", { type: "button", textContent: `${index + 1} ${CLASS_NAMES[subtype]}`, className: `mark-${subtype}` });
      button.dataset.subtype = subtype;
      button.setAttribute("aria-keyshortcuts", String(index + 1));
      button.addEventListener("click", () => {
        this.draft.toggleSubtype(subtype);
        button.blur();
        this.refresh();
      });
      this.subtypeButtons.set(subtype, button);
      subtypes.append(button);
    });
    const confidence = el("fieldset", { id: "study-confidence-box" });
    confidence.append(el("legend", { textContent: "How confident are you that this scan holds hemorrhage? (0-100)" }));
    this.confidence.value = "50";
    this.confidence.addEventListener("input", () => this.setConfidence(Number(this.confidence.value)));
    this.confidence.addEventListener("pointerup", () => this.confidence.blur()); // keys back to the page
    this.confidenceNumber.placeholder = "—";
    this.confidenceNumber.addEventListener("input", () => {
      if (this.confidenceNumber.value !== "") this.setConfidence(Number(this.confidenceNumber.value));
    });
    this.confidenceNumber.setAttribute("aria-label", "Confidence (0-100)");
    this.confidence.setAttribute("aria-label", "Confidence slider");
    confidence.append(this.confidence, this.confidenceNumber);
    this.submitButton.setAttribute("aria-keyshortcuts", "Enter");
    this.submitButton.addEventListener("click", () => void this.submit());
    form.append(any, subtypes, confidence, this.submitButton);
    return form;
  }

  /** The model's per-class scores, marked where they reach the model's frozen thresholds, and
   * (with saliency) the overlay's switch and opacity. */
  private modelPanel(model: ReadModel): HTMLElement {
    const panel = el("fieldset", { className: "study-model", id: "study-model" });
    panel.append(el("legend", { textContent: "Model output" }));
    const table = el("table", { id: "study-model-scores" });
    table.createTHead().insertRow().append(
      el("th", { textContent: "Class" }),
      el("th", { className: "num", textContent: "Score" }),
      el("th", { className: "num", textContent: "Threshold" }),
      el("th", { textContent: "" }),
    );
    const body = table.createTBody();
    for (const cls of HEMORRHAGE_CLASSES) {
      const score = scoreOf(model.scores, cls);
      if (score === null) continue;
      const threshold = scoreOf(model.thresholds, cls);
      const positive = threshold !== null && score >= threshold;
      const row = body.insertRow();
      row.dataset.class = cls;
      row.dataset.positive = String(positive);
      row.insertCell().textContent = CLASS_NAMES[cls];
      Object.assign(row.insertCell(), { className: "num", textContent: `${(score * 100).toFixed(1)}%` });
      Object.assign(row.insertCell(), { className: "num", textContent: threshold === null ? "—" : `${(threshold * 100).toFixed(1)}%` });
      row.insertCell().append(positive ? el("span", { className: "badge positive", textContent: "above threshold" }) : "");
    }
    panel.append(table);
    if (model.overlay) {
      const toggle = el("button", { type: "button", id: "study-overlay-toggle", textContent: "Overlay (T)" });
      toggle.addEventListener("click", () => {
        toggle.blur();
        this.toggleOverlay();
      });
      this.overlayToggle = toggle;
      const opacity = el("input", { type: "range", id: "study-overlay-opacity", min: "0", max: "100", value: "60" });
      opacity.setAttribute("aria-label", "Overlay opacity");
      opacity.addEventListener("input", () => this.overlay?.setOpacity(Number(opacity.value) / 100));
      opacity.addEventListener("pointerup", () => opacity.blur());
      const label = el("label", { textContent: "Opacity " });
      label.append(opacity);
      const state = el("p", { className: "muted", id: "study-overlay-state", textContent: "Loading the saliency maps…" });
      panel.append(toggle, label, state);
    }
    return panel;
  }

  private async loadOverlay(overlay: StackOverlay, template: string): Promise<void> {
    overlay.setOpacity(0.6);
    overlay.setVisible(true);
    this.overlayToggle?.setAttribute("aria-pressed", "true");
    const state = this.section.querySelector<HTMLElement>("#study-overlay-state");
    const partial: (ImageBitmap | undefined)[] = [];
    overlay.setImages(partial);
    // The template names the slice by its position index; loadOverlays fills {index}.
    const urlTemplate = template.replace("{position_index}", "{index}");
    const positions = this.read.slices.map((slice) => slice.position_index);
    const byPosition = positions.every((position, index) => position === index);
    if (!byPosition) {
      if (state) showMessage(state, "The saliency maps do not match this scan's slices.", "error");
      return;
    }
    const { images, failed } = await loadOverlays(urlTemplate, "normgrad", nearestFirst(this.sliceCount, this.current), (index, image) => {
      partial[index] = image;
      overlay.imageArrived(index);
    });
    overlay.setImages(images);
    if (state) {
      if (failed) showMessage(state, `${failed} slices' maps could not be loaded.`, "error");
      else showMessage(state, "Saliency map of any hemorrhage");
    }
    this.section.dataset.overlayLoaded = "true";
  }

  // --- answering --------------------------------------------------------------------------

  private setConfidence(value: number): void {
    this.draft.setConfidence(value);
    this.refresh();
  }

  private refresh(): void {
    for (const [value, button] of this.anyButtons) button.setAttribute("aria-pressed", String(this.draft.any === value));
    for (const [subtype, button] of this.subtypeButtons) {
      button.setAttribute("aria-pressed", String(this.draft.subtypes.has(subtype)));
      button.disabled = this.draft.any === false;
    }
    const confidence = this.draft.confidence;
    if (confidence !== null) {
      this.confidence.value = String(confidence);
      if (document.activeElement !== this.confidenceNumber) this.confidenceNumber.value = String(confidence);
    }
    this.section.dataset.any = this.draft.any === null ? "" : String(this.draft.any);
    this.section.dataset.confidence = confidence === null ? "" : String(confidence);
    this.section.dataset.subtypes = [...this.draft.subtypes].join(" ");
    this.section.querySelector("#study-confidence-box")?.classList.toggle("unset", confidence === null);
  }

  private async submit(): Promise<void> {
    if (this.submitting) return;
    const missing = this.draft.missing();
    if (missing.length) {
      showMessage(this.message, `Before submitting, ${missing.join(" and ")}.`, "error");
      return;
    }
    this.submitting = true;
    this.submitButton.disabled = true;
    try {
      showMessage(this.message, "Sending your answer…");
      const answered = await answerPost(readUrl(this.urls.answer, this.read.id), this.draft.body(this.meter.seconds()));
      this.section.dataset.submitted = "true";
      // The next case (or what the reader waits for) opens in a fresh page.
      if (answered.next.state === "read") window.location.reload();
      else showState(this.section, answered.next, this.urls);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        showMessage(this.message, "This case was answered already (in another tab?); opening the next one…", "error");
        window.setTimeout(() => window.location.reload(), 1500);
        return;
      }
      showMessage(this.message, `Your answer was not sent: ${(error as Error).message}`, "error");
      this.submitButton.disabled = false;
    } finally {
      this.submitting = false;
    }
  }

  // --- keys and view ----------------------------------------------------------------------

  private onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    if (target?.isContentEditable || (target && ["TEXTAREA", "SELECT"].includes(target.tagName))) return;
    if (target instanceof HTMLInputElement && (target.type !== "range" || INPUT_KEYS.has(event.key))) {
      if (event.key !== "Enter") return; // Enter in the number box submits
    }
    if (target instanceof HTMLButtonElement && event.key === "Enter") target.blur(); // not a second click
    const action = studyKeyAction(event, this.presets);
    if (!action) return;
    event.preventDefault();
    this.run(action);
  }

  private run(action: StudyAction): void {
    switch (action.kind) {
      case "any":
        this.draft.setAny(action.value);
        return this.refresh();
      case "subtype":
        this.draft.toggleSubtype(action.subtype);
        return this.refresh();
      case "confidence":
        return this.setConfidence(movedConfidence(this.draft.confidence, action.delta));
      case "submit":
        void this.submit();
        return;
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

  private async goTo(index: number): Promise<void> {
    const target = Math.min(Math.max(index, 0), this.sliceCount - 1);
    this.current = target;
    this.updatePosition();
    await this.viewer?.show(target);
  }

  private onWheel(event: WheelEvent): void {
    event.preventDefault();
    if (!event.deltaY) return;
    if (event.ctrlKey) this.viewer?.zoomBy(event.deltaY < 0 ? 1.1 : 1 / 1.1);
    else void this.goTo(this.current + (event.deltaY < 0 ? 1 : -1));
  }

  private toggleOverlay(): void {
    if (!this.overlay) return;
    const on = !this.overlay.isVisible;
    this.overlay.setVisible(on);
    this.overlayToggle?.setAttribute("aria-pressed", String(on));
    this.section.dataset.overlay = on ? "on" : "off";
  }

  private toggleHelp(): void {
    this.help.hidden = !this.help.hidden;
  }

  private updatePosition(): void {
    this.position.textContent = `${this.current + 1} / ${this.sliceCount}`;
    this.section.dataset.current = String(this.current);
  }

  private updateWindowInfo(): void {
    this.updatePosition();
    const view = this.viewer?.view();
    if (!view) return;
    const [center, width] = [Math.round(view.center), Math.round(view.width)];
    const preset = this.presets.find((p) => p.center === center && p.width === width);
    const zoom = Math.abs(view.zoom - 1) < 0.01 ? "" : ` · ${view.zoom.toFixed(1)}×`;
    this.windowInfo.textContent = `${preset?.name ?? "Window"} ${center}/${width}${zoom}`;
  }
}

/** What the page shows when there is no case to read now: the washout, model output being
 * prepared (checked again every few seconds), or the end. */
export function showState(section: HTMLElement, next: Exclude<NextState, { state: "read" }>, urls: StudyReadUrls): void {
  section.querySelector("noscript")?.remove();
  for (const child of Array.from(section.children)) if (child.tagName !== "H1") child.remove();
  const box = el("div", { className: "card study-state", id: "study-state" });
  const back = el("a", { href: urls.list, className: "button", id: "study-back", textContent: "Back to the reader studies" });
  section.dataset.state = next.state;
  switch (next.state) {
    case "done":
      box.append(el("p", { textContent: "You have read every case of every session of this study. Thank you." }), back);
      break;
    case "waiting":
      box.append(
        el("p", {
          textContent: `Your next session${next.modality_sequence ? ` (session ${next.modality_sequence})` : ""} opens on ${dateText(next.opens_at)}, after the washout period.`,
        }),
        back,
      );
      break;
    case "preparing":
      box.append(
        el("p", { textContent: "The model output of your next session is being prepared; this page opens it when it is ready." }),
        back,
      );
      window.setTimeout(() => window.location.reload(), PREPARING_POLL_MS);
      break;
  }
  section.append(box);
}

/** Find the reader's current case and open it, or say why there is none. */
export async function startStudyReader(section: HTMLElement): Promise<void> {
  const urls = studyReadUrls(section);
  const next = await nextGet(urls.next);
  if (next.state !== "read") {
    showState(section, next, urls);
    return;
  }
  const read = await readGet(readUrl(urls.read, next.read));
  if (!read.slices.length) throw new Error("this case's scan has no slices");
  await new StudyReader(section, urls, read).start();
}

/**
 * The viewer's "Model output" panel: which model, which class and which method's saliency map to
 * lay over the scan, the overlay on or off (T) and its opacity, the maps' state while they are
 * computed, and the model's scan-level scores once they are.
 *
 * Maps are asked for when the overlay is first turned on for a model and class (computed once
 * per model, scan and class on the server), followed until done, then every slice's overlay is
 * loaded decoded, nearest the slice on screen first, and handed to the StackOverlay.
 */
import { CLASS_NAMES, HEMORRHAGE_CLASSES } from "../generated/vocabulary";
import type { StackOverlay } from "../viewer/map-overlay";
import {
  METHOD_NAMES,
  isFinished,
  loadOverlays,
  mapsGet,
  mapsRequest,
  mapsStateText,
  nearestFirst,
  scoresText,
  type HemorrhageClass,
  type Method,
  type ScanMaps,
  type ScanModelOutput,
} from "./maps";

const POLL_MS = 2000;

/** What the page may choose up front (the scan page's ?model=&class=&method=). */
export interface PanelChoice {
  model?: number;
  cls?: HemorrhageClass;
  method?: Method;
  on?: boolean;
}

export interface PanelContext {
  sliceCount: number;
  /** The slice on screen (overlays load from there outwards). */
  current: () => number;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

export class SaliencyPanel {
  readonly element = el("fieldset", { className: "model-output", id: "model-output" });
  private readonly model = el("select", { id: "model-output-model" });
  private readonly cls = el("select", { id: "model-output-class" });
  private readonly method = el("select", { id: "model-output-method" });
  private readonly toggleButton = el("button", { type: "button", id: "model-output-toggle", textContent: "Overlay (T)" });
  private readonly opacity = el("input", { type: "range", id: "model-output-opacity", min: "0", max: "100", value: "100" });
  private readonly state = el("p", { className: "model-output-state", id: "model-output-state" });
  private readonly scores = el("p", { className: "model-output-scores", id: "model-output-scores" });
  /** Known maps by "model|class". */
  private readonly runs = new Map<string, ScanMaps>();
  private readonly overlays = new Map<string, Promise<{ images: (ImageBitmap | undefined)[]; failed: number }>>();
  private on = false;
  /** Bumped on every change of choice, so a late answer for an old choice is dropped. */
  private generation = 0;
  private poll: number | null = null;

  constructor(
    private readonly output: ScanModelOutput,
    private readonly overlay: StackOverlay,
    private readonly context: PanelContext,
    choice: PanelChoice = {},
  ) {
    for (const run of output.runs) this.runs.set(key(run.model_version, run.hemorrhage_class), run);
    this.build(choice);
    this.overlay.setOpacity(1);
    if (choice.on) this.setOn(true);
    else this.showScores();
  }

  /** Whether the page has any model to offer. */
  static offers(output: ScanModelOutput): boolean {
    return output.models.length > 0;
  }

  toggle(): void {
    this.setOn(!this.on);
  }

  private build(choice: PanelChoice): void {
    for (const model of this.output.models) {
      this.model.append(el("option", { value: String(model.id), textContent: `${model.name} (${model.status})` }));
    }
    for (const cls of HEMORRHAGE_CLASSES) this.cls.append(el("option", { value: cls, textContent: CLASS_NAMES[cls] }));
    for (const method of this.output.methods) this.method.append(el("option", { value: method, textContent: METHOD_NAMES[method] }));
    if (choice.model && this.output.models.some((m) => m.id === choice.model)) this.model.value = String(choice.model);
    if (choice.cls) this.cls.value = choice.cls;
    if (choice.method && this.output.methods.includes(choice.method)) this.method.value = choice.method;
    for (const select of [this.model, this.cls, this.method]) {
      select.addEventListener("change", () => {
        select.blur(); // keys go back to the viewer
        void this.refresh();
      });
    }
    this.toggleButton.addEventListener("click", () => {
      this.toggleButton.blur();
      this.toggle();
    });
    this.opacity.addEventListener("input", () => this.overlay.setOpacity(Number(this.opacity.value) / 100));
    this.opacity.addEventListener("change", () => this.opacity.blur()); // keys back to the viewer
    const row = (text: string, control: HTMLElement): HTMLLabelElement => {
      const label = el("label", { textContent: text });
      label.append(control);
      return label;
    };
    this.element.append(
      el("legend", { textContent: "Model output" }),
      row("Model ", this.model),
      row("Class ", this.cls),
      row("Map ", this.method),
      this.toggleButton,
      row("Opacity ", this.opacity),
      this.state,
      this.scores,
    );
    this.toggleButton.setAttribute("aria-pressed", "false");
  }

  private setOn(on: boolean): void {
    this.on = on;
    this.toggleButton.setAttribute("aria-pressed", String(on));
    this.element.dataset.on = String(on);
    this.overlay.setVisible(on);
    if (on) void this.refresh();
    else this.say("");
  }

  private get choice(): { model: number; cls: HemorrhageClass; method: Method } {
    return { model: Number(this.model.value), cls: this.cls.value as HemorrhageClass, method: this.method.value as Method };
  }

  /** Bring the overlay to the current choice: ask for, follow and load its maps. */
  private async refresh(): Promise<void> {
    const generation = ++this.generation;
    this.stopPolling();
    this.showScores();
    delete this.element.dataset.loaded; // set again once this choice's maps are on
    if (!this.on) return;
    this.overlay.setImages([]);
    const { model, cls, method } = this.choice;
    try {
      let maps = this.runs.get(key(model, cls));
      if (!maps || maps.status === "failed" || maps.status === "canceled") {
        maps = await mapsRequest(this.output.request_url, model, cls);
      }
      if (generation !== this.generation) return;
      this.known(maps);
      if (!isFinished(maps)) return this.follow(maps, generation);
      if (maps.status === "failed" || maps.status === "canceled") return this.say(mapsStateText(maps), "error");
      await this.show(maps, method, generation);
    } catch (error) {
      if (generation === this.generation) this.say(`The maps could not be loaded: ${(error as Error).message}`, "error");
    }
  }

  /** Poll a run until it is done, then show it (if the choice is still the same). */
  private follow(maps: ScanMaps, generation: number): void {
    this.say(mapsStateText(maps));
    this.poll = window.setTimeout(() => {
      this.poll = null;
      mapsGet(maps.url)
        .then((now) => {
          if (generation !== this.generation) return;
          this.known(now);
          if (!isFinished(now)) return this.follow(now, generation);
          return this.refresh();
        })
        .catch((error: unknown) => {
          if (generation === this.generation) {
            this.say(`Lost track of the maps (retrying): ${(error as Error).message}`, "error");
            this.follow(maps, generation);
          }
        });
    }, POLL_MS);
  }

  private async show(maps: ScanMaps, method: Method, generation: number): Promise<void> {
    const cacheKey = `${maps.id}|${method}`;
    let images = this.overlays.get(cacheKey);
    if (!images) {
      this.say(`Loading the ${METHOD_NAMES[method]} maps of ${CLASS_NAMES[maps.hemorrhage_class]}…`);
      const partial: (ImageBitmap | undefined)[] = [];
      this.overlay.setImages(partial);
      const order = nearestFirst(this.context.sliceCount, this.context.current());
      images = loadOverlays(maps.overlay_url, method, order, (index, image) => {
        partial[index] = image;
        if (generation === this.generation) this.overlay.imageArrived(index);
      });
      this.overlays.set(cacheKey, images);
    }
    const { images: all, failed } = await images;
    if (failed) this.overlays.delete(cacheKey); // asked for again next time
    if (generation !== this.generation) return;
    this.overlay.setImages(all);
    const name = `${METHOD_NAMES[method]} map of ${CLASS_NAMES[maps.hemorrhage_class]}`;
    if (failed) this.say(`${name}: ${failed} slices' maps could not be loaded.`, "error");
    else this.say(name);
    this.element.dataset.loaded = cacheKey;
  }

  private known(maps: ScanMaps): void {
    this.runs.set(key(maps.model_version, maps.hemorrhage_class), maps);
    this.showScores();
  }

  /** The chosen model's scan scores, from any of its finished maps. */
  private showScores(): void {
    const model = Number(this.model.value);
    const finished = [...this.runs.values()].find((run) => run.model_version === model && Object.keys(run.scores).length);
    this.scores.textContent = finished ? `Scan scores: ${scoresText(finished.scores)}` : "";
  }

  private say(text: string, kind: "info" | "error" = "info"): void {
    this.state.textContent = text;
    this.state.classList.toggle("error", kind === "error");
  }

  private stopPolling(): void {
    if (this.poll !== null) window.clearTimeout(this.poll);
    this.poll = null;
  }
}

function key(model: number, cls: string): string {
  return `${model}|${cls}`;
}

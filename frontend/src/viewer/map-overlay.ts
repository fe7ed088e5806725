/**
 * A per-slice overlay (a saliency map) over a scrolling stack: a <canvas> above the Cornerstone
 * viewport that holds one decoded image per slice and, when a slice has been rendered, draws that
 * slice's image in the same event, laid on the image by a CSS matrix (zoom, pan, flips).
 *
 * Scrolling costs no frames: each slice's overlay is decoded (an ImageBitmap) before it is
 * needed, so drawing one is a synchronous copy of a few hundred pixels squared, and the canvas
 * is only re-aligned when the camera or the image's geometry changes.
 */
import { Enums, type Types } from "@cornerstonejs/core";
import { layOverImage, stackViewportOf } from "./placement";

export class StackOverlay {
  readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private images: readonly (ImageBitmap | undefined)[] = [];
  /** The slice index drawn on the viewport, once its render is done. */
  private drawnIndex: number | null = null;
  private arrivingIndex: number | null = null;
  /** The slice whose overlay is on the canvas now. */
  private paintedIndex: number | null = null;
  private visible = false;
  /** The geometry the canvas is aligned to ("" before any). */
  private alignedTo = "";

  constructor(private readonly viewerElement: HTMLElement) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "map-overlay";
    this.canvas.id = "map-overlay";
    this.canvas.hidden = true;
    this.canvas.setAttribute("aria-hidden", "true");
    const context = this.canvas.getContext("2d");
    if (!context) throw new Error("ICHLabel: no 2D canvas for the overlay");
    this.context = context;
    viewerElement.addEventListener(Enums.Events.STACK_NEW_IMAGE, ((event: CustomEvent<{ imageIdIndex: number }>) => {
      this.arrivingIndex = event.detail.imageIdIndex;
    }) as EventListener);
    viewerElement.addEventListener(Enums.Events.IMAGE_RENDERED, () => {
      if (this.arrivingIndex !== null) this.drawnIndex = this.arrivingIndex;
      this.arrivingIndex = null;
      this.paint();
    });
    const realign = (): void => {
      this.alignedTo = "";
      this.paint();
    };
    viewerElement.addEventListener(Enums.Events.CAMERA_MODIFIED, realign);
    window.addEventListener("resize", realign);
  }

  get isVisible(): boolean {
    return this.visible;
  }

  /** The slice whose overlay is shown now (null: none). */
  get shownIndex(): number | null {
    return this.canvas.hidden ? null : this.paintedIndex;
  }

  /** One image per slice index (undefined where a slice has none yet); replaces the last set. */
  setImages(images: readonly (ImageBitmap | undefined)[]): void {
    this.images = images;
    this.paintedIndex = null;
    this.paint();
  }

  /** A slice's image arrived after the set was handed over. */
  imageArrived(index: number): void {
    if (index === this.drawnIndex) this.paint();
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.paint();
  }

  /** 0 (clear) to 1; the PNGs carry the map's own alpha below that. */
  setOpacity(opacity: number): void {
    this.canvas.style.opacity = String(Math.min(1, Math.max(0, opacity)));
  }

  /** Draw the rendered slice's overlay, or hide the canvas when there is none to draw. */
  paint(): void {
    const index = this.drawnIndex;
    const image = index === null ? undefined : this.images[index];
    const viewport = stackViewportOf(this.viewerElement);
    if (!this.visible || !image || !viewport || viewport.getCurrentImageIdIndex() !== index) {
      this.hide();
      return;
    }
    if (this.paintedIndex !== index) {
      if (this.canvas.width !== image.width || this.canvas.height !== image.height) {
        this.canvas.width = image.width;
        this.canvas.height = image.height;
      } else {
        this.context.clearRect(0, 0, image.width, image.height);
      }
      this.context.drawImage(image, 0, 0);
      this.paintedIndex = index;
    }
    if (!this.align(viewport)) return this.hide();
    this.canvas.hidden = false;
    this.canvas.dataset.shown = String(index);
  }

  private hide(): void {
    this.canvas.hidden = true;
    this.canvas.dataset.shown = "";
  }

  /** Lay the canvas on the image as drawn now; false when the viewport has no image. */
  private align(viewport: Types.IStackViewport): boolean {
    const data = viewport.getImageData();
    if (!data) return false;
    const key = `${data.dimensions.join("x")}|${data.origin.join(",")}|${data.spacing.join(",")}`;
    if (key === this.alignedTo) return true;
    layOverImage(this.canvas, viewport, data);
    this.alignedTo = key;
    return true;
  }
}

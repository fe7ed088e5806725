/**
 * The map over the slice: an <img> above the Cornerstone viewport, stretched to the image's
 * rows x columns and moved with it through zoom and pan. After each render the image's corners
 * go from pixel indices to world coordinates (the viewport's image data) and through the
 * viewport's worldToCanvas onto the canvas; a CSS matrix lays the overlay on them.
 *
 * Overlays are fetched as blobs (the page names them by case token only) and kept for the visit;
 * a case's overlay is shown only once its own slice is on screen.
 */
import { Enums } from "@cornerstonejs/core";
import { getBlob } from "../api/client";
import { layOverImage, stackViewportOf } from "../viewer/placement";

export class OverlayLayer {
  readonly image: HTMLImageElement;
  private readonly blobs = new Map<string, Promise<string>>();
  /** The overlay the page wants and the slice it belongs to. */
  private wanted: { url: string; imageId: string } | null = null;
  /** The overlay decoded in the <img>. */
  private loaded: string | null = null;
  /** The slice drawn on the canvas (set when a new slice's render is done). */
  private drawnImageId: string | null = null;
  private arrivingImageId: string | null = null;
  private visible = true;

  constructor(
    private readonly viewerElement: HTMLElement,
    private readonly onProblem: (message: string | null) => void,
  ) {
    this.image = document.createElement("img");
    this.image.className = "likert-overlay";
    this.image.id = "likert-overlay";
    this.image.alt = "";
    this.image.draggable = false;
    this.image.hidden = true;
    this.image.setAttribute("aria-hidden", "true");
    viewerElement.addEventListener(Enums.Events.STACK_NEW_IMAGE, ((event: CustomEvent<{ imageId: string }>) => {
      this.arrivingImageId = event.detail.imageId;
    }) as EventListener);
    viewerElement.addEventListener(Enums.Events.IMAGE_RENDERED, () => {
      if (this.arrivingImageId) this.drawnImageId = this.arrivingImageId;
      this.arrivingImageId = null;
      this.align();
    });
    viewerElement.addEventListener(Enums.Events.CAMERA_MODIFIED, () => this.align());
  }

  /** Whether the overlay is on (T); it shows once its slice is drawn. */
  get isVisible(): boolean {
    return this.visible;
  }

  /** Whether the slice `imageId` is drawn and `url`'s overlay loaded over it (shown unless
   * switched off): what a reader must have had before them to score the case. */
  isReady(url: string, imageId: string): boolean {
    return this.wanted?.url === url && this.loaded === url && this.drawnImageId === imageId;
  }

  /** Show `url`'s overlay over the slice `imageId` once both are ready. */
  async show(url: string, imageId: string): Promise<void> {
    this.wanted = { url, imageId };
    this.align();
    try {
      const src = await this.blob(url);
      if (this.wanted?.url !== url || this.loaded === url) return this.align();
      this.loaded = null;
      this.image.src = src;
      await this.image.decode();
      if (this.image.src === src) this.loaded = url;
      this.onProblem(null);
    } catch (error) {
      if (this.wanted?.url === url) this.onProblem(`The overlay could not be loaded: ${messageOf(error)}`);
    }
    this.align();
  }

  /** Fetch an overlay ahead of its case. */
  preload(url: string): void {
    this.blob(url).catch(() => undefined);
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.align();
  }

  /** 0 (clear) to 1. */
  setOpacity(opacity: number): void {
    this.image.style.opacity = String(Math.min(1, Math.max(0, opacity)));
  }

  /** Lay the overlay on the image as it is drawn now, or hide it until it can be. */
  align(): void {
    const viewport = stackViewportOf(this.viewerElement);
    const ready =
      this.visible &&
      this.wanted !== null &&
      this.loaded === this.wanted.url &&
      this.drawnImageId === this.wanted.imageId &&
      viewport?.getCurrentImageId() === this.wanted.imageId;
    const data = ready ? viewport?.getImageData() : undefined;
    if (!viewport || !data) {
      this.image.hidden = true;
      this.image.dataset.shown = "false";
      return;
    }
    layOverImage(this.image, viewport, data);
    this.image.hidden = false;
    this.image.dataset.shown = "true";
  }


  private blob(url: string): Promise<string> {
    let blob = this.blobs.get(url);
    if (!blob) {
      blob = getBlob(url).then((data) => URL.createObjectURL(data));
      blob.catch(() => this.blobs.delete(url)); // tried again next time
      this.blobs.set(url, blob);
    }
    return blob;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Where an overlay element goes over a Cornerstone stack viewport: the element is sized to the
 * image's columns x rows and laid by a CSS matrix onto the image's corners as they land on the
 * canvas (``geometry``), through zoom, pan, rotation and flips. Shared by the reading view's
 * map canvas and the Likert page's overlay image.
 */
import { getEnabledElement, getShouldUseCPURendering, type Types } from "@cornerstonejs/core";
import { cornerMatrix, cssMatrix, imageCornersInWorld, type Point2 } from "./geometry";

type ImageData = NonNullable<ReturnType<Types.IStackViewport["getImageData"]>>;

/** The stack viewport enabled on `element`, or null before one is. */
export function stackViewportOf(element: HTMLElement): Types.IStackViewport | null {
  const enabled = getEnabledElement(element as HTMLDivElement);
  return (enabled?.viewport as Types.IStackViewport | undefined) ?? null;
}

/** Size and place `overlay` over the image `data` as `viewport` draws it now. */
export function layOverImage(overlay: HTMLElement, viewport: Types.IStackViewport, data: ImageData): void {
  const world = imageCornersInWorld(data, getShouldUseCPURendering());
  const canvas = (point: readonly number[]): Point2 => {
    const [x, y] = viewport.worldToCanvas([point[0]!, point[1]!, point[2]!] as Types.Point3);
    return [x, y];
  };
  const [columns = 1, rows = 1] = data.dimensions;
  const corners = { topLeft: canvas(world.topLeft), topRight: canvas(world.topRight), bottomLeft: canvas(world.bottomLeft) };
  overlay.style.width = `${columns}px`;
  overlay.style.height = `${rows}px`;
  overlay.style.transform = cssMatrix(cornerMatrix(corners, columns, rows));
}

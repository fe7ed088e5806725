/**
 * A read-only viewer of one scan inside an adjudication item, with the slices in question
 * beside it: the wheel moves through the slices, a slice's button shows it, the mouse sets
 * window and zoom. The viewer's code loads only when an item opens (the queue does not need
 * it). One viewer per page: opening another item tears down the previous one first (its
 * rendering engine and tool group), one opening at a time.
 */
import { el } from "../coordination/html";
import type { StackViewer as Viewer } from "../viewer/stack";
import type { SliceInQuestion } from "../api/coordination";
import { firstSlice, markShown, sliceVotesTable } from "./votes";

export interface ScanImages {
  /** The slice file's URL with `{index}` in place of the slice's index. */
  sliceUrl: string;
  sliceCount: number;
  slices: readonly SliceInQuestion[];
}

let opening: Promise<unknown> = Promise.resolve();
let latest = 0;

/** Fill `container` with the viewer and the table; resolves once the first slice is drawn
 * (or when a later call took over). Failures are shown in the container. */
export function showScanImages(container: HTMLElement, images: ScanImages): Promise<void> {
  const ticket = ++latest;
  const open = opening.catch(() => undefined).then(() => (ticket === latest ? build(container, images, () => ticket === latest) : undefined));
  opening = open;
  return open.catch((error: unknown) => {
    container.dataset["failed"] = "true";
    container.append(el("p", { class: "error", role: "alert" }, `The images could not be shown: ${error instanceof Error ? error.message : String(error)}`));
  });
}

async function build(container: HTMLElement, images: ScanImages, current: () => boolean): Promise<void> {
  const [{ StackViewer, imageIdsFor }, core, tools] = await Promise.all([
    import("../viewer/stack"),
    import("@cornerstonejs/core"),
    import("@cornerstonejs/tools"),
  ]);
  if (!current()) return;
  // The previous item's viewer (its element may be gone already).
  for (const engine of core.getRenderingEngines() ?? []) engine.destroy();
  for (const group of tools.ToolGroupManager.getAllToolGroups()) tools.ToolGroupManager.destroyToolGroup(group.id);

  const viewerElement = el("div", { class: "viewer", "data-testid": "item-viewer" });
  const position = el("div", { class: "overlay top-left" });
  let shown = firstSlice(images.slices, images.sliceCount);
  let viewer: Viewer | null = null;
  const show = (index: number): void => void viewer?.show(index);
  const table = sliceVotesTable(images.slices, show);
  container.replaceChildren(
    el("div", { class: "viewer-wrap" }, viewerElement, position),
    el("p", { class: "muted" }, "Wheel: slices · left drag: window · right drag: zoom · middle drag: pan"),
    table,
  );
  const moved = (index: number): void => {
    shown = index;
    container.dataset["current"] = String(index);
    position.textContent = `${index + 1} / ${images.sliceCount}`;
    markShown(table, index);
  };
  const created = await StackViewer.create(viewerElement, imageIdsFor(images.sliceUrl, images.sliceCount), shown);
  viewer = created;
  created.onNewImage(moved);
  moved(created.currentIndex);
  viewerElement.addEventListener("wheel", (event) => {
    event.preventDefault();
    if (event.deltaY) show(shown + (event.deltaY < 0 ? 1 : -1));
  }, { passive: false });
  container.dataset["loaded"] = "true";
}

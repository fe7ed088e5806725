/**
 * The Cornerstone3D stack viewer of one scan: a StackViewport over `wadouri:` image ids, mouse
 * tools (left: window/level, right: zoom, middle: pan), wheel and keyboard navigation driven by
 * the page, window presets, reset and whole-series prefetch.
 */
import {
  Enums,
  RenderingEngine,
  getRenderingCapabilities,
  imageLoader,
  init as coreInit,
  setUseCPURendering,
  type Types,
} from "@cornerstonejs/core";
import { init as dicomLoaderInit } from "@cornerstonejs/dicom-image-loader";
import {
  PanTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
  Enums as ToolEnums,
  addTool,
  init as toolsInit,
} from "@cornerstonejs/tools";
import { log as dcmjsLog } from "dcmjs";
import { outwardOrder } from "./first-image";
import { voiRange, windowOf } from "./presets";

const ENGINE_ID = "ichlabel-reader";
const VIEWPORT_ID = "ct";
const TOOL_GROUP_ID = "ichlabel-reader-tools";
const PREFETCH_CONCURRENCY = 6;

let initialized: Promise<void> | null = null;

/** Initialise Cornerstone (core, DICOM loader with its web workers, tools) once per page. */
export function initCornerstone(): Promise<void> {
  initialized ??= (async () => {
    // Cornerstone's metadata parser (dcmjs) reports, as a console error, every implicit-VR file's
    // pixel data ("Invalid vr type ox - using OW"): the usual CT export, read correctly, no fault.
    dcmjsLog.getLogger("validation.dcmjs").setLevel("silent");
    // The loader's decode workers first: they start loading while the core probes the GPU.
    dicomLoaderInit({ maxWebWorkers: Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 4)) });
    coreInit();
    // Without a GPU (software WebGL: SwiftShader, llvmpipe: VDI desktops, headless browsers) a
    // 2D stack draws faster on Cornerstone's CPU path than through emulated WebGL.
    if (getRenderingCapabilities().softwareRasterizer) setUseCPURendering(true);
    toolsInit();
    addTool(WindowLevelTool);
    addTool(ZoomTool);
    addTool(PanTool);
  })();
  return initialized;
}

/**
 * Load (and cache) every slice, from `start` outwards, reporting `done` of `total`; resolves
 * when all are loaded. Needs no viewer: a page may start it while its viewer is being created
 * (the viewer then finds its slice loading already).
 */
export async function prefetchSeries(
  imageIds: readonly string[],
  start: number,
  onProgress: (done: number, total: number) => void,
): Promise<void> {
  await initCornerstone();
  const queue = outwardOrder(imageIds.length, clamp(start, 0, imageIds.length - 1)).map((index) => imageIds[index]!);
  const total = queue.length;
  let done = 0;
  onProgress(done, total);
  const workers = Array.from({ length: Math.min(PREFETCH_CONCURRENCY, total) }, async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      await imageLoader.loadAndCacheImage(id);
      onProgress(++done, total);
    }
  });
  await Promise.all(workers);
}

/** The `wadouri:` image id of every slice, index 0 first (absolute URLs, same origin). */
export function imageIdsFor(sliceUrlTemplate: string, sliceCount: number): string[] {
  return Array.from(
    { length: sliceCount },
    (_, index) => `wadouri:${new URL(sliceUrlTemplate.replace("{index}", String(index)), window.location.href).href}`,
  );
}

export interface ViewState {
  center: number;
  width: number;
  zoom: number;
}

export class StackViewer {
  private readonly engine: RenderingEngine;
  private readonly viewport: Types.IStackViewport;
  private index = 0;
  /** Cornerstone's zoom of the fitted image: zoom is reported relative to it (1 = fitted). */
  private fittedZoom = 1;

  private constructor(
    readonly element: HTMLDivElement,
    readonly imageIds: readonly string[],
  ) {
    this.engine = new RenderingEngine(ENGINE_ID);
    this.engine.enableElement({
      viewportId: VIEWPORT_ID,
      type: Enums.ViewportType.STACK,
      element,
      defaultOptions: { background: [0, 0, 0] as Types.Point3 },
    });
    this.viewport = this.engine.getViewport(VIEWPORT_ID) as Types.IStackViewport;
    const group = ToolGroupManager.createToolGroup(TOOL_GROUP_ID);
    if (!group) throw new Error("ICHLabel: could not create the viewer's tool group");
    group.addTool(WindowLevelTool.toolName);
    group.addTool(ZoomTool.toolName);
    group.addTool(PanTool.toolName);
    group.addViewport(VIEWPORT_ID, ENGINE_ID);
    const { MouseBindings } = ToolEnums;
    group.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
    group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    element.addEventListener("contextmenu", (event) => event.preventDefault());
  }

  /** Create the viewer and show slice `start`; resolves once it is rendered. */
  static async create(element: HTMLDivElement, imageIds: readonly string[], start: number): Promise<StackViewer> {
    await initCornerstone();
    const viewer = new StackViewer(element, imageIds);
    viewer.index = clamp(start, 0, imageIds.length - 1);
    await viewer.viewport.setStack([...imageIds], viewer.index);
    viewer.viewport.render();
    viewer.fittedZoom = viewer.viewport.getZoom() || 1;
    return viewer;
  }

  get currentIndex(): number {
    return this.index;
  }

  get count(): number {
    return this.imageIds.length;
  }

  /** Show slice `index` (clamped); resolves once it is on screen. */
  async show(index: number): Promise<number> {
    const target = clamp(index, 0, this.imageIds.length - 1);
    this.index = target;
    await this.viewport.setImageIdIndex(target);
    return target;
  }

  /** Zoom by a factor around the centre (ctrl+wheel). */
  zoomBy(factor: number): void {
    this.viewport.setZoom(this.viewport.getZoom() * factor);
    this.viewport.render();
  }

  setWindow(center: number, width: number): void {
    this.viewport.setProperties({ voiRange: voiRange({ center, width }) });
    this.viewport.render();
  }

  /** Back to the initial camera and window. */
  reset(): void {
    this.viewport.resetCamera();
    this.viewport.resetProperties();
    this.viewport.render();
  }

  /** Load (and cache) every slice, from the one shown outwards, reporting `done` of `total`;
   * resolves when all are loaded. */
  prefetch(onProgress: (done: number, total: number) => void): Promise<void> {
    return prefetchSeries(this.imageIds, this.index, onProgress);
  }

  /** The window (centre/width in HU) and zoom (1: fitted) on screen; null before an image. */
  view(): ViewState | null {
    const range = this.viewport.getProperties().voiRange;
    if (!range) return null;
    return { ...windowOf(range), zoom: this.viewport.getZoom() / this.fittedZoom };
  }

  /** Called whenever the window or the camera (zoom, pan) changes, by mouse, key or reset. */
  onViewChange(listener: () => void): void {
    this.element.addEventListener(Enums.Events.VOI_MODIFIED, listener);
    this.element.addEventListener(Enums.Events.CAMERA_MODIFIED, listener);
  }

  /** Called on every render of a new slice (the index shown). */
  onNewImage(listener: (index: number) => void): void {
    this.element.addEventListener(Enums.Events.STACK_NEW_IMAGE, ((event: CustomEvent<{ imageIdIndex: number }>) => {
      listener(event.detail.imageIdIndex);
    }) as EventListener);
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

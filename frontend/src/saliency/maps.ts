/**
 * The saliency maps of one scan as the viewer gets them: the API's shapes, asking for a class's
 * maps, following them until they are computed, and loading every slice's overlay decoded
 * (ImageBitmap), the slice on screen and its neighbours first.
 */
import { getBlob, getJson, requestWithStatus } from "../api/client";
import type { Schemas } from "../api/types";
import { CLASS_NAMES } from "../generated/vocabulary";

export type ScanModelOutput = Schemas["ScanModelOutput"];
export type ScanMaps = Schemas["ScanSaliencyRunOutput"];
export type HemorrhageClass = ScanMaps["hemorrhage_class"];
export type Method = ScanModelOutput["methods"][number];

export const METHOD_NAMES: Record<Method, string> = { normgrad: "NormGrad", gradcam: "Grad-CAM" };
const LOAD_CONCURRENCY = 6;

/** Ask for a class's maps of the scan (200: they exist or are being computed; 201: queued). */
export async function mapsRequest(url: string, modelVersion: number, cls: HemorrhageClass): Promise<ScanMaps> {
  const body: Schemas["ScanSaliencyInput"] = { model_version: modelVersion, hemorrhage_class: cls };
  return (await requestWithStatus<ScanMaps>(url, { method: "POST", json: body })).body;
}

export const mapsGet = (url: string): Promise<ScanMaps> => getJson<ScanMaps>(url);

export function isFinished(maps: ScanMaps): boolean {
  return ["succeeded", "warning", "failed", "canceled"].includes(maps.status);
}

/** What the panel says of maps on their way. */
export function mapsStateText(maps: ScanMaps): string {
  const cls = CLASS_NAMES[maps.hemorrhage_class];
  switch (maps.status) {
    case "pending":
      return `Maps of ${cls} queued (they wait for the model worker)…`;
    case "running":
    case "canceling":
      return `Computing the maps of ${cls}… ${Math.round(maps.progress * 100)}%`;
    case "succeeded":
    case "warning":
      return "";
    default:
      return `The maps of ${cls} could not be computed: ${maps.message || maps.status}`;
  }
}

/** The model's scan-level scores, e.g. "Any 93% · IPH 4% · …" in the vocabulary's order. */
export function scoresText(scores: Record<string, number>): string {
  return Object.entries(CLASS_NAMES)
    .filter(([cls]) => typeof scores[cls] === "number")
    .map(([cls, name]) => `${name} ${Math.round(scores[cls]! * 100)}%`)
    .join(" · ");
}

export function overlayUrl(template: string, method: Method, index: number): string {
  return template.replace("{method}", method).replace("{index}", String(index));
}

/** Slice indices from `start` outwards (start, start+1, start-1, …): what a reader sees next. */
export function nearestFirst(count: number, start: number): number[] {
  const order: number[] = [];
  for (let distance = 0; order.length < count; distance++) {
    for (const index of distance ? [start + distance, start - distance] : [start]) {
      if (index >= 0 && index < count) order.push(index);
    }
  }
  return order;
}

/**
 * Every slice's overlay of one method, decoded; `onImage` is called as each arrives. Resolves
 * with the full set; a slice whose overlay failed stays undefined (and is reported once).
 */
export async function loadOverlays(
  template: string,
  method: Method,
  order: readonly number[],
  onImage: (index: number, image: ImageBitmap) => void,
): Promise<{ images: (ImageBitmap | undefined)[]; failed: number }> {
  const images: (ImageBitmap | undefined)[] = [];
  const queue = [...order];
  let failed = 0;
  const worker = async (): Promise<void> => {
    for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
      try {
        const image = await fetchBitmap(overlayUrl(template, method, index));
        images[index] = image;
        onImage(index, image);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, order.length) }, worker));
  return { images, failed };
}

async function fetchBitmap(url: string): Promise<ImageBitmap> {
  return createImageBitmap(await getBlob(url));
}

/**
 * The first slice on screen before the stack viewer has loaded: a minimal DICOM reader for the
 * files a 2D canvas can draw exactly as the viewer will (uncompressed little-endian, one frame,
 * monochrome, square pixels, linear rescale and window), and a canvas laid over the viewer that
 * draws one with the file's own window, fitted and centred as the viewer fits it.
 *
 * Anything else (compressed or big-endian transfer syntaxes, colour, multi-frame, lookup-table
 * sequences, non-linear VOI functions, odd geometry) is left to the viewer: `parseSlice` answers
 * null rather than guess, so the page never shows an image the viewer would draw differently.
 */

const IMPLICIT_LE = "1.2.840.10008.1.2";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";
const UNDEFINED = 0xffffffff;
/** Explicit-VR value representations with a 2-byte reserved field and a 4-byte length. */
const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"]);

const tag = (group: number, element: number): number => group * 0x10000 + element;
const PIXEL_DATA = tag(0x7fe0, 0x0010);
const ITEM = tag(0xfffe, 0xe000);
const ITEM_END = tag(0xfffe, 0xe00d);
const SEQUENCE_END = tag(0xfffe, 0xe0dd);
/** Attributes the drawing depends on: any other is skipped. */
const WANTED = new Set([
  tag(0x0028, 0x0002), // samples per pixel
  tag(0x0028, 0x0004), // photometric interpretation
  tag(0x0028, 0x0008), // number of frames
  tag(0x0028, 0x0010), // rows
  tag(0x0028, 0x0011), // columns
  tag(0x0028, 0x0030), // pixel spacing
  tag(0x0028, 0x0034), // pixel aspect ratio
  tag(0x0028, 0x0100), // bits allocated
  tag(0x0028, 0x0101), // bits stored
  tag(0x0028, 0x0102), // high bit
  tag(0x0028, 0x0103), // pixel representation
  tag(0x0028, 0x1050), // window center
  tag(0x0028, 0x1051), // window width
  tag(0x0028, 0x1052), // rescale intercept
  tag(0x0028, 0x1053), // rescale slope
  tag(0x0028, 0x1056), // VOI LUT function
  tag(0x0028, 0x3000), // modality LUT sequence
  tag(0x0028, 0x3010), // VOI LUT sequence
  tag(0x0028, 0x1101), // palette colour lookup tables: not monochrome
]);

/** One slice as the canvas draws it: stored values and how they become grey levels. */
export interface SliceImage {
  columns: number;
  rows: number;
  /** Stored values, masked to Bits Stored (sign-extended when signed), row by row. */
  stored: Int32Array;
  slope: number;
  intercept: number;
  /** Window centre and width in rescaled units; null: the full range of the slice. */
  window: { center: number; width: number } | null;
  /** MONOCHROME1: low values bright. */
  inverted: boolean;
}

class Unsupported extends Error {}

interface Element {
  tag: number;
  offset: number;
  length: number;
}

/** Reads elements of a little-endian dataset, explicit or implicit VR. */
class Cursor {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    public offset: number,
    private readonly explicit: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  next(): Element & { vr: string } {
    const group = this.u16(this.offset);
    const number = tag(group, this.u16(this.offset + 2));
    let vr = "";
    let length: number;
    if (group === 0xfffe) {
      // Items and delimiters carry no VR in either encoding.
      length = this.u32(this.offset + 4);
      this.offset += 8;
    } else if (this.explicit) {
      vr = String.fromCharCode(this.u8(this.offset + 4), this.u8(this.offset + 5));
      if (LONG_VRS.has(vr)) {
        length = this.u32(this.offset + 8);
        this.offset += 12;
      } else {
        length = this.u16(this.offset + 6);
        this.offset += 8;
      }
    } else {
      length = this.u32(this.offset + 4);
      this.offset += 8;
    }
    const element = { tag: number, vr, offset: this.offset, length };
    if (length !== UNDEFINED) {
      if (this.offset + length > this.bytes.length) throw new Unsupported("element past the end");
      this.offset += length;
    }
    return element;
  }

  /** Step over a sequence of undefined length whose header `next()` just read. */
  skipSequence(): void {
    for (;;) {
      const item = this.next();
      if (item.tag === SEQUENCE_END) return;
      if (item.tag !== ITEM) throw new Unsupported("malformed sequence");
      if (item.length === UNDEFINED) this.skipItem();
    }
  }

  private skipItem(): void {
    for (;;) {
      const element = this.next();
      if (element.tag === ITEM_END) return;
      if (element.length === UNDEFINED) this.skipSequence();
    }
  }

  u8(at: number): number {
    this.need(at, 1);
    return this.view.getUint8(at);
  }

  u16(at: number): number {
    this.need(at, 2);
    return this.view.getUint16(at, true);
  }

  u32(at: number): number {
    this.need(at, 4);
    return this.view.getUint32(at, true);
  }

  private need(at: number, size: number): void {
    if (at + size > this.bytes.length) throw new Unsupported("truncated file");
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The slice in a DICOM Part 10 file, or null where this reader cannot draw it exactly. */
export function parseSlice(buffer: ArrayBuffer): SliceImage | null {
  try {
    return parse(new Uint8Array(buffer));
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
}

function parse(bytes: Uint8Array): SliceImage | null {
  if (!LITTLE_ENDIAN_HOST || bytes.length < 132) return null;
  if (String.fromCharCode(...bytes.subarray(128, 132)) !== "DICM") return null;
  // File meta information: always explicit VR little endian.
  const meta = new Cursor(bytes, 132, true);
  let syntax = "";
  while (!meta.done && meta.u16(meta.offset) === 0x0002) {
    const element = meta.next();
    if (element.length === UNDEFINED) return null;
    if (element.tag === tag(0x0002, 0x0010)) syntax = text(bytes, element);
  }
  if (syntax !== IMPLICIT_LE && syntax !== EXPLICIT_LE) return null;

  const cursor = new Cursor(bytes, meta.offset, syntax === EXPLICIT_LE);
  const found = new Map<number, Element>();
  let pixels: Element | null = null;
  while (!cursor.done) {
    const element = cursor.next();
    if (element.tag === PIXEL_DATA) {
      pixels = element;
      break;
    }
    if (element.length === UNDEFINED) {
      // An undefined-length UN may hide any VR; only a sequence is walked.
      if (element.vr !== "SQ" && element.vr !== "") return null;
      cursor.skipSequence();
    }
    if (WANTED.has(element.tag)) found.set(element.tag, element);
  }
  if (!pixels || pixels.length === UNDEFINED) return null; // none, or encapsulated (compressed)

  const us = (group: number, number: number): number | null => {
    const element = found.get(tag(group, number));
    if (!element) return null;
    if (element.length !== 2) throw new Unsupported("not a US value");
    return cursor.u16(element.offset);
  };
  const strings = (group: number, number: number): string[] | null => {
    const element = found.get(tag(group, number));
    return element ? text(bytes, element).split("\\").map((value) => value.trim()) : null;
  };
  const decimal = (group: number, number: number): number | null => {
    const values = strings(group, number);
    if (!values || values[0] === "") return null;
    const value = Number(values[0]);
    if (!Number.isFinite(value)) throw new Unsupported("not a number");
    return value;
  };

  if (found.has(tag(0x0028, 0x3000)) || found.has(tag(0x0028, 0x3010)) || found.has(tag(0x0028, 0x1101))) return null;
  if ((us(0x0028, 0x0002) ?? 1) !== 1) return null;
  const photometric = strings(0x0028, 0x0004)?.[0];
  if (photometric !== "MONOCHROME1" && photometric !== "MONOCHROME2") return null;
  if ((decimal(0x0028, 0x0008) ?? 1) !== 1) return null;
  const voiFunction = strings(0x0028, 0x1056)?.[0];
  if (voiFunction && voiFunction !== "LINEAR") return null;
  const spacing = strings(0x0028, 0x0030);
  if (spacing && spacing.length >= 2 && Number(spacing[0]) !== Number(spacing[1])) return null;
  const aspect = strings(0x0028, 0x0034);
  if (aspect && aspect.length >= 2 && Number(aspect[0]) !== Number(aspect[1])) return null;

  const rows = us(0x0028, 0x0010);
  const columns = us(0x0028, 0x0011);
  const allocated = us(0x0028, 0x0100);
  const stored = us(0x0028, 0x0101) ?? allocated;
  const highBit = us(0x0028, 0x0102) ?? (stored === null ? null : stored - 1);
  const signed = us(0x0028, 0x0103) ?? 0;
  if (!rows || !columns || (allocated !== 8 && allocated !== 16)) return null;
  if (stored === null || stored < 1 || stored > allocated || highBit !== stored - 1 || signed > 1) return null;
  const count = rows * columns;
  const byteLength = count * (allocated / 8);
  if (pixels.length < byteLength) return null;

  const slope = decimal(0x0028, 0x1053) ?? 1;
  const intercept = decimal(0x0028, 0x1052) ?? 0;
  if (slope === 0) return null;
  const center = decimal(0x0028, 0x1050);
  const width = decimal(0x0028, 0x1051);
  const window = center !== null && width !== null && width >= 1 ? { center, width } : null;

  const raw =
    allocated === 16
      ? new Uint16Array(bytes.buffer.slice(bytes.byteOffset + pixels.offset, bytes.byteOffset + pixels.offset + byteLength))
      : bytes.subarray(pixels.offset, pixels.offset + count);
  const values = new Int32Array(count);
  const shift = 32 - stored;
  const mask = stored === 32 ? -1 : (1 << stored) - 1;
  for (let i = 0; i < count; i++) {
    // Bits above Bits Stored are not part of the value (DICOM PS3.5 8.1.1).
    values[i] = signed ? (raw[i]! << shift) >> shift : raw[i]! & mask;
  }
  return { columns, rows, stored: values, slope, intercept, window, inverted: photometric === "MONOCHROME1" };
}

function text(bytes: Uint8Array, element: Element): string {
  let value = "";
  for (let i = element.offset; i < element.offset + element.length; i++) value += String.fromCharCode(bytes[i]!);
  return value.replace(/[\0 ]+$/, "").trim();
}

/**
 * Grey levels (RGBA) of a slice: rescaled, then windowed by the DICOM linear VOI function
 * (PS3.3 C.11.2.1.2.1); without a window, the slice's own range. Null for a flat slice without
 * a window (no range to map).
 */
export function greyLevels(image: SliceImage): Uint8ClampedArray<ArrayBuffer> | null {
  const { stored, slope, intercept } = image;
  let { window } = image;
  if (!window) {
    let low = Infinity;
    let high = -Infinity;
    for (const value of stored) {
      const rescaled = value * slope + intercept;
      if (rescaled < low) low = rescaled;
      if (rescaled > high) high = rescaled;
    }
    if (!(high > low)) return null;
    window = { center: (low + high) / 2 + 0.5, width: high - low + 1 };
  }
  const { center, width } = window;
  const bottom = center - 0.5 - (width - 1) / 2;
  const top = center - 0.5 + (width - 1) / 2;
  const rgba = new Uint8ClampedArray(stored.length * 4);
  for (let i = 0; i < stored.length; i++) {
    const x = stored[i]! * slope + intercept;
    let grey = x <= bottom ? 0 : x > top ? 255 : width === 1 ? 255 : ((x - (center - 0.5)) / (width - 1) + 0.5) * 255;
    if (image.inverted) grey = 255 - grey;
    const at = i * 4;
    rgba[at] = rgba[at + 1] = rgba[at + 2] = grey;
    rgba[at + 3] = 255;
  }
  return rgba;
}

/**
 * A canvas over the viewer element (same box, above it) showing one slice until the viewer
 * draws its own; `remove()` hands the place back.
 */
export class FirstImage {
  readonly canvas = document.createElement("canvas");

  constructor(private readonly viewerElement: HTMLElement) {
    this.canvas.id = "first-image";
    this.canvas.setAttribute("aria-hidden", "true");
    Object.assign(this.canvas.style, { position: "absolute", left: "0", top: "0", pointerEvents: "none" });
  }

  /** Fetch, read and draw the slice at `url`; true when it is on screen, false where the
   * viewer has to draw it (a file this reader leaves to it, or a failed fetch). */
  async show(url: string): Promise<boolean> {
    let buffer: ArrayBuffer;
    try {
      const response = await fetch(url);
      if (!response.ok) return false;
      buffer = await response.arrayBuffer();
    } catch {
      return false; // the viewer fetches again and reports what went wrong
    }
    try {
      const image = parseSlice(buffer);
      const rgba = image && greyLevels(image);
      if (!image || !rgba) return false;
      this.draw(image, rgba);
      return true;
    } catch {
      this.remove(); // whatever went wrong here, the viewer still draws the slice
      return false;
    }
  }

  remove(): void {
    this.canvas.remove();
  }

  /** Create the viewer (`create`) and leave the place to it once it has drawn the slice
   * itself; `section.dataset.firstImage` says "viewer" where this image never showed. */
  async handOver<V>(section: HTMLElement, create: () => Promise<V>): Promise<V> {
    const rendered = new Promise((resolve) =>
      this.viewerElement.addEventListener("CORNERSTONE_IMAGE_RENDERED", resolve, { once: true }),
    );
    const viewer = await create();
    void rendered.then(() => {
      this.remove();
      section.dataset.firstImage ??= "viewer";
    });
    return viewer;
  }

  private draw(image: SliceImage, rgba: Uint8ClampedArray<ArrayBuffer>): void {
    const source = document.createElement("canvas");
    source.width = image.columns;
    source.height = image.rows;
    source.getContext("2d")?.putImageData(new ImageData(rgba, image.columns, image.rows), 0, 0);
    // Fitted and centred in the viewer's box, on black, as the stack viewer first shows it.
    const { offsetLeft, offsetTop, clientWidth, clientHeight } = this.viewerElement;
    const scale = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(clientWidth * scale);
    this.canvas.height = Math.round(clientHeight * scale);
    Object.assign(this.canvas.style, {
      left: `${offsetLeft}px`,
      top: `${offsetTop}px`,
      width: `${clientWidth}px`,
      height: `${clientHeight}px`,
    });
    const context = this.canvas.getContext("2d");
    if (!context) return;
    context.fillStyle = "#000";
    context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const fit = Math.min(this.canvas.width / image.columns, this.canvas.height / image.rows);
    const [width, height] = [image.columns * fit, image.rows * fit];
    context.imageSmoothingEnabled = true;
    context.drawImage(source, (this.canvas.width - width) / 2, (this.canvas.height - height) / 2, width, height);
    this.viewerElement.after(this.canvas);
  }
}

/** Slice indices from `start` outwards (start, start+1, start-1, ...): the order a reader is
 * likely to scroll through them. */
export function outwardOrder(count: number, start: number): number[] {
  const order: number[] = [];
  for (let step = 0; order.length < count; step++) {
    for (const index of step ? [start + step, start - step] : [start]) {
      if (index >= 0 && index < count) order.push(index);
    }
  }
  return order;
}

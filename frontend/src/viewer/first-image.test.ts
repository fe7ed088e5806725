import { describe, expect, it } from "vitest";
import { greyLevels, outwardOrder, parseSlice } from "./first-image";

const EXPLICIT = "1.2.840.10008.1.2.1";
const IMPLICIT = "1.2.840.10008.1.2";
const LONG = new Set(["OB", "OW", "SQ", "UN", "UT"]);

type Value = string | number | Uint8Array;
/** [group, element, VR, value]; a number is a US value, a string is padded to even length. */
type Field = [number, number, string, Value];

const u16 = (...values: number[]): Uint8Array => new Uint8Array(new Uint16Array(values).buffer);
const i16 = (...values: number[]): Uint8Array => new Uint8Array(new Int16Array(values).buffer);

function bytesOf(value: Value, vr: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "number") return u16(value);
  const text = value.length % 2 ? value + (vr === "UI" ? "\0" : " ") : value;
  return new Uint8Array([...text].map((c) => c.charCodeAt(0)));
}

function encode(fields: Field[], explicit: boolean, undefinedLength = new Set<number>()): number[] {
  const out: number[] = [];
  const push16 = (v: number): void => void out.push(v & 0xff, v >> 8);
  const push32 = (v: number): void => void out.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
  fields.forEach(([group, element, vr, value], index) => {
    const data = bytesOf(value, vr);
    const length = undefinedLength.has(index) ? 0xffffffff : data.length;
    push16(group);
    push16(element);
    if (explicit && group !== 0xfffe) {
      out.push(vr.charCodeAt(0), vr.charCodeAt(1));
      if (LONG.has(vr)) {
        push16(0);
        push32(length);
      } else push16(length);
    } else push32(length);
    out.push(...data);
  });
  return out;
}

/** A Part 10 file: preamble, DICM, the meta group (explicit VR LE), the dataset. */
function dicom(syntax: string, fields: Field[], options: { undefinedLength?: Set<number> } = {}): ArrayBuffer {
  const explicit = syntax !== IMPLICIT;
  const meta = encode([[0x0002, 0x0010, "UI", syntax]], true);
  const body = encode(fields, explicit, options.undefinedLength);
  return new Uint8Array([...new Array(128).fill(0), 68, 73, 67, 77, ...meta, ...body]).buffer;
}

/** The attributes of a 2x2 signed 16-bit CT slice with a brain window, pixels last. */
function ct(overrides: Record<string, Value | null> = {}, pixels: Uint8Array = i16(-1024, 0, 40, 80)): Field[] {
  const base: Record<string, Field> = {
    samples: [0x0028, 0x0002, "US", 1],
    photometric: [0x0028, 0x0004, "CS", "MONOCHROME2"],
    rows: [0x0028, 0x0010, "US", 2],
    columns: [0x0028, 0x0011, "US", 2],
    spacing: [0x0028, 0x0030, "DS", "0.5\\0.5"],
    allocated: [0x0028, 0x0100, "US", 16],
    stored: [0x0028, 0x0101, "US", 16],
    high: [0x0028, 0x0102, "US", 15],
    representation: [0x0028, 0x0103, "US", 1],
    center: [0x0028, 0x1050, "DS", "40\\300"],
    width: [0x0028, 0x1051, "DS", "80\\1500"],
    intercept: [0x0028, 0x1052, "DS", "0"],
    slope: [0x0028, 0x1053, "DS", "1"],
  };
  const fields: Field[] = [];
  for (const [name, field] of Object.entries(base)) {
    if (!(name in overrides)) fields.push(field);
    else if (overrides[name] !== null) fields.push([field[0], field[1], field[2], overrides[name]!]);
  }
  return [...fields, [0x7fe0, 0x0010, "OW", pixels]];
}

const grey = (buffer: ArrayBuffer): number[] => {
  const image = parseSlice(buffer);
  expect(image).not.toBeNull();
  return Array.from(greyLevels(image!)!.filter((_, i) => i % 4 === 0));
};

describe("parseSlice and greyLevels", () => {
  it("draw an explicit little-endian signed slice with its first window", () => {
    const image = parseSlice(dicom(EXPLICIT, ct()))!;
    expect(image).toMatchObject({ columns: 2, rows: 2, slope: 1, intercept: 0, inverted: false });
    expect(image.window).toEqual({ center: 40, width: 80 });
    expect(Array.from(image.stored)).toEqual([-1024, 0, 40, 80]);
    // Window 40/80: 0 HU at the bottom, 80 at the top, 40 in the middle.
    const [air, bottom, middle, top] = grey(dicom(EXPLICIT, ct()));
    expect([air, bottom, top]).toEqual([0, 0, 255]);
    expect(middle).toBeGreaterThan(125);
    expect(middle).toBeLessThan(131);
  });

  it("apply rescale slope and intercept to unsigned values in an implicit-VR file", () => {
    const fields = ct({ representation: 0, intercept: "-1024", slope: "2" }, u16(0, 512, 532, 552));
    // Stored 512 * 2 - 1024 = 0 HU, 532 -> 40 HU, 552 -> 80 HU.
    expect(grey(dicom(IMPLICIT, fields))).toEqual(grey(dicom(EXPLICIT, ct())));
  });

  it("keep only Bits Stored, sign-extending signed values", () => {
    // 12 bits stored: 0xF000 are stray high bits; 0x0FFF is -1 when signed, 4095 when not.
    const signed = parseSlice(dicom(EXPLICIT, ct({ stored: 12, high: 11 }, u16(0xf000 | 40, 0x0fff, 0x0800, 0x07ff))))!;
    expect(Array.from(signed.stored)).toEqual([40, -1, -2048, 2047]);
    const unsigned = parseSlice(dicom(EXPLICIT, ct({ stored: 12, high: 11, representation: 0 }, u16(0xf000 | 40, 0x0fff, 0, 1))))!;
    expect(Array.from(unsigned.stored)).toEqual([40, 4095, 0, 1]);
  });

  it("invert MONOCHROME1 and use the slice's range without a window", () => {
    const fields = ct({ photometric: "MONOCHROME1", center: null, width: null }, i16(0, 100, 200, 300));
    expect(grey(dicom(EXPLICIT, fields))).toEqual([255, 170, 85, 0]);
  });

  it("read an odd-sized 8-bit slice from its padded pixel data", () => {
    const pixels = new Uint8Array([0, 10, 20, 30, 40, 50, 60, 70, 80, 0]); // 9 values, 1 pad byte
    const fields = ct({ rows: 3, columns: 3, allocated: 8, stored: 8, high: 7, representation: 0, center: "40", width: "81" }, pixels);
    const image = parseSlice(dicom(EXPLICIT, fields))!;
    expect([image.columns, image.rows, image.stored.length]).toEqual([3, 3, 9]);
    // DICOM linear window 40/81: (x - 39.5) / 80 + 0.5 of full scale, 80 above the top.
    expect(grey(dicom(EXPLICIT, fields))).toEqual([2, 33, 65, 97, 129, 161, 193, 225, 255]);
  });

  it("step over sequences of undefined length, taking no attribute from inside them", () => {
    const item: Field[] = [[0x0028, 0x0010, "US", 99]];
    const nested = (explicit: boolean): Uint8Array =>
      new Uint8Array([
        ...encode([[0xfffe, 0xe000, "", new Uint8Array(encode(item, explicit))]], explicit),
        ...encode([[0xfffe, 0xe000, "", new Uint8Array(encode([...item, [0xfffe, 0xe00d, "", new Uint8Array()]], explicit))]], explicit, new Set([0])),
        ...encode([[0xfffe, 0xe0dd, "", new Uint8Array()]], explicit),
      ]);
    for (const [syntax, explicit] of [[EXPLICIT, true], [IMPLICIT, false]] as const) {
      const fields: Field[] = [[0x0008, 0x1140, "SQ", nested(explicit)], ...ct()];
      const image = parseSlice(dicom(syntax, fields, { undefinedLength: new Set([0]) }));
      expect(image?.rows).toBe(2);
    }
  });

  it("leave to the viewer what it cannot draw exactly", () => {
    const refused: [string, ArrayBuffer][] = [
      ["big endian", dicom("1.2.840.10008.1.2.2", ct())],
      ["JPEG baseline", dicom("1.2.840.10008.1.2.4.50", ct())],
      ["RLE", dicom("1.2.840.10008.1.2.5", ct())],
      ["encapsulated pixels", dicom(EXPLICIT, ct(), { undefinedLength: new Set([13]) })],
      ["colour", dicom(EXPLICIT, ct({ samples: 3, photometric: "RGB" }))],
      ["palette", dicom(EXPLICIT, ct({ photometric: "PALETTE COLOR" }))],
      ["two frames", dicom(EXPLICIT, [[0x0028, 0x0008, "IS", "2"], ...ct()])],
      ["modality LUT", dicom(EXPLICIT, [[0x0028, 0x3000, "SQ", new Uint8Array()], ...ct()])],
      ["sigmoid VOI", dicom(EXPLICIT, [...ct().slice(0, -1), [0x0028, 0x1056, "CS", "SIGMOID"], ...ct().slice(-1)])],
      ["rectangular pixels", dicom(EXPLICIT, ct({ spacing: "0.5\\0.7" }))],
      ["32 bits", dicom(EXPLICIT, ct({ allocated: 32, stored: 32, high: 31 }))],
      ["high bit not at the top", dicom(EXPLICIT, ct({ stored: 12, high: 15 }))],
      ["pixels short", dicom(EXPLICIT, ct({}, i16(1, 2, 3)))],
      ["no pixels", dicom(EXPLICIT, ct().slice(0, -1))],
      ["not Part 10", new Uint8Array(200).buffer],
      ["truncated", dicom(EXPLICIT, ct()).slice(0, 200)],
    ];
    for (const [name, buffer] of refused) expect(parseSlice(buffer), name).toBeNull();
    // A flat slice without a window has no range to map.
    const flat = parseSlice(dicom(EXPLICIT, ct({ center: null, width: null }, i16(5, 5, 5, 5))))!;
    expect(greyLevels(flat)).toBeNull();
  });
});

describe("outwardOrder", () => {
  it("lists every slice once, from the start outwards", () => {
    expect(outwardOrder(5, 3)).toEqual([3, 4, 2, 1, 0]);
    expect(outwardOrder(4, 0)).toEqual([0, 1, 2, 3]);
    expect(outwardOrder(1, 0)).toEqual([0]);
  });
});

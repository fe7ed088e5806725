/**
 * Where the overlay goes: the image's outer corners, from the viewport's image data to world
 * coordinates, and the CSS matrix that lays a box of the image's size (the overlay, stretched to
 * rows x columns) onto those corners as they land on the canvas.
 */

export type Point2 = readonly [number, number];
export type Point3 = readonly [number, number, number];

/** The parts of a viewport's image data that place its pixels in the world. */
export interface ImageGeometry {
  /** Columns, rows (and depth). */
  dimensions: readonly number[];
  /** Where pixel index (0, 0) is. */
  origin: Point3;
  /** Along a row, down a column. */
  spacing: readonly number[];
  /** Row direction in 0-2, column direction in 3-5. */
  direction: ArrayLike<number>;
}

export interface Corners<P> {
  topLeft: P;
  topRight: P;
  bottomLeft: P;
}

/**
 * The image's outer corners as pixel indices. Cornerstone's CPU path draws pixel i over
 * [i, i + 1) from the index origin, its WebGL path centres pixel i on i; so the outer edge is at
 * 0 or at -0.5.
 */
export function imageCornerIndices(columns: number, rows: number, cpu: boolean): Corners<Point2> {
  const edge = cpu ? 0 : -0.5;
  return {
    topLeft: [edge, edge],
    topRight: [columns + edge, edge],
    bottomLeft: [edge, rows + edge],
  };
}

/** A (fractional) pixel index in world coordinates. */
export function indexToWorld(geometry: ImageGeometry, index: Point2): [number, number, number] {
  const { origin, spacing, direction: d } = geometry;
  const [i, j] = [index[0] * (spacing[0] ?? 1), index[1] * (spacing[1] ?? 1)];
  return [
    origin[0] + i * d[0]! + j * d[3]!,
    origin[1] + i * d[1]! + j * d[4]!,
    origin[2] + i * d[2]! + j * d[5]!,
  ];
}

/** The image's corners in world coordinates. */
export function imageCornersInWorld(geometry: ImageGeometry, cpu: boolean): Corners<[number, number, number]> {
  const [columns = 1, rows = 1] = geometry.dimensions;
  const corners = imageCornerIndices(columns, rows, cpu);
  return {
    topLeft: indexToWorld(geometry, corners.topLeft),
    topRight: indexToWorld(geometry, corners.topRight),
    bottomLeft: indexToWorld(geometry, corners.bottomLeft),
  };
}

/** [a, b, c, d, e, f] of CSS `matrix()`: maps (0, 0), (width, 0) and (0, height) of a box onto
 * the three canvas corners (any zoom, pan, rotation or flip). */
export function cornerMatrix(corners: Corners<Point2>, width: number, height: number): [number, number, number, number, number, number] {
  const { topLeft: o, topRight: x, bottomLeft: y } = corners;
  return [(x[0] - o[0]) / width, (x[1] - o[1]) / width, (y[0] - o[0]) / height, (y[1] - o[1]) / height, o[0], o[1]];
}

export function cssMatrix(matrix: readonly number[]): string {
  return `matrix(${matrix.map((value) => (Number.isFinite(value) ? round(value) : 0)).join(", ")})`;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

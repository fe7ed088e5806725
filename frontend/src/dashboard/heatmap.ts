/** The pairwise reader heatmap: Cohen's kappa of every pair of readers for one label, as an
 * SVG grid coloured by kappa, each cell titled with the kappa and the items both read. */
import { kappaColour } from "./format";
import type { PairMatrix } from "./types";

const SVG = "http://www.w3.org/2000/svg";
const CELL = 56;
const FONT_PX = 12;
/** Room for a name: about 0.62 em per character of the 12 px sans-serif, within these bounds. */
const MIN_LABEL = 60;
const MAX_LABEL = 240;

/** The room the readers' names take, in px: the row names left of the grid, and the column
 * names above it, slanted at 45° so that each reaches as far up as it reaches right. */
export function labelRoom(readers: readonly string[]): number {
  const longest = Math.max(0, ...readers.map((name) => name.length));
  return Math.round(Math.min(MAX_LABEL, Math.max(MIN_LABEL, longest * FONT_PX * 0.62 + 12)));
}

export function renderHeatmap(container: HTMLElement, matrix: PairMatrix | undefined): void {
  container.replaceChildren();
  if (!matrix || matrix.readers.length < 2) {
    container.textContent = "Not enough readers with completed reads for pairs.";
    return;
  }
  const n = matrix.readers.length;
  const room = labelRoom(matrix.readers);
  // The slanted column names need the header's height above the grid, and as much again to
  // the right of the last column's centre (less the half cell it already has).
  const header = Math.round(room * Math.SQRT1_2) + FONT_PX;
  const right = Math.max(0, header - CELL / 2);
  const grid = { x: room, y: header };
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", String(grid.x + n * CELL + right));
  svg.setAttribute("height", String(grid.y + n * CELL));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Cohen's kappa of each pair of readers, ${matrix.label} (${matrix.level} level)`);
  matrix.readers.forEach((reader, i) => {
    svg.append(text(reader, grid.x - 6, grid.y + i * CELL + CELL / 2, "end"));
    const x = grid.x + i * CELL + CELL / 2;
    const column = text(reader, x, grid.y - 6, "start");
    column.setAttribute("transform", `rotate(-45 ${x} ${grid.y - 6})`);
    column.classList.add("heat-column");
    svg.append(column);
    matrix.readers.forEach((other, j) => svg.append(cell(matrix, grid, i, j, `${reader} × ${other}`)));
  });
  container.append(svg);
  fitToContent(svg);
}

/** Grow the drawing to whatever its names take once laid out (a font wider than the estimate
 * above): nothing of a name is cut off at any edge. A hidden drawing keeps the estimate. */
function fitToContent(svg: SVGSVGElement): void {
  if (typeof svg.getBBox !== "function") return;
  const box = svg.getBBox();
  if (!box.width || !box.height) return;
  const left = Math.min(0, Math.floor(box.x));
  const top = Math.min(0, Math.floor(box.y));
  const width = Math.max(Number(svg.getAttribute("width")), Math.ceil(box.x + box.width)) - left;
  const height = Math.max(Number(svg.getAttribute("height")), Math.ceil(box.y + box.height)) - top;
  svg.setAttribute("viewBox", `${left} ${top} ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
}

function cell(matrix: PairMatrix, grid: { x: number; y: number }, i: number, j: number, pair: string): SVGGElement {
  const kappa = matrix.kappa[i]?.[j] ?? null;
  const items = matrix.n_items[i]?.[j] ?? 0;
  const group = document.createElementNS(SVG, "g");
  group.classList.add("heat-cell");
  const rect = document.createElementNS(SVG, "rect");
  rect.setAttribute("x", String(grid.x + j * CELL));
  rect.setAttribute("y", String(grid.y + i * CELL));
  rect.setAttribute("width", String(CELL - 2));
  rect.setAttribute("height", String(CELL - 2));
  rect.setAttribute("fill", kappaColour(kappa));
  const title = document.createElementNS(SVG, "title");
  title.textContent = `${pair}: κ ${kappa === null ? "undefined" : kappa.toFixed(2)} on ${items} items`;
  rect.append(title);
  group.append(rect, text(kappa === null ? "—" : kappa.toFixed(2), grid.x + j * CELL + CELL / 2 - 1, grid.y + i * CELL + CELL / 2, "middle"));
  return group;
}

function text(content: string, x: number, y: number, anchor: "start" | "middle" | "end"): SVGTextElement {
  const element = document.createElementNS(SVG, "text");
  element.setAttribute("x", String(x));
  element.setAttribute("y", String(y));
  element.setAttribute("text-anchor", anchor);
  element.setAttribute("dominant-baseline", "middle");
  element.setAttribute("font-size", String(FONT_PX));
  element.textContent = content;
  return element;
}

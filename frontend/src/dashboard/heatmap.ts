/** The pairwise reader heatmap: Cohen's kappa of every pair of readers for one label, as an
 * SVG grid coloured by kappa, each cell titled with the kappa and the items both read. */
import { kappaColour } from "./format";
import type { PairMatrix } from "./types";

const SVG = "http://www.w3.org/2000/svg";
const CELL = 56;
const LABEL_WIDTH = 120;

export function renderHeatmap(container: HTMLElement, matrix: PairMatrix | undefined): void {
  container.replaceChildren();
  if (!matrix || matrix.readers.length < 2) {
    container.textContent = "Not enough readers with completed reads for pairs.";
    return;
  }
  const n = matrix.readers.length;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", String(LABEL_WIDTH + n * CELL));
  svg.setAttribute("height", String(LABEL_WIDTH + n * CELL));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Cohen's kappa of each pair of readers, ${matrix.label} (${matrix.level} level)`);
  matrix.readers.forEach((reader, i) => {
    svg.append(text(reader, LABEL_WIDTH - 6, LABEL_WIDTH + i * CELL + CELL / 2, "end"));
    const column = text(reader, LABEL_WIDTH + i * CELL + CELL / 2, LABEL_WIDTH - 6, "start");
    column.setAttribute("transform", `rotate(-45 ${LABEL_WIDTH + i * CELL + CELL / 2} ${LABEL_WIDTH - 6})`);
    svg.append(column);
    matrix.readers.forEach((other, j) => svg.append(cell(matrix, i, j, `${reader} × ${other}`)));
  });
  container.append(svg);
}

function cell(matrix: PairMatrix, i: number, j: number, pair: string): SVGGElement {
  const kappa = matrix.kappa[i]?.[j] ?? null;
  const items = matrix.n_items[i]?.[j] ?? 0;
  const group = document.createElementNS(SVG, "g");
  group.classList.add("heat-cell");
  const rect = document.createElementNS(SVG, "rect");
  rect.setAttribute("x", String(LABEL_WIDTH + j * CELL));
  rect.setAttribute("y", String(LABEL_WIDTH + i * CELL));
  rect.setAttribute("width", String(CELL - 2));
  rect.setAttribute("height", String(CELL - 2));
  rect.setAttribute("fill", kappaColour(kappa));
  const title = document.createElementNS(SVG, "title");
  title.textContent = `${pair}: κ ${kappa === null ? "undefined" : kappa.toFixed(2)} on ${items} items`;
  rect.append(title);
  group.append(rect, text(kappa === null ? "—" : kappa.toFixed(2), LABEL_WIDTH + j * CELL + CELL / 2 - 1, LABEL_WIDTH + i * CELL + CELL / 2, "middle"));
  return group;
}

function text(content: string, x: number, y: number, anchor: "start" | "middle" | "end"): SVGTextElement {
  const element = document.createElementNS(SVG, "text");
  element.setAttribute("x", String(x));
  element.setAttribute("y", String(y));
  element.setAttribute("text-anchor", anchor);
  element.setAttribute("dominant-baseline", "middle");
  element.setAttribute("font-size", "12");
  element.textContent = content;
  return element;
}

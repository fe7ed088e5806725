import { describe, expect, it } from "vitest";
import { cornerMatrix, cssMatrix, imageCornerIndices, imageCornersInWorld, type ImageGeometry } from "./geometry";

const axial: ImageGeometry = {
  dimensions: [64, 64, 1],
  origin: [-100, -80, 12.5],
  spacing: [0.5, 0.5, 1],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
};

describe("image corners", () => {
  it("puts the outer edge where each renderer draws it", () => {
    expect(imageCornerIndices(64, 32, true)).toEqual({ topLeft: [0, 0], topRight: [64, 0], bottomLeft: [0, 32] });
    expect(imageCornerIndices(64, 32, false)).toEqual({
      topLeft: [-0.5, -0.5],
      topRight: [63.5, -0.5],
      bottomLeft: [-0.5, 31.5],
    });
  });

  it("follows the image's origin, spacing and direction into the world", () => {
    expect(imageCornersInWorld(axial, true)).toEqual({
      topLeft: [-100, -80, 12.5],
      topRight: [-68, -80, 12.5],
      bottomLeft: [-100, -48, 12.5],
    });
    const rotated = { ...axial, direction: [0, 1, 0, -1, 0, 0, 0, 0, 1] };
    expect(imageCornersInWorld(rotated, false).topRight).toEqual([-100 + 0.25, -80 - 0.25 + 32, 12.5]);
  });
});

describe("cornerMatrix", () => {
  it("scales and moves a box onto the canvas corners", () => {
    const matrix = cornerMatrix({ topLeft: [10, 20], topRight: [266, 20], bottomLeft: [10, 276] }, 512, 512);
    expect(matrix).toEqual([0.5, 0, 0, 0.5, 10, 20]);
    expect(cssMatrix(matrix)).toBe("matrix(0.5, 0, 0, 0.5, 10, 20)");
  });

  it("keeps a flip or a rotation of the view", () => {
    expect(cornerMatrix({ topLeft: [100, 0], topRight: [0, 0], bottomLeft: [100, 100] }, 50, 50)).toEqual([-2, 0, 0, 2, 100, 0]);
    expect(cornerMatrix({ topLeft: [100, 0], topRight: [100, 100], bottomLeft: [0, 0] }, 100, 100)).toEqual([0, 1, -1, 0, 100, 0]);
    expect(cssMatrix([Number.NaN, 1, 0, 1, 0, 0])).toBe("matrix(0, 1, 0, 1, 0, 0)");
  });
});

import { describe, expect, it } from "vitest";

import { estimateText, kappaColour } from "./format";

describe("estimateText", () => {
  it("shows the estimate and its interval", () => {
    expect(estimateText({ estimate: 0.8234, ci_low: 0.78, ci_high: 0.861 })).toBe("0.82 (0.78–0.86)");
    expect(estimateText({ estimate: 0.5, ci_low: 0.25, ci_high: 0.75 }, 2, true)).toBe("50.0% (25.0%–75.0%)");
  });

  it("marks an undefined statistic and leaves out a missing interval", () => {
    expect(estimateText({ estimate: null, ci_low: null, ci_high: null })).toBe("—");
    expect(estimateText({ estimate: 0.4, ci_low: null, ci_high: null })).toBe("0.40");
  });
});

describe("kappaColour", () => {
  it("runs from red through white to green, grey when undefined", () => {
    expect(kappaColour(0)).toBe("rgb(255, 255, 255)");
    expect(kappaColour(1)).toBe("rgb(22, 163, 74)");
    expect(kappaColour(-1)).toBe("rgb(220, 38, 38)");
    expect(kappaColour(null)).toBe("#eceff3");
  });
});

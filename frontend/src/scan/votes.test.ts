import { describe, expect, it } from "vitest";
import { firstSlice, marksHemorrhage } from "./votes";

const row = (slice_index: number) => ({ slice_index, votes: [] });

describe("slices in question", () => {
  it("counts a subtype as a mark, not 'no hemorrhage' or a label taken back", () => {
    expect(marksHemorrhage({ iph: false, sah: true, no_hemorrhage: false })).toBe(true);
    expect(marksHemorrhage({ iph: false, no_hemorrhage: true })).toBe(false);
    expect(marksHemorrhage({ iph: false, sah: false })).toBe(false);
    expect(marksHemorrhage(null)).toBe(false);
  });

  it("opens on the asked-for slice, else the first in question, else the middle", () => {
    expect(firstSlice([row(7), row(9)], 30, 3)).toBe(3);
    expect(firstSlice([row(7), row(9)], 30, 30)).toBe(7);
    expect(firstSlice([row(7)], 30)).toBe(7);
    expect(firstSlice([], 30, null)).toBe(15);
  });
});

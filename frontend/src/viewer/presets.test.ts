import { describe, expect, it } from "vitest";

import { loadPresets, voiRange, windowOf } from "./presets";

function page(json: string | null): Document {
  const element = json === null ? null : { textContent: json };
  return { getElementById: () => element } as unknown as Document;
}

describe("loadPresets", () => {
  it("takes the site's presets from the page", () => {
    const presets = loadPresets(page('[{"key": "K", "name": "Stroke", "center": 35, "width": 40}]'));
    expect(presets).toEqual([{ key: "k", name: "Stroke", center: 35, width: 40 }]);
  });

  it("drops malformed entries and falls back to the defaults when none is left", () => {
    expect(loadPresets(page('[{"key": "k", "name": "x", "center": 1, "width": -5}]'))[0]?.key).toBe("q");
    expect(loadPresets(page("not json"))[0]).toMatchObject({ center: 50, width: 100 });
    expect(loadPresets(page(null))).toHaveLength(6);
  });

  it("ignores presets on the reader's own keys and a key's second preset", () => {
    const presets = loadPresets(
      page(
        '[{"key": "D", "name": "x", "center": 1, "width": 5}, {"key": "k", "name": "A", "center": 1, "width": 5},' +
          ' {"key": "K", "name": "B", "center": 2, "width": 5}]',
      ),
    );
    expect(presets.map((p) => p.name)).toEqual(["A"]);
  });
});

describe("voiRange", () => {
  it("follows DICOM's linear window, and windowOf undoes it", () => {
    expect(voiRange({ center: 40, width: 80 })).toEqual({ lower: 0, upper: 79 });
    expect(windowOf(voiRange({ center: 600, width: 2800 }))).toEqual({ center: 600, width: 2800 });
  });
});

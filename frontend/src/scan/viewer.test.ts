import { describe, expect, it } from "vitest";
import { choiceFrom } from "./viewer";

describe("choiceFrom", () => {
  it("opens on the linked model, class, method and slice with the overlay on", () => {
    const query = new URLSearchParams("model=4&class=iph&method=gradcam&slice=7");
    expect(choiceFrom(query, 30)).toEqual({ choice: { model: 4, cls: "iph", method: "gradcam", on: true }, slice: 7 });
  });

  it("ignores what it does not know and starts mid-scan with the overlay off", () => {
    const query = new URLSearchParams("model=x&class=blood&method=cam&slice=99");
    expect(choiceFrom(query, 30)).toEqual({ choice: {}, slice: 15 });
    expect(choiceFrom(new URLSearchParams(""), 1)).toEqual({ choice: {}, slice: 0 });
  });
});

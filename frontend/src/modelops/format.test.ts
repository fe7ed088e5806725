import { describe, expect, it } from "vitest";

import type { HistoryEntry, StepLoss } from "./api";
import { parseValue } from "./config-form";
import { counter, fieldLabel, historyAxis, historyCell, historyColumns, numericHistoryKeys, percent, smoothed, stepSeries } from "./format";

describe("percent", () => {
  it("shows one decimal and a dash where undefined", () => {
    expect(percent(0.98345)).toBe("98.3%");
    expect(percent(1)).toBe("100.0%");
    expect(percent(null)).toBe("—");
    expect(percent(Number.NaN)).toBe("—");
    expect(percent("0.5")).toBe("—");
  });
});

describe("run counters and history", () => {
  const history: HistoryEntry[] = [
    { stage: "cnn", epoch: 1, loss: 0.61234, lr: 0.001, val_auroc_any: null },
    { stage: "sequence", epoch: 1, loss: 0.4, val_loss: 0.45, val_auroc_any: 0.91, note: "resumed" },
  ];

  it("counts epochs and steps once their total is known", () => {
    expect(counter(2, 4)).toBe("2 / 4");
    expect(counter(0, 0)).toBe("—");
  });

  it("lists stage and epoch first, then every key in order of appearance", () => {
    expect(historyColumns(history)).toEqual(["stage", "epoch", "loss", "lr", "val_auroc_any", "val_loss", "note"]);
    expect(numericHistoryKeys(history)).toEqual(["loss", "lr", "val_auroc_any", "val_loss"]);
  });

  it("formats cells to four significant digits", () => {
    expect(historyCell(0.61234)).toBe("0.6123");
    expect(historyCell(0.001)).toBe("0.001");
    expect(historyCell(null)).toBe("—");
    expect(historyCell("cnn")).toBe("cnn");
  });

  it("puts each key on the axis of its kind", () => {
    expect(historyAxis("val_loss")).toBe("loss");
    expect(historyAxis("val_auroc_any")).toBe("figure");
    expect(historyAxis("lr")).toBe("lr");
    expect(historyAxis("seconds")).toBe("other");
  });
});

describe("step losses", () => {
  it("numbers logged steps across stages and smooths them", () => {
    const points: StepLoss[] = [
      ["cnn", 1, 1, 1],
      ["cnn", 1, 2, 0],
      ["sequence", 1, 1, 0.5],
    ];
    const series = stepSeries(points);
    expect(series.get("cnn")).toEqual([{ x: 1, y: 1 }, { x: 2, y: 0 }]);
    expect(series.get("sequence")).toEqual([{ x: 3, y: 0.5 }]);
    expect(smoothed(series.get("cnn")!, 0.5)).toEqual([{ x: 1, y: 1 }, { x: 2, y: 0.5 }]);
  });
});

describe("configuration values", () => {
  it("reads numbers, checkboxes and text, and refuses a number that is none", () => {
    expect(parseValue("number", " 0.001 ")).toBe(0.001);
    expect(parseValue("number", "")).toEqual({ error: "needs a number" });
    expect(parseValue("number", "abc")).toEqual({ error: "needs a number" });
    expect(parseValue("boolean", "on", false)).toBe(false);
    expect(parseValue("choice", "lstm")).toBe("lstm");
    expect(fieldLabel("learning_rate")).toBe("Learning rate");
    expect(fieldLabel("rnn_units")).toBe("RNN units");
    expect(fieldLabel("lr_decay")).toBe("LR decay");
  });
});

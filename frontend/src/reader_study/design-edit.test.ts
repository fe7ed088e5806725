import { describe, expect, it } from "vitest";
import { changedFields, designValues } from "./list";

/** A coordinator's study detail as the API answers it (the fields the form reads). */
const DETAIL = {
  id: 4,
  name: "Does the model help?",
  description: "Four cases.",
  ground_truth_version: { id: 7, name: "gt-study" },
  split: "",
  case_count: 4,
  model_version: { id: 3, name: "m-study" },
  washout_days: 0,
  seed: 5,
  primary_endpoint: "AUC, aided vs unaided",
  modalities: ["aided_scores", "unaided"],
  readers: 2,
  progress: [
    { reader: 12, username: "neuro2", sessions: [] },
    { reader: 11, username: "neuro1", sessions: [] },
  ],
};

describe("the design form's prefill", () => {
  it("takes ids of referenced objects, the readers from the progress and unaided first", () => {
    expect(designValues(DETAIL)).toEqual({
      name: "Does the model help?",
      description: "Four cases.",
      ground_truth_version: "7",
      split: "",
      case_count: "4",
      model_version: "3",
      washout_days: "0",
      seed: "5",
      primary_endpoint: "AUC, aided vs unaided",
      readers: ["12", "11"],
      modalities: ["unaided", "aided_scores"],
    });
  });

  it("leaves a study without a model version or seed empty there", () => {
    const values = designValues({ ...DETAIL, model_version: null, seed: null, modalities: ["unaided", "aided_saliency"] });
    expect(values["model_version"]).toBe("");
    expect(values["seed"]).toBe("");
    expect(values["modalities"]).toEqual(["unaided", "aided_saliency"]);
  });
});

describe("the PATCH body", () => {
  const before = {
    name: "Does the model help?",
    description: "Four cases.",
    ground_truth_version: 7,
    case_count: 4,
    readers: [11, 12],
    modalities: ["unaided", "aided_scores"],
    washout_days: 0,
    seed: 5,
    split: "",
    model_version: 3,
    primary_endpoint: "AUC",
  };

  it("holds only the fields that changed", () => {
    expect(changedFields(before, { ...before, description: "Edited.", washout_days: 14 })).toEqual({ description: "Edited.", washout_days: 14 });
    expect(changedFields(before, { ...before })).toEqual({});
  });

  it("sends lists whole when one entry changed, and a cleared model or split", () => {
    const after = { ...before, readers: [11], modalities: ["unaided", "aided_scores", "aided_saliency"], model_version: null, split: "test" };
    expect(changedFields(before, after)).toEqual({
      readers: [11],
      modalities: ["unaided", "aided_scores", "aided_saliency"],
      model_version: null,
      split: "test",
    });
  });

  it("never sends a field the form no longer holds (a seed cannot be unset)", () => {
    const { seed: _seed, ...after } = before;
    expect(changedFields(before, after)).toEqual({});
  });
});

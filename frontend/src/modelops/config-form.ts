/**
 * The training configuration's fields as form controls, built from GET training-config/: a
 * select for fields with fixed choices, a checkbox for true/false, a number or text input
 * otherwise, each set to its default. The server validates ranges and names the field it refuses.
 */
import { el } from "../coordination/html";
import { fieldLabel } from "./format";
import type { ConfigValue, TrainingConfig, TrainingConfigSchema } from "./api";

export type FieldKind = "choice" | "boolean" | "number" | "text";

/** What the paper and the trainer mean by the less obvious fields. */
const HINTS: Record<string, string> = {
  backbone: "small trains on a CPU; inception_resnet_v2 is the paper's",
  image_size: "follows the chosen snapshot",
  mode: "two_stage: CNN first, then the sequence model",
  epochs: "sequence-stage epochs (all epochs end to end)",
  cnn_epochs: "stage one of two_stage",
  batch_size: "slices per batch in stage one",
  scans_per_batch: "scans per batch in the sequence stage",
  learning_rate: "Adam, in (0, 1]",
  lr_decay: "per epoch, exponential, in (0, 1]",
  max_slices: "longer scans are centre-cropped along z",
  threshold_criterion: "how each class's threshold is chosen on validation",
  target_sensitivity: "for the target-sensitivity criterion only",
  seed: "for reproducible runs",
};

export function fieldKind(name: string, schema: TrainingConfigSchema): FieldKind {
  if (schema.choices[name]) return "choice";
  const value = schema.defaults[name];
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return "number";
  return "text";
}

/** The controls of every field, in the schema's order, set to their defaults. */
export function configControls(schema: TrainingConfigSchema): HTMLElement[] {
  return schema.fields.map((name) => {
    const kind = fieldKind(name, schema);
    const value = schema.defaults[name];
    const hint = HINTS[name] ? el("span", { class: "hint" }, HINTS[name]) : null;
    const id = `config-${name}`;
    if (kind === "boolean") {
      return el(
        "label",
        { class: "check", for: id },
        el("input", { type: "checkbox", id, name, "data-config": "boolean", checked: value === true }),
        fieldLabel(name),
        hint,
      );
    }
    if (kind === "choice") {
      const select = el("select", { id, name, "data-config": "choice" });
      for (const choice of schema.choices[name] ?? []) select.append(el("option", { value: choice, selected: choice === value }, choice));
      return el("label", { for: id }, fieldLabel(name), select, hint);
    }
    const input =
      kind === "number"
        ? el("input", { type: "number", id, name, step: "any", value: String(value), "data-config": "number", required: true })
        : el("input", { type: "text", id, name, value: String(value ?? ""), "data-config": "text" });
    return el("label", { for: id }, fieldLabel(name), input, hint);
  });
}

/** Put every control back to its default. */
export function resetControls(root: HTMLElement, schema: TrainingConfigSchema): void {
  for (const control of root.querySelectorAll<HTMLInputElement | HTMLSelectElement>("[data-config]")) {
    const value = schema.defaults[control.name];
    if (control instanceof HTMLInputElement && control.type === "checkbox") control.checked = value === true;
    else control.value = String(value ?? "");
  }
}

/** A control's text as a configuration value; an error message when a number is not one. */
export function parseValue(kind: string, text: string, checked = false): ConfigValue | { error: string } {
  if (kind === "boolean") return checked;
  if (kind === "number") {
    const trimmed = text.trim();
    const number = Number(trimmed);
    if (trimmed === "" || !Number.isFinite(number)) return { error: "needs a number" };
    return number;
  }
  return text;
}

/** The configuration the form holds, or the first field that holds no valid value. */
export function readConfig(root: HTMLElement): { config: TrainingConfig } | { field: string; error: string } {
  const config: TrainingConfig = {};
  for (const control of root.querySelectorAll<HTMLInputElement | HTMLSelectElement>("[data-config]")) {
    const kind = control.dataset["config"] ?? "text";
    const checked = control instanceof HTMLInputElement && control.checked;
    const value = parseValue(kind, control.value, checked);
    if (typeof value === "object") return { field: control.name, error: `${control.name} ${value.error}` };
    config[control.name] = value;
  }
  return { config };
}

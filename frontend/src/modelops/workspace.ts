/**
 * The ML workspace (/models/): ask for a dataset snapshot, start a training run with a complete
 * configuration, follow snapshots and runs while they are active, and compare model versions.
 * The tables are rendered by the server; this script re-fetches them while anything is active.
 */
import { askToConfirm } from "../confirm";
import { byId, setFormDisabled, showMessage } from "../dom";
import { el, messageOf, numberField, refreshSections, textField } from "../coordination/html";
import { groundTruthVersions, runStart, snapshotCancel, snapshotRequest, trainingConfig, type TrainingConfigSchema } from "./api";
import { configControls, readConfig, resetControls } from "./config-form";

const REFRESH_MS = 3000;
/** What a fine-tuning run takes from its starting model (the server checks these, and the
 * image size, which follows the snapshot). */
const ARCHITECTURE_FIELDS = ["backbone", "rnn", "rnn_units", "attention_units"];

export function initWorkspace(root: HTMLElement): void {
  if (root.dataset["mayAct"] === "true") {
    initSnapshotForm(root);
    initSnapshotCancel(root);
    initRunForm(root);
  }
  initCompare(root);
  initRefresh(root);
}

function initSnapshotForm(root: HTMLElement): void {
  const form = byId<HTMLFormElement>("snapshot-form");
  const message = byId("snapshot-message");
  const select = form.elements.namedItem("ground_truth") as HTMLSelectElement;
  const submit = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
  void groundTruthVersions(root.dataset["groundTruthUrl"] ?? "")
    .then((page) => {
      const sealed = page.results.filter((version) => version.content_sha256);
      select.replaceChildren(
        ...sealed.map((version) =>
          el(
            "option",
            { value: version.id },
            `${version.name} — ${version.scan_count} scans, ${version.slice_count} slices, ${version.content_sha256.slice(0, 8)}${version.released ? ", released" : ""}`,
          ),
        ),
      );
      if (!sealed.length) {
        select.append(el("option", { value: "" }, "No frozen ground-truth version yet"));
        submit.disabled = true;
        showMessage(message, "A coordinator freezes ground truth on the Ground truth page; snapshots are made from a frozen version.");
      }
    })
    .catch((error: unknown) => showMessage(message, `Could not list ground-truth versions: ${messageOf(error)}`, "error"));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const groundTruth = numberField(form, "ground_truth");
    const imageSize = numberField(form, "image_size");
    const sliceMm = numberField(form, "slice_mm");
    if (groundTruth === undefined) return showMessage(message, "Choose a frozen ground-truth version.", "error");
    if (imageSize === undefined || sliceMm === undefined) return showMessage(message, "Image size and slice thickness need numbers.", "error");
    setFormDisabled(form, true);
    showMessage(message, "Asking for the snapshot…");
    void snapshotRequest(root.dataset["snapshotsUrl"] ?? "", {
      ground_truth: groundTruth,
      image_size: imageSize,
      slice_mm: sliceMm,
      name: textField(form, "name").trim(),
    })
      .then(async ({ snapshot, created }) => {
        await refreshTables(root, ["snapshots", "run-snapshot"]);
        if (created) {
          (form.elements.namedItem("name") as HTMLInputElement).value = "";
          showMessage(message, `Snapshot ${snapshot.name} is queued: it is built by a worker; its progress shows in the table.`);
        } else {
          showMessage(message, `This snapshot exists already: ${snapshot.name} (${snapshot.status}), the same ground truth at ${snapshot.image_size} px and ${snapshot.slice_mm} mm.`);
        }
        highlight(document.querySelector<HTMLElement>(`#snapshots-table tr[data-snapshot="${snapshot.id}"]`));
      })
      .catch((error: unknown) => showMessage(message, messageOf(error), "error"))
      .finally(() => setFormDisabled(form, false));
  });
}

/** "Cancel build" in the snapshots table (re-rendered on refresh: delegated to the page). */
function initSnapshotCancel(root: HTMLElement): void {
  const message = byId("snapshot-message");
  root.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button.snapshot-cancel");
    if (!button || !askToConfirm(`Cancel the build of ${button.dataset["name"] ?? "this snapshot"}? Nothing it wrote is kept.`)) return;
    button.disabled = true;
    void snapshotCancel(button.dataset["url"] ?? "")
      .then(async (snapshot) => {
        showMessage(message, snapshot.status === "canceled" ? `Snapshot ${snapshot.name}: canceled.` : `Snapshot ${snapshot.name}: cancel requested; the build stops after its current scan.`);
        await refreshTables(root, ["snapshots", "run-snapshot"]);
      })
      .catch((error: unknown) => {
        showMessage(message, messageOf(error), "error");
        button.disabled = false;
      });
  });
}

function initRunForm(root: HTMLElement): void {
  const form = byId<HTMLFormElement>("run-form");
  const fieldset = byId<HTMLFieldSetElement>("config-fields");
  const message = byId("run-message");
  let schema: TrainingConfigSchema | null = null;

  const followSnapshot = (): void => {
    const select = document.getElementById("run-snapshot") as HTMLSelectElement | null;
    const size = select?.selectedOptions[0]?.dataset["imageSize"];
    const input = fieldset.querySelector<HTMLInputElement>("input[name=image_size]");
    if (input && size) input.value = size;
  };

  void trainingConfig(root.dataset["configUrl"] ?? "")
    .then((loaded) => {
      schema = loaded;
      fieldset.replaceChildren(el("legend", {}, "Configuration"), el("div", { class: "form-grid" }, ...configControls(loaded)));
      const size = fieldset.querySelector<HTMLInputElement>("input[name=image_size]");
      if (size) size.readOnly = true;
      followSnapshot();
      form.dataset["ready"] = "true";
    })
    .catch((error: unknown) => showMessage(message, `Could not load the training configuration: ${messageOf(error)}`, "error"));

  // Fine-tuning starts from a model's weights: its architecture fields and end-to-end mode.
  const followInitialModel = (): void => {
    const option = byId<HTMLSelectElement>("run-initial-model").selectedOptions[0];
    if (!option?.value) return;
    const config = JSON.parse(option.dataset["config"] ?? "{}") as Record<string, unknown>;
    for (const name of [...ARCHITECTURE_FIELDS, "max_slices"]) {
      const control = fieldset.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`);
      if (control && name in config) control.value = String(config[name]);
    }
    const mode = fieldset.querySelector<HTMLSelectElement>("[name=mode]");
    if (mode) mode.value = "end_to_end";
  };

  // The snapshot select is re-rendered when snapshots change: listen on the form.
  form.addEventListener("change", (event) => {
    const id = (event.target as HTMLElement).id;
    if (id === "run-snapshot") followSnapshot();
    if (id === "run-initial-model") followInitialModel();
  });
  byId("config-reset").addEventListener("click", () => {
    if (!schema) return;
    resetControls(fieldset, schema);
    followSnapshot();
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!schema) return showMessage(message, "The training configuration is still loading.", "error");
    const snapshot = numberField(form, "snapshot");
    if (snapshot === undefined) return showMessage(message, "Choose a snapshot that finished building.", "error");
    const read = readConfig(fieldset);
    if ("error" in read) {
      showMessage(message, read.error, "error");
      fieldset.querySelector<HTMLElement>(`[name="${read.field}"]`)?.focus();
      return;
    }
    setFormDisabled(form, true);
    showMessage(message, "Starting the run…");
    void runStart(root.dataset["runsUrl"] ?? "", {
      snapshot,
      name: textField(form, "name").trim(),
      config: read.config,
      initial_model: numberField(form, "initial_model") ?? null,
    })
      .then((run) => {
        showMessage(message, `Run ${run.name} is queued; opening it…`);
        window.location.assign((root.dataset["runPage"] ?? "").replace("00000000-0000-0000-0000-000000000000", run.id));
      })
      .catch((error: unknown) => {
        showMessage(message, messageOf(error), "error");
        setFormDisabled(form, false);
      });
  });
}

const chosenVersions = (root: HTMLElement): string[] =>
  Array.from(root.querySelectorAll<HTMLInputElement>("#versions-table input[name=ids]:checked")).map((box) => box.value);

function updateCompareButton(root: HTMLElement): void {
  const button = document.getElementById("compare-button") as HTMLButtonElement | null;
  const hint = document.getElementById("compare-hint");
  const count = chosenVersions(root).length;
  if (button) button.disabled = count < 2;
  if (hint) hint.textContent = count < 2 ? "Choose two or more versions." : `${count} versions chosen.`;
}

function initCompare(root: HTMLElement): void {
  root.addEventListener("change", (event) => {
    if ((event.target as HTMLInputElement).name === "ids") updateCompareButton(root);
  });
  root.addEventListener("submit", (event) => {
    if ((event.target as HTMLElement).id !== "compare-form") return;
    event.preventDefault();
    const ids = chosenVersions(root);
    if (ids.length < 2) return;
    window.location.assign(`${root.dataset["compareUrl"] ?? ""}?ids=${ids.join(",")}`);
  });
  updateCompareButton(root);
}

/** Re-fetch the tables while a snapshot builds or a run is active; the versions table too when
 * a run ends (a succeeded run registers a model). */
function initRefresh(root: HTMLElement): void {
  const note = byId("refresh-note");
  const active = (): boolean =>
    document.getElementById("snapshots")?.dataset["active"] === "true" || document.getElementById("runs")?.dataset["active"] === "true";
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy || document.hidden || !active()) return;
    busy = true;
    try {
      const runsBefore = document.getElementById("runs")?.dataset["active"];
      await refreshTables(root, ["snapshots", "runs", "run-snapshot"]);
      if (runsBefore === "true" && document.getElementById("runs")?.dataset["active"] !== "true") {
        await refreshTables(root, ["versions-table"]);
      }
      note.textContent = active() ? `Refreshing every ${REFRESH_MS / 1000} s while a snapshot builds or a run is active.` : "";
      note.classList.remove("error");
    } catch (error) {
      showMessage(note, messageOf(error), "error");
    } finally {
      busy = false;
    }
  };
  if (active()) note.textContent = `Refreshing every ${REFRESH_MS / 1000} s while a snapshot builds or a run is active.`;
  window.setInterval(() => void tick(), REFRESH_MS);
}

/** refreshSections, keeping what the user chose in the re-rendered selects and checkboxes. */
async function refreshTables(root: HTMLElement, ids: string[]): Promise<void> {
  const snapshot = (document.getElementById("run-snapshot") as HTMLSelectElement | null)?.value;
  const checked = new Set(Array.from(root.querySelectorAll<HTMLInputElement>("input[name=ids]:checked")).map((box) => box.value));
  await refreshSections(ids);
  const select = document.getElementById("run-snapshot") as HTMLSelectElement | null;
  if (select && snapshot && Array.from(select.options).some((option) => option.value === snapshot)) select.value = snapshot;
  for (const box of root.querySelectorAll<HTMLInputElement>("input[name=ids]")) box.checked = checked.has(box.value);
  const submit = document.getElementById("run-submit") as HTMLButtonElement | null;
  if (submit && select && !submit.form?.hasAttribute("aria-busy")) submit.disabled = !select.value;
  updateCompareButton(root);
}

function highlight(row: HTMLElement | null): void {
  if (!row) return;
  row.classList.add("highlight");
  row.scrollIntoView({ block: "nearest" });
  window.setTimeout(() => row.classList.remove("highlight"), 4000);
}

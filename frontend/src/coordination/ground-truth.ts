/**
 * The ground-truth page: freeze a version (the server's 409 says when nothing is final yet),
 * release one after a confirmation that states who will see what (the server's numbers), and
 * compare two versions.
 */
import {
  groundTruthCompare,
  groundTruthFreeze,
  groundTruthRelease,
  groundTruthReleaseConsequences,
  type GroundTruthComparison,
  type LevelDiff,
} from "../api/coordination";
import { confirmDialog } from "../confirm";
import { byId, setFormDisabled, showMessage } from "../dom";
import { HEMORRHAGE_CLASSES } from "../generated/vocabulary";
import { changesByClass, comparisonHeadline, rowChanges } from "./compare";
import { releaseLines } from "./release";
import { el, messageOf, numberField, plural, refreshSections, textField } from "./html";

const VERSION_SECTIONS = ["versions", "compare-form"];

export function initGroundTruth(root: HTMLElement): void {
  initFreeze(root);
  initRelease();
  initCompare(root);
}

function initFreeze(root: HTMLElement): void {
  const form = byId<HTMLFormElement>("freeze-form");
  const message = byId("freeze-message");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = textField(form, "name").trim();
    setFormDisabled(form, true);
    showMessage(message, "Freezing…");
    void groundTruthFreeze(root.dataset["freezeUrl"] ?? "", name, textField(form, "note"))
      .then(async (version) => {
        form.reset();
        const pending = version.pending_scan_count
          ? ` ${version.pending_scan_count} scan${version.pending_scan_count === 1 ? " is" : "s are"} still being read and left out.`
          : "";
        showMessage(message, `Frozen ${version.name}: ${plural(version.scan_count, "scan")}, ${plural(version.slice_count, "slice")}, hash ${version.content_sha256.slice(0, 12)}.${pending}`);
        await refreshSections(VERSION_SECTIONS);
      })
      .catch((error: unknown) => showMessage(message, messageOf(error), "error"))
      .finally(() => setFormDisabled(form, false));
  });
}

function initRelease(): void {
  let versionUrl: string | null = null;
  const dialog = byId<HTMLDialogElement>("release-dialog");
  const confirm = byId<HTMLButtonElement>("release-confirm");
  const list = byId("release-consequences");
  const open = confirmDialog(dialog, {
    message: byId("release-message"),
    action: async () => {
      if (versionUrl === null) return;
      await groundTruthRelease(versionUrl);
      await refreshSections(VERSION_SECTIONS);
    },
  });

  document.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action=release]");
    const row = button?.closest<HTMLTableRowElement>("tr[data-version]");
    if (!row || !button) return;
    const url = row.dataset["url"] ?? "";
    versionUrl = url;
    byId("release-name").textContent = row.dataset["name"] ?? "";
    // The dialog states the server's numbers: ask for them before it opens.
    button.disabled = true;
    void groundTruthReleaseConsequences(url)
      .then((consequences) => {
        if (versionUrl !== url) return;
        list.replaceChildren(...releaseLines(consequences).map((line) => el("li", {}, line)));
        confirm.disabled = consequences.refusal !== "";
        open();
        if (consequences.refusal) showMessage(byId("release-message"), consequences.refusal, "error");
      })
      .catch((error: unknown) => showMessage(byId("freeze-message"), messageOf(error), "error"))
      .finally(() => (button.disabled = false));
  });
}

function initCompare(root: HTMLElement): void {
  const result = byId("compare-result");
  // The form is re-rendered after a freeze: listen on the page.
  root.addEventListener("submit", (event) => {
    const form = event.target as HTMLFormElement;
    if (form.id !== "compare-form") return;
    event.preventDefault();
    const a = numberField(form, "a");
    const b = numberField(form, "b");
    if (a === undefined || b === undefined) return;
    result.replaceChildren(el("p", { class: "muted" }, "Comparing…"));
    void groundTruthCompare(root.dataset["compareUrl"] ?? "", a, b)
      .then((comparison) => {
        renderComparison(result, comparison);
        const changes = root.dataset["changesUrl"];
        if (changes) {
          result.prepend(el("p", {}, el("a", { id: "compare-changes-link", href: `${changes}?a=${a}&b=${b}` },
            "Scan by scan, with why each changed →")));
        }
      })
      .catch((error: unknown) => result.replaceChildren(el("p", { class: "error", role: "alert" }, messageOf(error))));
  });
}

function renderComparison(container: HTMLElement, comparison: GroundTruthComparison): void {
  const summary = el("table", { id: "compare-summary" },
    el("thead", {}, el("tr", {}, el("th", {}, "Class"), el("th", { class: "num" }, "Slices changed"), el("th", { class: "num" }, "Scans changed"))),
    el("tbody", {}, ...changesByClass(comparison).map((change) =>
      el("tr", { "data-class": change.label }, el("td", {}, change.label.toUpperCase()),
        el("td", { class: "num" }, change.slices), el("td", { class: "num" }, change.scans)))));
  const counts = (level: LevelDiff, what: string) =>
    `${what}: ${level.in_both} in both, ${level.changed} changed, ${level.only_in_a} only in ${comparison.a.name}, ${level.only_in_b} only in ${comparison.b.name}`;
  container.replaceChildren(
    el("p", { id: "compare-headline" }, comparisonHeadline(comparison)),
    el("p", { class: "muted" }, counts(comparison.scans, "Scans"), el("br"), counts(comparison.slices, "Slices")),
    summary,
    changedRows("Changed scans", comparison.scans),
    changedRows("Changed slices", comparison.slices),
  );
}

function changedRows(title: string, level: LevelDiff): HTMLElement {
  if (!level.changed_rows.length) return el("span");
  const rows = level.changed_rows.map((row) =>
    el("tr", {}, el("td", { class: "num" }, row.scan), el("td", { class: "num" }, row.slice_index === null ? "—" : row.slice_index + 1),
      ...HEMORRHAGE_CLASSES.map((label) => el("td", { class: row.a[label] === row.b[label] ? "muted" : "changed" },
        `${row.a[label] ? "1" : "0"}→${row.b[label] ? "1" : "0"}`)),
      el("td", {}, rowChanges(row).join(", "))));
  const more = level.changed > level.changed_rows.length ? el("p", { class: "muted" }, `First ${level.changed_rows.length} of ${level.changed}.`) : null;
  return el("section", {},
    el("h3", {}, title),
    el("table", { class: "changed-rows" },
      el("thead", {}, el("tr", {}, el("th", { class: "num" }, "Scan"), el("th", { class: "num" }, "Slice"),
        ...HEMORRHAGE_CLASSES.map((label) => el("th", {}, label.toUpperCase())), el("th", {}, "Change"))),
      el("tbody", {}, ...rows)),
    more);
}

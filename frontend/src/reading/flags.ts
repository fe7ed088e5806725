/**
 * Scan flags (post-operative, artifact, mass lesion, other) and a note, saved with the read's
 * version; on a 409 the form reloads the server's flags and tells the reader (or, when the read
 * was completed or withdrawn meanwhile, hands over to `onClosed`). Read-only on a finished read.
 */
import { ApiError } from "../api/client";
import { flagsSet, readClosedStatus, readGet, type Read, type ReadFlags } from "../api/reads";
import { showMessage } from "../dom";

const FLAGS: { name: keyof ReadFlags; label: string }[] = [
  { name: "postoperative", label: "Post-operative" },
  { name: "artifact", label: "Artifact" },
  { name: "mass_lesion", label: "Mass lesion" },
  { name: "other", label: "Other" },
];

const NOTE_DEBOUNCE_MS = 800;

export class FlagsForm {
  readonly element: HTMLFormElement;
  private readonly boxes = new Map<keyof ReadFlags, HTMLInputElement>();
  private readonly note: HTMLTextAreaElement;
  private readonly status: HTMLElement;
  private version: number;
  private saving: Promise<void> = Promise.resolve();
  private noteTimer: ReturnType<typeof setTimeout> | null = null;
  private pending = 0;
  private readOnly = false;

  constructor(
    read: Read,
    private readonly flagsUrl: string,
    private readonly readUrl: string,
    private readonly onClosed: (error: ApiError) => void = () => {},
    private readonly onSaved: () => void = () => {},
  ) {
    this.version = read.version;
    this.element = document.createElement("form");
    this.element.id = "scan-flags";
    this.element.className = "scan-flags";
    this.element.addEventListener("submit", (event) => event.preventDefault());
    const legend = document.createElement("h3");
    legend.textContent = "Scan flags";
    this.element.append(legend);
    for (const flag of FLAGS) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = flag.name;
      box.addEventListener("change", () => this.save());
      label.append(box, ` ${flag.label}`);
      this.boxes.set(flag.name, box);
      this.element.append(label);
    }
    const noteLabel = document.createElement("label");
    noteLabel.textContent = "Note";
    this.note = document.createElement("textarea");
    this.note.name = "note";
    this.note.rows = 3;
    this.note.maxLength = 2000;
    this.note.addEventListener("input", () => {
      if (this.noteTimer) clearTimeout(this.noteTimer);
      this.noteTimer = setTimeout(() => this.save(), NOTE_DEBOUNCE_MS);
    });
    noteLabel.append(this.note);
    this.status = document.createElement("p");
    this.status.className = "flags-status";
    this.element.append(noteLabel, this.status);
    this.fill(read);
  }

  private fill(read: Read): void {
    for (const [name, box] of this.boxes) box.checked = Boolean(read.flags[name]);
    this.note.value = read.note ?? "";
    this.version = read.version;
  }

  private values(): ReadFlags {
    const get = (name: keyof ReadFlags): boolean => this.boxes.get(name)?.checked ?? false;
    return { postoperative: get("postoperative"), artifact: get("artifact"), mass_lesion: get("mass_lesion"), other: get("other") };
  }

  /** Show the flags and note without letting them change (a finished read). */
  setReadOnly(): void {
    this.readOnly = true;
    if (this.noteTimer) clearTimeout(this.noteTimer);
    this.noteTimer = null;
    for (const box of this.boxes.values()) box.disabled = true;
    this.note.readOnly = true;
    this.element.classList.add("read-only");
  }

  /** Take flags saved elsewhere (another tab) when newer, unless this form has a save in
   * flight or a note being typed: then its own save's 409 reconciles them. */
  merge(read: Read): void {
    if (read.version <= this.version || this.pending || this.noteTimer) return;
    if (document.activeElement === this.note) return;
    this.fill(read);
  }

  /** Save the form (after any save in flight, so each one names the latest version). */
  save(): Promise<void> {
    if (this.readOnly) return Promise.resolve();
    if (this.noteTimer) clearTimeout(this.noteTimer);
    this.noteTimer = null;
    this.pending++;
    this.saving = this.saving.then(() => this.saveNow()).finally(() => this.pending--);
    return this.saving;
  }

  private async saveNow(): Promise<void> {
    if (this.readOnly) return;
    showMessage(this.status, "Saving flags…");
    try {
      const read = await flagsSet(this.flagsUrl, this.values(), this.note.value, this.version);
      this.version = read.version;
      showMessage(this.status, "Flags saved");
      this.onSaved();
    } catch (error) {
      if (readClosedStatus(error)) {
        showMessage(this.status, "Flags not saved: the read takes no more changes.", "error");
        this.onClosed(error as ApiError);
      } else if (error instanceof ApiError && error.status === 409) {
        try {
          this.fill(await readGet(this.readUrl));
          showMessage(this.status, "The flags were changed elsewhere; the current ones are shown, check them.", "error");
        } catch (reload) {
          showMessage(this.status, `Could not reload the flags: ${(reload as Error).message}`, "error");
        }
      } else {
        showMessage(this.status, `Flags not saved: ${(error as Error).message}`, "error");
      }
    }
  }
}

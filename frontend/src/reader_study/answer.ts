/** The answer being given to one case: any ICH, the subtypes (only with any ICH), and the
 * confidence (0-100) that the scan holds ICH; what is missing before it can be sent. */
import { CLASS_NAMES, SUBTYPES, type Subtype } from "../generated/vocabulary";
import type { AnswerBody } from "./api";

export class AnswerDraft {
  any: boolean | null = null;
  readonly subtypes = new Set<Subtype>();
  confidence: number | null = null;

  setAny(value: boolean): void {
    this.any = value;
    if (!value) this.subtypes.clear();
  }

  /** Toggle a subtype; a subtype implies "yes". */
  toggleSubtype(subtype: Subtype): void {
    if (this.subtypes.has(subtype)) {
      this.subtypes.delete(subtype);
      return;
    }
    this.any = true;
    this.subtypes.add(subtype);
  }

  setConfidence(value: number): void {
    if (!Number.isFinite(value)) return;
    this.confidence = Math.min(100, Math.max(0, Math.round(value)));
  }

  /** What keeps the answer from being sent, in words (none: it can be). */
  missing(): string[] {
    const missing: string[] = [];
    if (this.any === null) missing.push("answer whether the scan holds any hemorrhage (Y / N)");
    if (this.confidence === null) missing.push("set your confidence ([ and ], or the slider)");
    return missing;
  }

  /** The API's body: subtypes by their short names (IPH, ...), all false without ICH. */
  body(activeSeconds: number): AnswerBody {
    if (this.any === null || this.confidence === null) throw new Error("The answer is not complete");
    const subtypes = Object.fromEntries(SUBTYPES.map((s) => [CLASS_NAMES[s], this.any === true && this.subtypes.has(s)]));
    return {
      any_ich: this.any,
      subtypes,
      confidence: this.confidence,
      active_time_s: Math.max(0, Math.round(activeSeconds * 10) / 10),
    };
  }
}

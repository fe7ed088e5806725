/**
 * What the release confirmation of a ground-truth version says, from the server's numbers
 * (`groundTruthReleaseConsequences`): which readers will see what, and what does not change.
 */
import type { ReleaseConsequences } from "../api/coordination";
import { plural } from "./html";

export function releaseLines(release: ReleaseConsequences): string[] {
  const lines = [`${release.name} holds ${plural(release.scans, "scan")} (${plural(release.slices, "slice")}).`];
  lines.push(
    release.readers
      ? `${plural(release.readers, "neuroradiologist")} will see its ground truth, each only for the scans they completed a read of ` +
          `(${plural(release.reader_scans, "scan read")} in all), never other readers' labels.`
      : "No neuroradiologist has completed a read of its scans: no reader sees anything yet.",
  );
  if (release.scans_still_read) {
    lines.push(
      `${plural(release.scans_still_read, "scan")} of it ${release.scans_still_read === 1 ? "is" : "are"} being read again: ` +
        "those readers see it once they complete their read.",
    );
  }
  lines.push("Training is not affected: ML engineers make datasets of any frozen version, released or not.");
  return lines;
}

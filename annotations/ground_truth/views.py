"""The coordinator's ground-truth page."""

from annotations.ground_truth.selectors import ground_truth_version_list
from annotations.models import JOB_EXPORT_KINDS
from annotations.pages import CoordinatorPage, render_page
from annotations.vocabulary import HEMORRHAGE_CLASSES

# What the export API serves for a frozen version: /api/v1/ground-truth/<id>/exports/<kind>/;
# the page builds the kinds in JOB_EXPORT_KINDS as jobs (/api/v1/ground-truth/<id>/export-jobs/).
GROUND_TRUTH_EXPORTS = (
    ("slices.csv", "Slice labels (CSV)"),
    ("rsna.csv", "RSNA 2019 layout (CSV)"),
    ("scans.csv", "Scan labels (CSV)"),
    ("reader-labels.csv", "Each reader's labels (CSV)"),
    ("sr.zip", "DICOM SR (zip)"),
)


def _positives(version, level: str) -> list[tuple[str, int]]:
    """(class, positive rows) at one level, from the counts stored when it was frozen."""
    positive = (version.counts or {}).get(level, {}).get("positive", {})
    return [(name, positive.get(name, 0)) for name in HEMORRHAGE_CLASSES]


class GroundTruthView(CoordinatorPage):
    """Frozen ground-truth versions: freeze, release, compare, and each version's exports."""

    def get(self, request):
        rows = [
            {"version": version, "positive_scans": _positives(version, "scans")}
            for version in ground_truth_version_list(user=request.user)
        ]
        context = {
            "versions": rows,
            "exports": GROUND_TRUTH_EXPORTS,
            "job_export_kinds": JOB_EXPORT_KINDS,
        }
        return render_page(request, "annotations/coordination/ground_truth.html", context)

"""The coordinator's ground-truth page, and what changed between two versions."""

from django.core.paginator import Paginator
from django.http import Http404
from django.views import View

from annotations.ground_truth.selectors import (
    SCAN_CHANGES,
    ground_truth_scan_changes,
    ground_truth_version_list,
)
from annotations.models import JOB_EXPORT_KINDS, Role
from annotations.pages import (
    CoordinatorPage,
    RoleRequiredMixin,
    query_choice,
    query_number,
    query_string,
    render_page,
)
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
        versions = list(ground_truth_version_list(user=request.user))
        # Each version links to what changed since the one frozen before it.
        rows = [
            {
                "version": version,
                "positive_scans": _positives(version, "scans"),
                "previous": versions[index + 1] if index + 1 < len(versions) else None,
            }
            for index, version in enumerate(versions)
        ]
        context = {
            "versions": rows,
            "exports": GROUND_TRUTH_EXPORTS,
            "job_export_kinds": JOB_EXPORT_KINDS,
        }
        return render_page(request, "annotations/coordination/ground_truth.html", context)


CHANGES_PAGE_SIZE = 50


class GroundTruthChangesView(RoleRequiredMixin, View):
    """What changed from one version to another, scan by scan, and why."""

    roles = (Role.COORDINATOR, Role.ML_ENGINEER)

    def get(self, request):
        versions = ground_truth_version_list(user=request.user)
        a_id, b_id = query_number(request.GET.get("a")), query_number(request.GET.get("b"))
        version_a = versions.filter(pk=a_id).first()
        version_b = versions.filter(pk=b_id).first()
        if version_a is None or version_b is None:
            raise Http404("Choose two frozen versions to compare.")
        change = query_choice(request.GET.get("change"), SCAN_CHANGES)
        number = max(query_number(request.GET.get("page")) or 1, 1)

        def changes_on(number: int) -> dict:
            return ground_truth_scan_changes(
                version_a=version_a,
                version_b=version_b,
                change=change,
                limit=CHANGES_PAGE_SIZE,
                offset=(number - 1) * CHANGES_PAGE_SIZE,
            )

        changes = changes_on(number)
        counts = changes["counts"]
        listed = counts[change] if change else counts["total"]
        # A paginator over the count only: the rows of this page came with the changes. A page
        # past the end shows the last one, as the paginator says, with that page's rows.
        page = Paginator(range(listed), CHANGES_PAGE_SIZE).get_page(number)
        if page.number != number:
            changes = changes_on(page.number)
        context = {
            "changes": changes,
            "version_a": version_a,
            "version_b": version_b,
            "versions": versions,
            "change": change,
            "change_kinds": SCAN_CHANGES,
            "classes": [(name, counts["by_class"][name]) for name in HEMORRHAGE_CLASSES],
            "page": page,
            "query": query_string({"a": version_a.pk, "b": version_b.pk, "change": change}),
        }
        return render_page(request, "annotations/coordination/ground_truth_changes.html", context)

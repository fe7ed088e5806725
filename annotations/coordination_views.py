"""Page shells of the coordinator's reading rounds: assignment (/study/reading/), the
adjudication queue (/study/adjudication/) and ground-truth versions (/study/ground-truth/).

The tables come from selectors and are rendered here; the page script
(build/coordination.js) previews, assigns, decides, freezes and compares through the API,
then re-renders the changed tables from these same views.
"""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views import View

from annotations import selectors
from annotations.api.assignment import ASSIGNMENT_STATUSES
from annotations.models import (
    SUBTYPES,
    AdjudicationReason,
    AdjudicationStatus,
    Center,
    ReadKind,
    ReadStatus,
    Role,
    Split,
)
from annotations.views import RoleRequiredMixin

PAGE_SIZE = 50
# What the export API serves for a frozen version: /api/v1/ground-truth/<id>/exports/<kind>/.
GROUND_TRUTH_EXPORTS = (
    ("slices.csv", "Slice labels (CSV)"),
    ("rsna.csv", "RSNA 2019 layout (CSV)"),
    ("scans.csv", "Scan labels (CSV)"),
    ("reader-labels.csv", "Each reader's labels (CSV)"),
    ("sr.zip", "DICOM SR (zip)"),
)


def _choice(value: str | None, allowed) -> str | None:
    return value if value in allowed else None


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _query(filters: dict) -> str:
    """The filters as a query string for pagination links (empty ones left out)."""
    return urlencode({key: value for key, value in filters.items() if value not in (None, "")})


def _positives(version, level: str) -> list[tuple[str, int]]:
    """(class, positive rows) at one level, from the counts stored when it was frozen."""
    positive = (version.counts or {}).get(level, {}).get("positive", {})
    return [(name, positive.get(name, 0)) for name in ("any", *SUBTYPES)]


def _page(request, template: str, context: dict):
    response = render(request, template, context)
    add_never_cache_headers(response)  # the script re-fetches the page after each change
    return response


class CoordinatorPage(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR,)


class ReadingRoundView(CoordinatorPage):
    """Assign scans by filter with a dry-run preview, the readers' workload, and the study's
    reads with per-read reassign and unassign."""

    def get(self, request):
        filters = {
            "reader": _number(request.GET.get("reader")),
            "scan": _number(request.GET.get("scan")),
            "status": _choice(request.GET.get("status"), ReadStatus.values),
            "kind": _choice(request.GET.get("kind"), ReadKind.values),
        }
        reads = selectors.study_read_list(
            reader_id=filters["reader"],
            scan_id=filters["scan"],
            status=filters["status"],
            kind=filters["kind"],
        )
        workload = list(selectors.reader_workload_list())
        context = {
            "centers": Center.objects.order_by("name"),
            "splits": Split.choices,
            "assignment_statuses": [
                (value, value.replace("_", " ").capitalize()) for value in ASSIGNMENT_STATUSES
            ],
            "workload": workload,
            "readers_data": {str(reader.pk): reader.username for reader in workload},
            "read_statuses": ReadStatus.choices,
            "read_kinds": ReadKind.choices,
            "filters": filters,
            "query": _query(filters),
            "page": Paginator(reads, PAGE_SIZE).get_page(request.GET.get("page")),
        }
        return _page(request, "annotations/coordination/reading.html", context)


class AdjudicationView(CoordinatorPage):
    """The adjudication queue with its filters, the actions that fill it, and the item view
    (votes and decision form) that the page script opens for the chosen row."""

    def get(self, request):
        # Open items first: the queue is a to-do list; "all" shows every status.
        status = request.GET.get("status", AdjudicationStatus.OPEN)
        filters = {
            "status": status if status in (*AdjudicationStatus.values, "all") else "open",
            "reason": _choice(request.GET.get("reason"), AdjudicationReason.values),
        }
        items = selectors.adjudication_item_list(
            status=None if filters["status"] == "all" else filters["status"],
            reason=filters["reason"],
        )
        context = {
            "filters": filters,
            "query": _query(filters),
            "statuses": AdjudicationStatus.choices,
            "reasons": AdjudicationReason.choices,
            "open_count": selectors.adjudication_item_list(status=AdjudicationStatus.OPEN).count(),
            "centers": Center.objects.order_by("name"),
            "splits": Split.choices,
            "subtypes": SUBTYPES,
            "page": Paginator(items, PAGE_SIZE).get_page(request.GET.get("page")),
        }
        return _page(request, "annotations/coordination/adjudication.html", context)


class GroundTruthView(CoordinatorPage):
    """Frozen ground-truth versions: freeze, release, compare, and each version's exports."""

    def get(self, request):
        rows = [
            {"version": version, "positive_scans": _positives(version, "scans")}
            for version in selectors.ground_truth_version_list(user=request.user)
        ]
        context = {"versions": rows, "exports": GROUND_TRUTH_EXPORTS}
        return _page(request, "annotations/coordination/ground_truth.html", context)

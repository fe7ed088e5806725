"""The coordinator's pages of ingest: study overview, scans, imports."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views import View

from annotations.adjudication.selectors import scan_slice_votes
from annotations.ingest.selectors import (
    center_list,
    import_batch_get,
    import_batch_list,
    quarantined_series_list,
    scan_get,
    scan_list,
    split_totals,
)
from annotations.models import Center, ImportBatch, Role, Scan, Split
from annotations.pages import RoleRequiredMixin
from annotations.permissions import user_has_role


class StudyOverviewView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR, Role.ML_ENGINEER)

    def get(self, request):
        totals = split_totals()
        context = {
            "centers": center_list(),
            "split_totals": [
                (value, label, totals.get(value, {"scans": 0, "slices": 0}))
                for value, label in Split.choices
            ],
            "splits": Split.choices,
            "imports": import_batch_list()[:10],
            "quarantine_pending": quarantined_series_list(status="pending").count(),
            "is_coordinator": user_has_role(request.user, Role.COORDINATOR),
        }
        return render(request, "annotations/study.html", context)


class ScanListView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR, Role.ML_ENGINEER)

    def get(self, request):
        center_id = request.GET.get("center")
        split = request.GET.get("split") or None
        center_id = int(center_id) if center_id and center_id.isdigit() else None
        scans = scan_list(center_id=center_id, split=split if split in Split.values else None)
        page = Paginator(scans, 50).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "centers": Center.objects.all(),
            "splits": Split.choices,
            "center_id": center_id,
            "split": split,
        }
        return render(request, "annotations/scan_list.html", context)


class ScanDetailView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR, Role.ML_ENGINEER)

    def get(self, request, scan_id: int):
        try:
            scan = scan_get(scan_id=scan_id)
        except Scan.DoesNotExist:
            raise Http404("No such scan.") from None
        context = {"scan": scan, "window_presets": settings.WINDOW_PRESETS}
        if user_has_role(request.user, Role.COORDINATOR):
            # Who marked what, beside the images: for the coordinators who decide, not for
            # ML engineers (raw reader labels stay with coordinators).
            context["slice_votes"] = scan_slice_votes(scan_id=scan.pk)
        return render(request, "annotations/scan_detail.html", context)


class ImportNewView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR,)

    def get(self, request):
        context = {"centers": Center.objects.all(), "splits": Split.choices}
        return render(request, "annotations/import_new.html", context)


class ImportBatchListView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR,)

    def get(self, request):
        page = Paginator(import_batch_list(), 50).get_page(request.GET.get("page"))
        return render(request, "annotations/import_list.html", {"page": page})


class ImportBatchDetailView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR,)

    def get(self, request, batch_id):
        try:
            batch = import_batch_get(batch_id=batch_id)
        except ImportBatch.DoesNotExist:
            raise Http404("No such import.") from None
        quarantined = quarantined_series_list().filter(batch=batch)
        return render(
            request,
            "annotations/import_detail.html",
            {"batch": batch, "report": batch.report or {}, "quarantined": quarantined},
        )

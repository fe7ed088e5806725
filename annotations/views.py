"""Page shells for the coordinator's study pages; data comes from selectors."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views import View

from annotations import progress, selectors
from annotations.api.reads import ReadDetailApi
from annotations.models import Center, ImportBatch, Read, Role, Scan, Split
from annotations.permissions import user_has_role, user_roles


class RoleRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    roles: tuple[str, ...] = ()

    def test_func(self) -> bool:
        return user_has_role(self.request.user, *self.roles)


@login_required
def home(request):
    if user_has_role(request.user, Role.COORDINATOR, Role.ML_ENGINEER):
        return redirect("study")
    if user_has_role(request.user, Role.NEURORADIOLOGIST):
        return redirect("worklist-page")
    return render(request, "annotations/home.html", {"roles": user_roles(request.user)})


class StudyOverviewView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR, Role.ML_ENGINEER)

    def get(self, request):
        totals = selectors.split_totals()
        context = {
            "centers": selectors.center_list(),
            "split_totals": [
                (value, label, totals.get(value, {"scans": 0, "slices": 0}))
                for value, label in Split.choices
            ],
            "splits": Split.choices,
            "imports": selectors.import_batch_list()[:10],
            "quarantine_pending": selectors.quarantined_series_list(status="pending").count(),
            "is_coordinator": user_has_role(request.user, Role.COORDINATOR),
        }
        return render(request, "annotations/study.html", context)


class ScanListView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR, Role.ML_ENGINEER)

    def get(self, request):
        center_id = request.GET.get("center")
        split = request.GET.get("split") or None
        center_id = int(center_id) if center_id and center_id.isdigit() else None
        scans = selectors.scan_list(
            center_id=center_id, split=split if split in Split.values else None
        )
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
            scan = selectors.scan_get(scan_id=scan_id)
        except Scan.DoesNotExist:
            raise Http404("No such scan.") from None
        return render(request, "annotations/scan_detail.html", {"scan": scan})


class ImportNewView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR,)

    def get(self, request):
        context = {"centers": Center.objects.all(), "splits": Split.choices}
        return render(request, "annotations/import_new.html", context)


class ImportBatchListView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR,)

    def get(self, request):
        page = Paginator(selectors.import_batch_list(), 50).get_page(request.GET.get("page"))
        return render(request, "annotations/import_list.html", {"page": page})


class ImportBatchDetailView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR,)

    def get(self, request, batch_id):
        try:
            batch = selectors.import_batch_get(batch_id=batch_id)
        except ImportBatch.DoesNotExist:
            raise Http404("No such import.") from None
        quarantined = selectors.quarantined_series_list().filter(batch=batch)
        return render(
            request,
            "annotations/import_detail.html",
            {"batch": batch, "report": batch.report or {}, "quarantined": quarantined},
        )


class WorklistView(RoleRequiredMixin, View):
    roles = (Role.NEURORADIOLOGIST,)

    def get(self, request):
        reads = selectors.worklist_for_reader(reader=request.user)
        return render(request, "annotations/reading/worklist.html", {"reads": reads})


class ReadingView(RoleRequiredMixin, View):
    """The reading page: the viewer script (build/reader.js) builds it from the read inlined
    here, then saves through the API."""

    roles = (Role.NEURORADIOLOGIST,)

    def get(self, request, read_id: int):
        try:
            read = selectors.read_get_for_reader(read_id=read_id, reader=request.user)
        except Read.DoesNotExist:
            raise Http404("No such read.") from None
        # The read and its labels travel in the page, and the slice to show first is preloaded
        # while the viewer script loads: opening a scan costs no API round trip before the image.
        context = {
            "read": read,
            "read_data": ReadDetailApi.OutputSerializer(read).data,
            "window_presets": settings.WINDOW_PRESETS,
        }
        response = render(request, "annotations/reading/read.html", context)
        add_never_cache_headers(response)  # a reload must show the labels saved since
        return response


class DashboardView(RoleRequiredMixin, View):
    """The coordinator's dashboard: progress and reading speed (rendered here), reader
    agreement (computed on request by the page script through the agreement API)."""

    roles = (Role.COORDINATOR,)

    def get(self, request):
        data = {
            "readers": progress.as_rows(progress.progress_by_reader()),
            "centers": progress.as_rows(progress.progress_by_center()),
            "splits": progress.as_rows(progress.progress_by_split()),
            "days": progress.as_rows(progress.completed_reads_by_day()),
        }
        context = {
            **data,
            "progress_data": data,
            "adjudication": progress.adjudication_summary(),
            "centers_for_filter": selectors.center_list(),
            "split_choices": Split.choices,
        }
        return render(request, "annotations/dashboard.html", context)

"""The coordinator's dashboard: progress and agreement."""

from django.shortcuts import render
from django.views import View

from annotations.ingest.selectors import center_list
from annotations.models import Role, Split
from annotations.pages import RoleRequiredMixin
from annotations.progress.selectors import (
    adjudication_summary,
    as_rows,
    completed_reads_by_day,
    progress_by_center,
    progress_by_reader,
    progress_by_split,
    reading_speed_basis,
)


class DashboardView(RoleRequiredMixin, View):
    """The coordinator's dashboard: progress and reading speed (rendered here), reader
    agreement (computed on request by the page script through the agreement API)."""

    roles = (Role.COORDINATOR,)

    def get(self, request):
        readers = progress_by_reader()
        data = {
            "readers": as_rows(readers),
            "centers": as_rows(progress_by_center()),
            "splits": as_rows(progress_by_split()),
            "days": as_rows(completed_reads_by_day()),
        }
        context = {
            **data,
            "progress_data": data,
            "speed_basis": reading_speed_basis(readers),
            "adjudication": adjudication_summary(),
            "centers_for_filter": center_list(),
            "split_choices": Split.choices,
        }
        return render(request, "annotations/dashboard.html", context)

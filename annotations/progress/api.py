"""REST API of the coordinator's dashboard: reading progress by reader, center, split and day,
how many completed reads the reading speeds come from, and the adjudication queue's size.
Coordinators only. Each table also downloads as CSV."""

import csv
import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.permissions import IsCoordinator
from annotations.progress.selectors import (
    DayProgress,
    GroupProgress,
    ReaderProgress,
    adjudication_summary,
    as_rows,
    columns,
    completed_reads_by_day,
    progress_by_center,
    progress_by_reader,
    progress_by_split,
    reading_speed_basis,
)
from ichlabel.errors import NotFound

# Table name in the CSV URL -> (selector, row type).
TABLES = {
    "readers": (progress_by_reader, ReaderProgress),
    "centers": (progress_by_center, GroupProgress),
    "splits": (progress_by_split, GroupProgress),
    "days": (completed_reads_by_day, DayProgress),
}


class ProgressApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        results = {name: select() for name, (select, _) in TABLES.items()}
        tables = {name: as_rows(rows) for name, rows in results.items()}
        basis = reading_speed_basis(results["readers"])
        return Response({**tables, "speed_basis": basis, "adjudication": adjudication_summary()})


class ProgressCsvApi(APIView):
    """One progress table as CSV: readers, centers, splits or days."""

    permission_classes = [IsCoordinator]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, table: str):
        if table not in TABLES:
            raise NotFound(f"no progress table {table!r}")
        select, kind = TABLES[table]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns(kind), lineterminator="\n")
        writer.writeheader()
        writer.writerows(as_rows(select()))
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="progress-{table}.csv"'
        return response

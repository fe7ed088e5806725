"""Reads of ingest: centers with their totals, scans, import batches and quarantined series."""

from pathlib import Path

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from annotations.ingest.uploads import expansion_limits, upload_room
from annotations.models import (
    Center,
    ImportBatch,
    QuarantinedSeries,
    Scan,
)


def center_list() -> QuerySet[Center]:
    """Centers with their scan and slice counts, per split of their scans."""
    return Center.objects.annotate(
        scan_count=Count("scans"),
        slice_count=Coalesce(Sum("scans__slice_count"), 0),
        train_scans=Count("scans", filter=Q(scans__split="train")),
        validation_scans=Count("scans", filter=Q(scans__split="validation")),
        test_scans=Count("scans", filter=Q(scans__split="test")),
    ).order_by("name")


def split_totals() -> dict[str, dict[str, int]]:
    rows = Scan.objects.values("split").annotate(scans=Count("id"), slice_total=Sum("slice_count"))
    return {
        row["split"]: {"scans": row["scans"], "slices": row["slice_total"] or 0} for row in rows
    }


def scan_list(
    *, center_id: int | None = None, split: str | None = None, flag: str | None = None
) -> QuerySet[Scan]:
    scans = Scan.objects.select_related("center", "patient")
    if center_id is not None:
        scans = scans.filter(center_id=center_id)
    if split:
        scans = scans.filter(split=split)
    if flag:
        # JSON containment is not portable to SQLite; flags are short, a text match is exact
        # enough because codes are quoted in the stored JSON.
        scans = scans.filter(flags__icontains=f'"{flag}"')
    return scans.order_by("center__name", "id")


def scan_get(*, scan_id: int) -> Scan:
    return (
        Scan.objects.select_related("center", "patient", "import_batch")
        .prefetch_related("slices")
        .get(pk=scan_id)
    )


def import_batch_list() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("center", "created_by").order_by("-created_at")


def import_batch_get(*, batch_id) -> ImportBatch:
    return ImportBatch.objects.select_related("center", "created_by").get(pk=batch_id)


def import_batch_upload_room(*, batch: ImportBatch) -> int | None:
    """How many bytes one upload into ``batch`` may send before it is stopped (None: any)."""
    return upload_room(Path(settings.UPLOAD_DIR) / str(batch.pk), expansion_limits(batch=True))


def quarantined_series_list(*, status: str | None = None) -> QuerySet[QuarantinedSeries]:
    items = QuarantinedSeries.objects.select_related("center", "batch")
    return items.filter(status=status) if status else items

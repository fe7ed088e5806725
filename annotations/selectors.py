"""Reads of the annotations app, always scoped and aggregated in the database."""

from django.db.models import Case, Count, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce

from annotations.models import (
    Center,
    ImportBatch,
    QuarantinedSeries,
    Read,
    ReadStatus,
    Role,
    Scan,
    Slice,
    SliceLabel,
)
from annotations.permissions import user_has_role


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
    rows = Scan.objects.values("split").annotate(scans=Count("id"), slices=Sum("slice_count"))
    return {row["split"]: {"scans": row["scans"], "slices": row["slices"] or 0} for row in rows}


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


def quarantined_series_list(*, status: str | None = None) -> QuerySet[QuarantinedSeries]:
    items = QuarantinedSeries.objects.select_related("center", "batch")
    return items.filter(status=status) if status else items


def worklist_for_reader(*, reader) -> QuerySet[Read]:
    """The reader's own reads, open ones first, with how many slices they labelled."""
    order = Case(
        When(status=ReadStatus.IN_PROGRESS, then=0),
        When(status=ReadStatus.ASSIGNED, then=1),
        default=2,
    )
    return (
        Read.objects.filter(reader=reader)
        .select_related("scan__center")
        .annotate(labelled_slices=Count("labels"), open_first=order)
        .order_by("open_first", "assigned_at", "id")
    )


def read_get_for_reader(*, read_id: int, reader) -> Read:
    """One of the reader's own reads; another reader's read does not exist for them."""
    return Read.objects.select_related("scan__center").get(pk=read_id, reader=reader)


def read_labels(*, read: Read) -> QuerySet[SliceLabel]:
    return (
        SliceLabel.objects.filter(read=read)
        .select_related("slice")
        .order_by("slice__position_index")
    )


def slice_get_for_viewer(*, scan_id: int, position_index: int, user) -> Slice:
    """A slice's stored file for the viewer: coordinators and ML engineers see every scan, a
    neuroradiologist only scans they have a read of (another scan does not exist for them)."""
    slices = Slice.objects.select_related("scan")
    if not user_has_role(user, Role.COORDINATOR, Role.ML_ENGINEER):
        slices = slices.filter(scan__reads__reader=user)
    return slices.get(scan_id=scan_id, position_index=position_index)

"""Reads of assignment: every read of the study, reader workloads."""

from django.db.models import Count, Q, QuerySet

from annotations.models import (
    OPEN_READ_STATUSES,
    Read,
    ReadStatus,
)
from annotations.models.reads import labelled_slice_count


def study_read_list(
    *,
    scan_id: int | None = None,
    reader_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> QuerySet[Read]:
    """Every read of the study, for coordinators: who reads what, as what, and how far."""
    reads = Read.objects.select_related("scan__center", "reader").annotate(
        labelled_slices=labelled_slice_count()
    )
    if scan_id is not None:
        reads = reads.filter(scan_id=scan_id)
    if reader_id is not None:
        reads = reads.filter(reader_id=reader_id)
    if status:
        reads = reads.filter(status=status)
    if kind:
        reads = reads.filter(kind=kind)
    return reads.order_by("scan_id", "kind", "id")


def reader_workload_list() -> QuerySet:
    """Neuroradiologists with their open, completed and withdrawn reads (one query)."""
    from annotations.assignment.services import neuroradiologist_list

    return neuroradiologist_list().annotate(
        open_reads=Count("reads", filter=Q(reads__status__in=OPEN_READ_STATUSES)),
        completed_reads=Count("reads", filter=Q(reads__status=ReadStatus.COMPLETED)),
        withdrawn_reads=Count("reads", filter=Q(reads__status=ReadStatus.WITHDRAWN)),
    )

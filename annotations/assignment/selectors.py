"""Reads of assignment: every read of the study, reader workloads, and what a change to a
read would affect."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from annotations.assignment.plan import REQUIRED_READS, read_role
from annotations.models import (
    ACTIVE_READ_STATUSES,
    OPEN_READ_STATUSES,
    Read,
    ReadStatus,
    ScanLabel,
    Split,
)
from annotations.models.reads import labelled_slice_count
from annotations.reading.services import read_flags


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


@dataclass(frozen=True)
class ReadChangeConsequences:
    """What reassigning or unassigning one read affects, for the coordinator's confirmation."""

    read: int
    scan: int
    reader: str
    role: str
    status: str
    labelled_slices: int
    scan_labelled: bool
    flags: list[str]
    note: bool
    has_work: bool
    # Reads of the scan that stay active after an unassignment, and how many its split needs.
    scan_reads_left: int
    scan_reads_required: int
    # Readers who hold a read of the scan already (a reassignment cannot go to them).
    scan_readers: list[int]


def read_change_consequences(*, read_id: int) -> ReadChangeConsequences:
    """The work a read holds (slices that carry a label, a scan label, flags, a note, its
    completion) and where its scan stands without it. A withdrawn read does not exist here."""
    from annotations.assignment.services import read_has_work

    read = (
        Read.objects.select_related("reader", "scan")
        .exclude(status=ReadStatus.WITHDRAWN)
        .annotate(labelled=labelled_slice_count())
        .get(pk=read_id)
    )
    scan_label = ScanLabel.objects.filter(read=read).first()
    others = Read.objects.filter(scan_id=read.scan_id).exclude(pk=read.pk)
    return ReadChangeConsequences(
        read=read.pk,
        scan=read.scan_id,
        reader=read.reader.username,
        role=read_role(kind=read.kind, level=read.level),
        status=read.status,
        labelled_slices=read.labelled,
        scan_labelled=scan_label is not None and any(scan_label.values().values()),
        flags=[name for name, on in read_flags(read).items() if on],
        note=bool(read.note.strip()),
        has_work=read_has_work(read),
        scan_reads_left=others.filter(status__in=ACTIVE_READ_STATUSES).count(),
        scan_reads_required=REQUIRED_READS[Split(read.scan.split)],
        scan_readers=sorted(others.values_list("reader_id", flat=True)),
    )

"""Reads of the reading view, always scoped to the reader: the worklist, one read with its labels,
the slices a user may see.
"""

from dataclasses import dataclass

from django.db.models import Case, QuerySet, When

from annotations.ground_truth.selectors import (
    ground_truth_scan_label_list_for_reader,
    ground_truth_slice_label_list_for_reader,
    ground_truth_version_list_for_reader,
)
from annotations.models import (
    ACTIVE_READ_STATUSES,
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    Read,
    ReadStatus,
    Role,
    ScanLabel,
    Slice,
    SliceLabel,
)
from annotations.models.reads import labelled_slice_count
from annotations.permissions import user_has_role


def worklist_for_reader(*, reader) -> QuerySet[Read]:
    """The reader's own reads, open ones first, then in the read's seeded random order: each
    cross-reader meets the scans in an order of their own, never the primary reader's. A
    withdrawn read is no longer the reader's and is left out. ``level`` tells scan-level reads
    (the prospective test set) from slice-level ones; a read's kind (primary or cross) is not
    shown, since it would tell a cross-reader that another read of the scan exists."""
    order = Case(
        When(status=ReadStatus.IN_PROGRESS, then=0),
        When(status=ReadStatus.ASSIGNED, then=1),
        default=2,
    )
    return (
        Read.objects.filter(reader=reader, status__in=ACTIVE_READ_STATUSES)
        .select_related("scan__center", "scan_label")
        .annotate(labelled_slices=labelled_slice_count(), open_first=order)
        .order_by("open_first", "order_key", "assigned_at", "id")
    )


def read_get_for_reader(*, read_id: int, reader) -> Read:
    """One of the reader's own reads; another reader's read (or one withdrawn from this
    reader) does not exist for them."""
    return Read.objects.select_related("scan__center", "scan_label").get(
        pk=read_id, reader=reader, status__in=ACTIVE_READ_STATUSES
    )


def scan_slice_positions(*, scan_id: int) -> list[float]:
    """Each slice's position along the normal in mm, by position index."""
    slices = Slice.objects.filter(scan_id=scan_id).order_by("position_index")
    return list(slices.values_list("z_position_mm", flat=True))


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
        slices = slices.filter(
            scan__reads__reader=user, scan__reads__status__in=ACTIVE_READ_STATUSES
        )
    return slices.get(scan_id=scan_id, position_index=position_index)


def scan_label_for_reader(*, read_id: int, reader) -> tuple[Read, ScanLabel | None]:
    """The reader's own active read and its scan label (None while never saved)."""
    read = read_get_for_reader(read_id=read_id, reader=reader)
    return read, ScanLabel.objects.filter(read=read).first()


def read_get_withdrawn_for_reader(*, read_id: int, reader) -> Read:
    """A read withdrawn from the reader: its page says so instead of "not found"; its labels
    and images are no longer theirs to see."""
    return Read.objects.get(pk=read_id, reader=reader, status=ReadStatus.WITHDRAWN)


@dataclass(frozen=True)
class ReadGroundTruth:
    """The ground truth of one scan as its reader may see it (the reader's blinded view)."""

    version: GroundTruthVersion
    scan: GroundTruthScanLabel
    slices: QuerySet[GroundTruthSliceLabel]


def read_ground_truth(*, read: Read) -> ReadGroundTruth | None:
    """The ground truth of a completed read's scan: the newest released version holding the
    scan, with its scan and slice classes, through the reader's own view (nothing of how the
    truth was reached). None while no released version holds it, or while the read is open."""
    if read.status != ReadStatus.COMPLETED:
        return None
    versions = ground_truth_version_list_for_reader(reader=read.reader)
    version = versions.filter(scan_labels__scan_id=read.scan_id).first()
    if version is None:
        return None
    scan = ground_truth_scan_label_list_for_reader(
        version=version, reader=read.reader, scan_id=read.scan_id
    ).get()
    slices = ground_truth_slice_label_list_for_reader(
        version=version, reader=read.reader, scan_id=read.scan_id
    )
    return ReadGroundTruth(version=version, scan=scan, slices=slices)

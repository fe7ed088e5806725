"""Scan-level labels: the prospective test set's readers label the whole scan.

The same rules as slice labels: only the reader's own, open, scan-level read; a save names the
version it edited and a stale one is refused as a conflict with the current values; each
change writes its audit row in the same transaction.
"""

from django.db import transaction
from django.utils import timezone

from annotations.models import (
    Read,
    ReadLevel,
    ReadStatus,
    ScanLabel,
    ScanLabelAudit,
)
from annotations.services.reads import label_values_clean
from ichlabel.api import ApplicationError


@transaction.atomic
def scan_label_save(
    *, read_id: int, reader, values: dict[str, bool], expected_version: int
) -> ScanLabel:
    """Save the reader's verdict on the whole scan, or refuse it as stale (409)."""
    read = (
        Read.objects.select_for_update(of=("self",))
        .exclude(status=ReadStatus.WITHDRAWN)
        .get(pk=read_id, reader=reader)
    )
    if read.status == ReadStatus.COMPLETED:
        raise ApplicationError("This read is completed and can no longer change.", status=409)
    if read.level != ReadLevel.SCAN:
        raise ApplicationError(
            "This scan is read slice by slice: save slice labels, not a scan label.", status=409
        )
    clean = label_values_clean(values, what="scan")
    label = ScanLabel.objects.filter(read=read).first()
    current = label.version if label else 0
    if current != expected_version:
        raise ApplicationError(
            "The scan label was changed elsewhere since you loaded it.",
            extra={"version": current, "values": label.values() if label else None},
            status=409,
        )
    before = label.values() if label else None
    if before == clean:
        return label
    if label is None:
        label = ScanLabel(read=read, version=1, **clean)
    else:
        for name, value in clean.items():
            setattr(label, name, value)
        label.version += 1
    label.save()
    ScanLabelAudit.objects.create(
        read=read, actor=reader, before=before, after=clean, version=label.version
    )
    if read.status == ReadStatus.ASSIGNED:
        Read.objects.filter(pk=read.pk).update(
            status=ReadStatus.IN_PROGRESS, started_at=timezone.now()
        )
    return label

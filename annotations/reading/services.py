"""Reads and slice labels: assignment, saving labels with optimistic concurrency, completion.

Every rule that spans rows lives here: a reader touches only reads assigned to them (another
reader's read does not exist for them: DoesNotExist); a completed or withdrawn read never
changes (ReadClosed names which); a save names the version it edited and a stale one is
refused as a conflict, with the current values so the page can reconcile; each label change
writes its audit row in the same transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from annotations.models import (
    ACTIVE_READ_STATUSES,
    LABEL_FIELDS,
    SUBTYPES,
    LabelAudit,
    Read,
    ReadKind,
    ReadLevel,
    ReadStatus,
    Role,
    Scan,
    ScanLabel,
    ScanLabelAudit,
    Slice,
    SliceLabel,
)
from annotations.permissions import user_has_role
from ichlabel.errors import Conflict

# Time a single progress report may add: a tab left open overnight is not reading time.
MAX_TIME_STEP_S = 120.0


@dataclass(frozen=True)
class LabelChange:
    """The labels a reader set on one slice, and the version of them the reader saw (0: none)."""

    slice_index: int
    values: dict[str, bool]
    expected_version: int


class LabelConflict(Conflict):
    """Someone (another tab, another device) saved these slices since the reader loaded them."""

    def __init__(self, conflicts: list[dict]) -> None:
        super().__init__(
            "These slices were changed elsewhere since you loaded them; reload them and apply "
            "your change again.",
            extra={"conflicts": conflicts},
        )


class ReadClosed(Conflict):
    """The read no longer takes changes: completed, or withdrawn from the reader. ``extra``
    names which, so the page stops saving and says so instead of retrying."""

    def __init__(self, status: str) -> None:
        message = (
            "This read is completed and can no longer change."
            if status == ReadStatus.COMPLETED
            else "This read was withdrawn from you and can no longer change."
        )
        super().__init__(message, extra={"read_status": str(status)})


def read_assign(
    *,
    scan: Scan,
    reader,
    assigned_by=None,
    kind: str | None = None,
    level: str = ReadLevel.SLICE,
    order_key: int = 0,
) -> Read:
    """Give a scan to a neuroradiologist to read; one read per reader and scan. Without a
    ``kind`` the scan's first active reader is its primary reader, later ones cross-read.
    Batches of scans go through ``scans_assign`` (balanced, with cross-reads)."""
    if not user_has_role(reader, Role.NEURORADIOLOGIST):
        raise ValidationError(f"{reader.username} is not a neuroradiologist")
    if kind is None:
        has_primary = Read.objects.filter(
            scan=scan, kind=ReadKind.PRIMARY, status__in=ACTIVE_READ_STATUSES
        ).exists()
        kind = ReadKind.CROSS if has_primary else ReadKind.PRIMARY
    read, created = Read.objects.get_or_create(
        scan=scan,
        reader=reader,
        defaults={
            "assigned_by": assigned_by,
            "kind": kind,
            "level": level,
            "order_key": order_key,
        },
    )
    if not created:
        raise Conflict(f"{reader.username} already reads scan {scan.pk}")
    return read


@transaction.atomic
def slice_labels_save(*, read_id: int, reader, changes: Sequence[LabelChange]) -> list[SliceLabel]:
    """Save the labels of one or more slices (a range) at once, or refuse them all."""
    status, found = _lock_read_with_labels(read_id, reader, _indexes(changes))
    _refuse_stale(changes, found)
    saved, written, audits = [], [], []
    for change in changes:
        slice_id, label = found[change.slice_index]
        before = label.values() if label else None
        values = label_values_clean(change.values, saved=before)
        if label is not None and before == values:
            saved.append(label)
            continue
        new = SliceLabel(
            read_id=read_id,
            slice=Slice(pk=slice_id, position_index=change.slice_index),
            version=(label.version if label else 0) + 1,
            **values,
        )
        written.append(new)
        audits.append(
            LabelAudit(
                read_id=read_id,
                slice_id=slice_id,
                actor=reader,
                before=before,
                after=values,
                version=new.version,
            )
        )
        saved.append(new)
    # One upsert and one audit insert whatever the range: a save stays a handful of statements.
    SliceLabel.objects.bulk_create(
        written,
        update_conflicts=True,
        unique_fields=["read", "slice"],
        update_fields=[*LABEL_FIELDS, "version", "updated_at"],
    )
    LabelAudit.objects.bulk_create(audits)
    if status == ReadStatus.ASSIGNED:
        Read.objects.filter(pk=read_id).update(
            status=ReadStatus.IN_PROGRESS, started_at=timezone.now()
        )
    return saved


def read_progress_record(
    *, read_id: int, reader, viewed: Sequence[int], slice_index: int, seconds: float
) -> Read:
    """What the viewer reports as the reader works: slices shown, where they are, time spent."""
    with transaction.atomic():
        read = _open_read(read_id=read_id, reader=reader)
        count = read.scan.slice_count
        shown = {index for index in viewed if 0 <= index < count}
        read.viewed_slices = sorted(shown.union(read.viewed_slices))
        read.last_slice_index = min(max(slice_index, 0), count - 1)
        read.time_spent_s += min(max(seconds, 0.0), MAX_TIME_STEP_S)
        _mark_started(read)
        read.save()
    return read


@transaction.atomic
def read_flags_set(
    *, read_id: int, reader, flags: dict[str, bool], note: str, expected_version: int
) -> Read:
    """Set the scan flags and note; refused as a conflict if they changed since loaded."""
    read = _open_read(read_id=read_id, reader=reader)
    if read.version != expected_version:
        raise Conflict(
            "The scan flags were changed elsewhere since you loaded them.",
            extra={"version": read.version, "flags": read_flags(read), "note": read.note},
        )
    for name in ("postoperative", "artifact", "mass_lesion", "other"):
        setattr(read, f"flag_{name}", bool(flags.get(name, False)))
    read.note = note.strip()
    read.version += 1
    _mark_started(read)
    read.save()
    return read


@transaction.atomic
def read_complete(*, read_id: int, reader, unseen_ok: bool = False) -> Read:
    """Mark a read done. Slices never shown block it unless the reader confirms."""
    read = _open_read(read_id=read_id, reader=reader)
    if read.level == ReadLevel.SCAN and not ScanLabel.objects.filter(read=read).exists():
        raise Conflict(
            "Label the scan (a subtype or 'no hemorrhage') before finishing.",
        )
    unseen = sorted(set(range(read.scan.slice_count)) - set(read.viewed_slices))
    if unseen and not unseen_ok:
        raise Conflict(
            f"{len(unseen)} slices were never shown; look at them or confirm to finish anyway.",
            extra={"unseen_slices": unseen},
        )
    now = timezone.now()
    read.started_at = read.started_at or now
    read.finished_at = now
    read.status = ReadStatus.COMPLETED
    read.save()
    # A requested second read is compared with the earlier reads as it completes.
    from annotations.assignment.second_reads import second_read_compare

    second_read_compare(read=read)
    return read


def read_flags(read: Read) -> dict[str, bool]:
    return {
        "postoperative": read.flag_postoperative,
        "artifact": read.flag_artifact,
        "mass_lesion": read.flag_mass_lesion,
        "other": read.flag_other,
    }


def _open_read(*, read_id: int, reader) -> Read:
    """The reader's own read, locked for this transaction; completed reads refuse changes."""
    # Lock the read row only (not the scan that cross-readers share).
    read = (
        Read.objects.select_for_update(of=("self",))
        .select_related("scan")
        .get(pk=read_id, reader=reader)
    )
    if read.status in (ReadStatus.COMPLETED, ReadStatus.WITHDRAWN):
        raise ReadClosed(read.status)
    return read


def _indexes(changes: Sequence[LabelChange]) -> list[int]:
    indexes = [change.slice_index for change in changes]
    if not indexes:
        raise ValidationError("no slices to label")
    if len(set(indexes)) != len(indexes):
        raise ValidationError("a slice appears twice in one save")
    return indexes


def _lock_read_with_labels(
    read_id: int, reader, indexes: list[int]
) -> tuple[str, dict[int, tuple[int, SliceLabel | None]]]:
    """Lock the reader's own read and fetch the named slices with their labels, in one query
    (the save path runs for every key a reader presses). Returns the read's status and, per
    slice index, the slice id and its label in this read (None: never labelled)."""
    label_columns = ", ".join(f"l.{name}" for name in ("id", "version", *LABEL_FIELDS))
    # Lock the read row only: not the scan or slices that cross-readers share. SQLite has no
    # row locks; its writes are serialised by the immediate transactions set in settings.
    lock = " FOR UPDATE OF r" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT r.status, r.level, s.id, s.position_index, {label_columns} "
        f"FROM {Read._meta.db_table} r "
        f"LEFT JOIN {Slice._meta.db_table} s ON s.scan_id = r.scan_id "
        f"AND s.position_index IN ({', '.join(['%s'] * len(indexes))}) "
        f"LEFT JOIN {SliceLabel._meta.db_table} l ON l.read_id = r.id AND l.slice_id = s.id "
        f"WHERE r.id = %s AND r.reader_id = %s{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*indexes, read_id, reader.pk])
        rows = cursor.fetchall()
    if not rows:
        raise Read.DoesNotExist(f"read {read_id} does not exist")
    if rows[0][0] in (ReadStatus.COMPLETED, ReadStatus.WITHDRAWN):
        raise ReadClosed(rows[0][0])
    if rows[0][1] == ReadLevel.SCAN:
        raise Conflict(
            "This scan is read at scan level: save a scan label, not slice labels.",
        )
    found = {}
    for _, _, slice_id, index, label_id, version, *values in rows:
        if slice_id is None:
            continue
        label = None
        if label_id is not None:
            label = SliceLabel(
                pk=label_id,
                read_id=read_id,
                slice=Slice(pk=slice_id, position_index=index),
                version=version,
                **dict(zip(LABEL_FIELDS, map(bool, values), strict=True)),
            )
        found[index] = (slice_id, label)
    missing = sorted(set(indexes) - set(found))
    if missing:
        raise ValidationError(f"this scan has no slice {missing[0]}")
    return rows[0][0], found


def _refuse_stale(changes, found) -> None:
    conflicts = []
    for change in changes:
        label = found[change.slice_index][1]
        current = label.version if label else 0
        if current != change.expected_version:
            conflicts.append(
                {
                    "slice_index": change.slice_index,
                    "version": current,
                    "values": label.values() if label else None,
                }
            )
    if conflicts:
        raise LabelConflict(conflicts)


def label_values_clean(
    values: dict[str, bool], *, saved: dict[str, bool] | None = None, what: str = "slice"
) -> dict[str, bool]:
    """The six label values of a slice (or scan) after a change: the values the change names
    over those ``saved`` (all False for a new label). Refused if the change names no label or an
    unknown one, or if "no hemorrhage" would stand with a subtype."""
    unknown = set(values) - set(LABEL_FIELDS)
    if unknown:
        raise ValidationError(f"unknown label {sorted(unknown)[0]!r}")
    if not values:
        raise ValidationError(f"a {what} label change must name the labels it sets")
    clean = {name: bool(values.get(name, (saved or {}).get(name, False))) for name in LABEL_FIELDS}
    if clean["no_hemorrhage"] and any(clean[name] for name in SUBTYPES):
        raise ValidationError(f"a {what} cannot hold a subtype and 'no hemorrhage' at once")
    return clean


def _mark_started(read: Read) -> None:
    if read.status == ReadStatus.ASSIGNED:
        read.status = ReadStatus.IN_PROGRESS
        read.started_at = timezone.now()


@transaction.atomic
def scan_label_save(
    *, read_id: int, reader, values: dict[str, bool], expected_version: int
) -> ScanLabel:
    """Save the reader's verdict on the whole scan, or refuse it as stale (Conflict)."""
    read = Read.objects.select_for_update(of=("self",)).get(pk=read_id, reader=reader)
    if read.status in (ReadStatus.COMPLETED, ReadStatus.WITHDRAWN):
        raise ReadClosed(read.status)
    if read.level != ReadLevel.SCAN:
        raise Conflict(
            "This scan is read slice by slice: save slice labels, not a scan label.",
        )
    label = ScanLabel.objects.filter(read=read).first()
    current = label.version if label else 0
    if current != expected_version:
        raise Conflict(
            "The scan label was changed elsewhere since you loaded it.",
            extra={"version": current, "values": label.values() if label else None},
        )
    before = label.values() if label else None
    clean = label_values_clean(values, saved=before, what="scan")
    if label is not None and before == clean:
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

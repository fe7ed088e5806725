"""Selectors of reading progress for the coordinator's dashboard: reads by reader, center and
split, reading speed, reads finished per day and the adjudication queue. Each table is one
aggregate query (GROUP BY in the database), whatever the size of the study.

Reading speed counts completed reads with measured time only: time spent is the active
reading time the viewer reports (tab visible, gaps capped), so a read left open overnight does
not slow the figure, and a read that never reported any (seeded, or completed through the API
without the viewer) would make a reader seem to read a scan in no time: it is left out, and the
table says from how many of the completed reads the speed comes.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate

from annotations.models import (
    OPEN_READ_STATUSES,
    AdjudicationItem,
    AdjudicationReason,
    AdjudicationStatus,
    Read,
    ReadStatus,
    Scan,
)

_BY_STATUS = {
    "assigned": Count("id", filter=Q(status=ReadStatus.ASSIGNED)),
    "in_progress": Count("id", filter=Q(status=ReadStatus.IN_PROGRESS)),
    "completed": Count("id", filter=Q(status=ReadStatus.COMPLETED)),
    "withdrawn": Count("id", filter=Q(status=ReadStatus.WITHDRAWN)),
}


@dataclass(frozen=True)
class ReaderProgress:
    reader: str
    assigned: int
    in_progress: int
    completed: int
    withdrawn: int
    # Completed reads with reading time measured by the viewer: the speed's basis.
    measured_reads: int
    reading_hours: float
    scans_per_hour: float | None
    seconds_per_slice: float | None


@dataclass(frozen=True)
class GroupProgress:
    """Reads of the scans of one center (or split): open, completed, withdrawn."""

    group: str
    scans: int
    scans_read: int
    assigned: int
    in_progress: int
    completed: int
    withdrawn: int


@dataclass(frozen=True)
class DayProgress:
    day: str
    completed: int


def progress_by_reader() -> list[ReaderProgress]:
    """Every reader with a read: reads by status and reading speed on the completed reads
    whose reading time was measured."""
    measured = Q(status=ReadStatus.COMPLETED, time_spent_s__gt=0)
    rows = (
        Read.objects.values(reader_name=F("reader__username"))
        .annotate(
            **_BY_STATUS,
            measured_reads=Count("id", filter=measured),
            seconds=Sum("time_spent_s", filter=measured, default=0.0),
            slices=Sum("scan__slice_count", filter=measured, default=0),
        )
        .order_by("reader_name")
    )
    return [_reader_progress(row) for row in rows]


def reading_speed_basis(readers: list[ReaderProgress]) -> dict[str, int]:
    """How many completed reads the speeds come from, of how many: ``measured`` and
    ``completed``, over every reader."""
    return {
        "measured": sum(row.measured_reads for row in readers),
        "completed": sum(row.completed for row in readers),
    }


def progress_by_center() -> list[GroupProgress]:
    return _progress_by("center__name")


def progress_by_split() -> list[GroupProgress]:
    return _progress_by("split")


def completed_reads_by_day() -> list[DayProgress]:
    """Reads completed per calendar day (UTC), oldest first."""
    rows = (
        Read.objects.filter(status=ReadStatus.COMPLETED)
        .annotate(day=TruncDate("finished_at"))
        .values("day")
        .annotate(completed=Count("id"))
        .order_by("day")
    )
    return [DayProgress(day=row["day"].isoformat(), completed=row["completed"]) for row in rows]


def adjudication_summary() -> dict[str, int]:
    """Items in the adjudication queue by status, and the open ones by reason."""
    is_open = Q(status=AdjudicationStatus.OPEN)
    counts = AdjudicationItem.objects.aggregate(
        open=Count("id", filter=is_open),
        resolved=Count("id", filter=Q(status=AdjudicationStatus.RESOLVED)),
        open_missing_read=Count("id", filter=is_open & Q(reason=AdjudicationReason.MISSING_READ)),
        open_split_vote=Count("id", filter=is_open & Q(reason=AdjudicationReason.SPLIT_VOTE)),
        open_second_read=Count("id", filter=is_open & Q(reason=AdjudicationReason.SECOND_READ)),
    )
    return {name: value or 0 for name, value in counts.items()}


def as_rows(items: list) -> list[dict]:
    """Dataclass rows as dicts, for JSON and CSV alike."""
    return [asdict(item) for item in items]


def columns(kind: type) -> list[str]:
    return [field.name for field in fields(kind)]


def _progress_by(field: str) -> list[GroupProgress]:
    scans = Scan.objects.values(field).annotate(scans=Count("id"))
    totals = {row[field]: row["scans"] for row in scans}
    # A scan counts as read once it has completed reads and no open one left.
    read_scan_ids = (
        Read.objects.values("scan_id")
        .annotate(
            open_reads=Count("id", filter=Q(status__in=OPEN_READ_STATUSES)),
            done_reads=Count("id", filter=Q(status=ReadStatus.COMPLETED)),
        )
        .filter(open_reads=0, done_reads__gt=0)
        .values("scan_id")
    )
    read_scans = Scan.objects.filter(pk__in=read_scan_ids).values(field).annotate(count=Count("id"))
    read_counts = {row[field]: row["count"] for row in read_scans}
    reads = Read.objects.values(group=F(f"scan__{field}")).annotate(**_BY_STATUS)
    by_group: dict[Any, dict[str, Any]] = {}
    for row in reads:
        counts: dict[str, Any] = dict(row)
        by_group[counts.pop("group")] = counts
    return [
        GroupProgress(
            group=str(name),
            scans=total,
            scans_read=read_counts.get(name, 0),
            **by_group.get(name, dict.fromkeys(_BY_STATUS, 0)),
        )
        for name, total in sorted(totals.items(), key=lambda item: str(item[0]))
    ]


def _reader_progress(row: Mapping[str, Any]) -> ReaderProgress:
    seconds, slices, measured = row["seconds"], row["slices"], row["measured_reads"]
    return ReaderProgress(
        reader=row["reader_name"],
        **{name: row[name] for name in _BY_STATUS},
        measured_reads=measured,
        reading_hours=round(seconds / 3600, 2),
        scans_per_hour=round(measured / (seconds / 3600), 2) if seconds else None,
        seconds_per_slice=round(seconds / slices, 2) if slices and seconds else None,
    )

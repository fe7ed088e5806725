"""Assigning scans to readers: balanced primary reads, blinded cross-reads, reassignment.

How a scan is read follows its split, as in the paper: a training scan has one primary
(slice-level) read; a validation scan is read by its primary reader and cross-read by two more
neuroradiologists; a prospective test scan is read at scan level by three. Every read gets a
seeded random ``order_key`` derived from (seed, reader, scan), so each reader meets their
scans in an order of their own and the same seed gives the same orders again.

Balancing: each missing read goes to the eligible reader with the fewest open reads (ties
broken by a seeded draw); a reader at their capacity (maximum open reads) gets none; a reader
never holds two reads of one scan (a database constraint), so a cross-reader is never the
scan's primary reader. A scan gets all its missing reads or none.
"""

import hashlib
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from annotations.adjudication.services import adjudication_missing_reads_refresh
from annotations.assignment.plan import LEVEL_BY_SPLIT, REQUIRED_READS
from annotations.assignment.second_reads import second_read_withdrawn
from annotations.models import (
    ACTIVE_READ_STATUSES,
    OPEN_READ_STATUSES,
    Center,
    Read,
    ReadKind,
    ReadStatus,
    Role,
    Scan,
    ScanLabel,
)
from annotations.permissions import user_has_role
from ichlabel.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class PlannedRead:
    scan_id: int
    reader_id: int
    kind: str
    level: str
    order_key: int


@dataclass
class AssignmentResult:
    """What an assignment did (or, for a dry run, would do)."""

    seed: int
    planned: list[PlannedRead] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    dry_run: bool = False

    @property
    def assigned_scans(self) -> int:
        return len({item.scan_id for item in self.planned})


def read_order_key(*, seed: int, reader_id: int, scan_id: int) -> int:
    """A reader's random position for a scan: a hash of (seed, reader, scan), so orders are
    reproducible from the seed and independent between readers (63 bits: a signed bigint)."""
    digest = hashlib.sha256(f"{seed}:{reader_id}:{scan_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def neuroradiologist_list() -> QuerySet:
    """Active users holding the neuroradiologist role (superusers hold every role but are
    not counted as readers unless they are in the group)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.NEURORADIOLOGIST)
        .distinct()
        .order_by("id")
    )


def open_reads_by_reader(*, reader_ids: Iterable[int]) -> dict[int, int]:
    """Open (assigned or in progress) reads per reader: the workload balancing evens out."""
    rows = (
        Read.objects.filter(reader_id__in=list(reader_ids), status__in=OPEN_READ_STATUSES)
        .values("reader_id")
        .annotate(n=Count("id"))
    )
    return {row["reader_id"]: row["n"] for row in rows}


def scans_assign(
    *,
    scans: QuerySet[Scan],
    assigned_by,
    readers: Sequence | None = None,
    capacity: int | None = None,
    capacities: Mapping[int, int] | None = None,
    seed: int | None = None,
    dry_run: bool = False,
    scan_order: Sequence[int] | None = None,
) -> AssignmentResult:
    """Give every selected scan the reads its split still needs (a primary read, cross-reads
    for validation scans, three scan-level reads for test scans). Scans that have them are
    skipped; a scan for which too few readers have room is skipped with the reason. Scans are
    planned in id order, or in ``scan_order`` (e.g. most uncertain first) where given: the
    first ones get the readers' room when capacity runs out."""
    seed = secrets.randbits(31) if seed is None else seed
    pool = list(readers) if readers is not None else list(neuroradiologist_list())
    for reader in pool:
        if not user_has_role(reader, Role.NEURORADIOLOGIST):
            raise ValidationError(f"{reader.username} is not a neuroradiologist")
    if not pool:
        raise InvalidInput("There are no neuroradiologists to assign scans to.")
    limits = {reader.pk: capacity for reader in pool}
    limits.update({int(k): v for k, v in (capacities or {}).items() if int(k) in limits})

    result = AssignmentResult(seed=seed, dry_run=dry_run)
    with transaction.atomic():
        # The scans' centers stay in their split while their reads are planned: a split change
        # (annotations.ingest) locks the center too, so the plan never follows a stale split.
        centers = Scan.objects.filter(pk__in=scans.values("pk")).values("center_id")
        list(Center.objects.filter(pk__in=centers).order_by("pk").select_for_update())
        scan_rows = list(scans.order_by("id").values_list("id", "split"))
        if scan_order is not None:
            rank = {scan_id: index for index, scan_id in enumerate(scan_order)}
            scan_rows.sort(key=lambda row: (rank.get(row[0], len(rank)), row[0]))
        existing = _reads_of(scan_id for scan_id, _ in scan_rows)
        load = Counter(open_reads_by_reader(reader_ids=limits))
        rng = random.Random(seed)
        tiebreak = {reader_id: rng.random() for reader_id in limits}
        for scan_id, split in scan_rows:
            planned = _plan_scan(scan_id, split, existing[scan_id], load, limits, tiebreak, seed)
            if isinstance(planned, str):
                result.skipped.append({"scan": scan_id, "reason": planned})
                continue
            for item in planned:
                load[item.reader_id] += 1
            result.planned.extend(planned)
        if dry_run or not result.planned:
            return result
        reads = [
            Read(
                scan_id=item.scan_id,
                reader_id=item.reader_id,
                kind=item.kind,
                level=item.level,
                order_key=item.order_key,
                assigned_by=assigned_by,
            )
            for item in result.planned
        ]
        try:
            with transaction.atomic():
                result.reads = Read.objects.bulk_create(reads)
        except IntegrityError:
            raise Conflict(
                "These scans were assigned by someone else meanwhile; reload and try again.",
            ) from None
        _refresh_missing_reads({item.scan_id for item in result.planned})
    return result


def _reads_of(scan_ids: Iterable[int]) -> dict[int, list[tuple[int, str, str]]]:
    """(reader, kind, status) of every read of the scans, withdrawn ones included: a reader
    whose read was withdrawn is not given the scan again (one read per reader and scan)."""
    reads = defaultdict(list)
    rows = Read.objects.filter(scan_id__in=list(scan_ids)).values_list(
        "scan_id", "reader_id", "kind", "status"
    )
    for scan_id, reader_id, kind, status in rows:
        reads[scan_id].append((reader_id, kind, status))
    return reads


def _plan_scan(scan_id, split, reads, load, limits, tiebreak, seed) -> list[PlannedRead] | str:
    active = [(reader, kind) for reader, kind, status in reads if status in ACTIVE_READ_STATUSES]
    kinds = [ReadKind.PRIMARY] * (not any(kind == ReadKind.PRIMARY for _, kind in active))
    kinds += [ReadKind.CROSS] * (REQUIRED_READS[split] - 1 - sum(k == "cross" for _, k in active))
    if not kinds:
        return "already has all its reads"
    taken = {reader for reader, _, _ in reads}
    free = [
        reader
        for reader, limit in limits.items()
        if reader not in taken and (limit is None or load[reader] < limit)
    ]
    if len(free) < len(kinds):
        return f"needs {len(kinds)} more readers, only {len(free)} eligible with room"
    chosen = sorted(free, key=lambda reader: (load[reader], tiebreak[reader]))[: len(kinds)]
    return [
        PlannedRead(
            scan_id=scan_id,
            reader_id=reader,
            kind=kind,
            level=LEVEL_BY_SPLIT[split],
            order_key=read_order_key(seed=seed, reader_id=reader, scan_id=scan_id),
        )
        for reader, kind in zip(chosen, kinds, strict=True)
    ]


def read_has_work(read: Read) -> bool:
    """Whether the reader did anything a withdrawal would have to keep: labels, a scan
    label, flags or a note, or completion."""
    return (
        read.status == ReadStatus.COMPLETED
        or read.version > 0
        or read.labels.exists()
        or ScanLabel.objects.filter(read=read).exists()
    )


def _lock_active_read(read_id: int) -> Read:
    read = Read.objects.select_for_update(of=("self",)).select_related("scan").get(pk=read_id)
    if read.status == ReadStatus.WITHDRAWN:
        raise Conflict("This read was withdrawn already.")
    return read


def _withdraw(read: Read, *, by, reason: str) -> None:
    read.status = ReadStatus.WITHDRAWN
    read.withdrawn_at = timezone.now()
    read.withdrawn_by = by
    read.withdrawn_reason = reason
    read.save(update_fields=["status", "withdrawn_at", "withdrawn_by", "withdrawn_reason"])


@transaction.atomic
def read_reassign(
    *, read_id: int, reader, by, force: bool = False, reason: str = "", seed: int | None = None
) -> Read:
    """Give a read to another neuroradiologist. A read with no work yet simply changes hands;
    one with labels moves only with ``force``: the old read is withdrawn (kept with its labels
    and audit) and the new reader starts a fresh read of the same kind and level."""
    read = _lock_active_read(read_id)
    if not user_has_role(reader, Role.NEURORADIOLOGIST):
        raise ValidationError(f"{reader.username} is not a neuroradiologist")
    if Read.objects.filter(scan_id=read.scan_id, reader=reader).exists():
        raise Conflict(
            f"{reader.username} already has a read of scan {read.scan_id}.",
        )
    key = read_order_key(
        seed=secrets.randbits(31) if seed is None else seed,
        reader_id=reader.pk,
        scan_id=read.scan_id,
    )
    if not read_has_work(read):
        read.reader = reader
        read.assigned_by = by
        read.assigned_at = timezone.now()
        read.order_key = key
        read.status, read.started_at, read.viewed_slices = ReadStatus.ASSIGNED, None, []
        read.time_spent_s, read.last_slice_index = 0.0, 0
        read.save()
        return read
    if not force:
        raise Conflict(
            "This read has labels; reassign with force to withdraw it and start a new read.",
            extra={"needs_force": True},
        )
    _withdraw(read, by=by, reason=reason or f"reassigned to {reader.username}")
    replacement = Read.objects.create(
        scan_id=read.scan_id,
        reader=reader,
        kind=read.kind,
        level=read.level,
        order_key=key,
        assigned_by=by,
    )
    second_read_withdrawn(read=read, replacement=replacement)
    return replacement


@transaction.atomic
def read_unassign(*, read_id: int, by, force: bool = False, reason: str = "") -> Read | None:
    """Take a read back. One with no work yet is deleted (returns None); one with labels only
    with ``force``, and then it is withdrawn, keeping its labels and audit. Either way the scan
    now misses a read, which the adjudication queue shows."""
    read = _lock_active_read(read_id)
    scan_id = read.scan_id
    if not read_has_work(read):
        second_read_withdrawn(read=read)
        read.delete()
        _refresh_missing_reads({scan_id})
        return None
    if not force:
        raise Conflict(
            "This read has labels; unassign with force to withdraw it (its labels are kept).",
            extra={"needs_force": True},
        )
    _withdraw(read, by=by, reason=reason or "withdrawn")
    second_read_withdrawn(read=read)
    _refresh_missing_reads({scan_id})
    return read


def scan_assignment_filter(scans: QuerySet[Scan], *, status: str | None) -> QuerySet[Scan]:
    """Scans by where their reading stands: ``unassigned`` (no active read), ``assigned``
    (reads, none begun), ``in_progress`` (begun, not all done), ``completed`` (every active
    read done), ``understaffed`` (read by some, but fewer active reads than the split needs)."""
    if not status:
        return scans
    scans = scans.annotate(
        active_reads=Count("reads", filter=Q(reads__status__in=ACTIVE_READ_STATUSES)),
        open_reads=Count("reads", filter=Q(reads__status=ReadStatus.ASSIGNED)),
        done_reads=Count("reads", filter=Q(reads__status=ReadStatus.COMPLETED)),
        any_reads=Count("reads"),
    )
    if status == "unassigned":
        return scans.filter(active_reads=0)
    if status == "assigned":
        return scans.filter(active_reads__gt=0, open_reads=F("active_reads"))
    if status == "in_progress":
        return (
            scans.filter(active_reads__gt=0)
            .exclude(open_reads=F("active_reads"))
            .exclude(done_reads=F("active_reads"))
        )
    if status == "completed":
        return scans.filter(active_reads__gt=0, done_reads=F("active_reads"))
    if status == "understaffed":
        understaffed = Q()
        for split, required in REQUIRED_READS.items():
            understaffed |= Q(split=split, active_reads__lt=required)
        return scans.filter(understaffed, any_reads__gt=0)
    raise ValidationError(f"unknown assignment status {status!r}")


def _refresh_missing_reads(scan_ids: set[int]) -> None:
    adjudication_missing_reads_refresh(scan_ids=scan_ids)

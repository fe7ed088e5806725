"""What moving a center to another split affects, and when the move is refused.

A center's split decides how its scans are read (``annotations.assignment.plan``): one primary
slice-level read for training, a primary read and two blinded cross-reads for validation,
three scan-level reads for the prospective test set. Moving a center moves every scan of it,
so a coordinator is shown the consequences first and confirms:

- the scans and slices that move;
- the reads on them per reading role (primary, cross-read, scan-level read of the test set),
  open and completed: they stay, but the reading plan they were made for changes;
- how many more reads the new split needs before those scans are final again;
- the ground-truth versions that froze scans of the center: they keep the split they froze.

A move is refused while it would break a running reading round: an open read (assigned or in
progress) that the new split's reading plan has no place for, because it is read at another
level (a scan-level test read on a scan that would be labelled slice by slice, or the reverse)
or because it is a cross-read of a scan that would need none (a training scan). Those reads
must be finished or unassigned first; finished reads are kept and never block.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from annotations.assignment.plan import LEVEL_BY_SPLIT, REQUIRED_READS, read_role
from annotations.models import (
    ACTIVE_READ_STATUSES,
    OPEN_READ_STATUSES,
    Center,
    GroundTruthScanLabel,
    Read,
    ReadKind,
    ReadLevel,
    ReadStatus,
    Scan,
    Split,
)
from ichlabel.errors import Conflict, InvalidInput

LEVEL_WORDS = {ReadLevel.SLICE: "slice by slice", ReadLevel.SCAN: "at scan level"}


@dataclass(frozen=True)
class ReadRoleCount:
    """The reads of one reading role on the center's scans."""

    role: str
    level: str
    open: int = 0
    completed: int = 0
    withdrawn: int = 0


@dataclass(frozen=True)
class FrozenVersion:
    """A ground-truth version holding scans of the center, with the split(s) it froze."""

    id: int
    name: str
    scans: int
    splits: list[str]
    released: bool


@dataclass
class SplitChange:
    center_id: int
    center_name: str
    from_split: str
    to_split: str
    scans: int = 0
    slices: int = 0
    reads: list[ReadRoleCount] = field(default_factory=list)
    open_reads: int = 0
    completed_reads: int = 0
    reads_per_scan_before: int = 0
    reads_per_scan_after: int = 0
    scans_needing_reads: int = 0
    reads_to_assign: int = 0
    completed_at_other_level: int = 0
    # Open cross-reads read at the new split's level (a training scan has no place for them).
    open_cross_reads: int = 0
    ground_truth_versions: list[FrozenVersion] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.refusals)

    @property
    def changes(self) -> bool:
        return self.from_split != self.to_split


def _split_label(split: str) -> str:
    return Split(split).label.lower()


def center_split_change(*, center: Center, split: str) -> SplitChange:
    """What moving ``center`` to ``split`` would affect, and why it would be refused (if so).
    Read-only: the same numbers the confirmation shows are checked again by the move."""
    if split not in Split.values:
        raise InvalidInput(f"unknown split {split!r}: expected one of {', '.join(Split.values)}")
    change = SplitChange(
        center_id=center.pk, center_name=center.name, from_split=center.split, to_split=split
    )
    scans = Scan.objects.filter(center=center)
    totals = scans.aggregate(n=Count("id"), slices=Coalesce(Sum("slice_count"), 0))
    change.scans, change.slices = totals["n"], totals["slices"]
    change.reads_per_scan_before = REQUIRED_READS[center.split]
    change.reads_per_scan_after = REQUIRED_READS[split]

    rows = (
        Read.objects.filter(scan__center=center)
        .values("kind", "level")
        .annotate(
            open=Count("id", filter=Q(status__in=OPEN_READ_STATUSES)),
            completed=Count("id", filter=Q(status=ReadStatus.COMPLETED)),
            withdrawn=Count("id", filter=Q(status=ReadStatus.WITHDRAWN)),
        )
        .order_by("level", "-kind")
    )
    # One line per reading role: the three reads of a test scan are one role whatever kind.
    roles: dict[str, ReadRoleCount] = {}
    for row in rows:
        role = read_role(kind=row["kind"], level=row["level"])
        seen = roles.get(role) or ReadRoleCount(role=role, level=row["level"])
        roles[role] = ReadRoleCount(
            role=role,
            level=row["level"],
            open=seen.open + row["open"],
            completed=seen.completed + row["completed"],
            withdrawn=seen.withdrawn + row["withdrawn"],
        )
        if row["kind"] == ReadKind.CROSS and row["level"] == LEVEL_BY_SPLIT[split]:
            change.open_cross_reads += row["open"]
    change.reads = list(roles.values())
    change.open_reads = sum(row.open for row in change.reads)
    change.completed_reads = sum(row.completed for row in change.reads)
    new_level = LEVEL_BY_SPLIT[split]
    change.completed_at_other_level = sum(
        row.completed for row in change.reads if row.level != new_level
    )

    # Reads each scan still needs under the new split (scans without any read are the
    # assignment's ordinary work and not counted: they needed reads before too).
    active = (
        scans.annotate(active=Count("reads", filter=Q(reads__status__in=ACTIVE_READ_STATUSES)))
        .filter(active__gt=0, active__lt=change.reads_per_scan_after)
        .values_list("active", flat=True)
    )
    missing = [change.reads_per_scan_after - n for n in active]
    change.scans_needing_reads = len(missing)
    change.reads_to_assign = sum(missing)

    frozen = (
        GroundTruthScanLabel.objects.filter(center=center)
        .values("version_id", "version__name", "version__released_at", "split")
        .annotate(n=Count("id"))
        .order_by("-version_id", "split")
    )
    versions: dict[int, FrozenVersion] = {}
    for row in frozen:
        seen = versions.get(row["version_id"])
        versions[row["version_id"]] = FrozenVersion(
            id=row["version_id"],
            name=row["version__name"],
            scans=(seen.scans if seen else 0) + row["n"],
            splits=[*(seen.splits if seen else []), row["split"]],
            released=row["version__released_at"] is not None,
        )
    change.ground_truth_versions = list(versions.values())

    if change.changes:
        change.refusals = _refusals(change, new_level)
    return change


def _refusals(change: SplitChange, new_level: str) -> list[str]:
    """Why the move would break a running reading round: open reads the new plan cannot hold."""
    target = _split_label(change.to_split)
    reasons = []
    other_level = [row for row in change.reads if row.open and row.level != new_level]
    for row in other_level:
        reasons.append(
            f"{_reads(row.open)} ({row.role.lower()}) assigned and not finished on this "
            f"center's scans: as {target} scans they would be read {LEVEL_WORDS[new_level]}. "
            "Let them finish or unassign them on the Reading page first."
        )
    if change.reads_per_scan_after == 1 and change.open_cross_reads:
        reasons.append(
            f"{_reads(change.open_cross_reads, 'cross-read')} assigned and not finished on "
            f"this center's scans: a {target} scan has one primary read and no cross-reads. "
            "Let them finish or unassign them on the Reading page first."
        )
    return reasons


def _reads(count: int, word: str = "read") -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def center_split_change_check(*, center: Center, split: str) -> SplitChange:
    """The change, or the refusal as a domain error carrying the reasons."""
    change = center_split_change(center=center, split=split)
    if change.refused:
        raise Conflict(
            f"{center.name} cannot move to the {_split_label(split)} split now: "
            + " ".join(change.refusals),
            extra={"reasons": change.refusals},
        )
    return change

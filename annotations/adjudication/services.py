"""The adjudication queue: what the majority vote cannot settle, and the decisions.

Two kinds of item:
- ``missing_read``: a scan that some reader read but that has fewer active reads than its
  split needs (a read was withdrawn or never staffed). The queue refreshes itself when reads
  are unassigned, withdrawn or assigned; an item whose scan got its reads after all becomes
  obsolete. Resolving it means deciding the scan's labels outright (every slice, or the scan
  for scan-level reads): the scan is then final by that decision.
- ``split_vote``: one subtype of one slice (or of one scan, for scan-level reads) where the
  completed reads of a final scan were not unanimous (2:1 of three). Created only when the
  coordinator asks, for the subtypes they choose, in one INSERT ... SELECT per subtype; a
  slice and subtype a second read's item covers already is not queued again.
- ``second_read``: one subtype of one slice (or scan) where a requested second read differs
  from what the earlier reads settled (``annotations.assignment.second_reads``); decided like
  a split vote, present or absent.
Decisions are stored as ``AdjudicatedLabel`` rows, with who decided, when and why, and
override the vote when a ground-truth version is frozen.
"""

from collections.abc import Iterable, Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from annotations.assignment.plan import REQUIRED_READS
from annotations.assignment.second_reads import second_read_settle
from annotations.ground_truth.services import (
    final_scans_cte,
    scan_filter_sql,
    scan_votes_cte,
    slice_votes_cte,
    table,
)
from annotations.models import (
    ACTIVE_READ_STATUSES,
    SUBTYPES,
    AdjudicatedLabel,
    AdjudicationItem,
    AdjudicationReason,
    AdjudicationStatus,
    Read,
    ReadLevel,
    Scan,
    Slice,
)
from ichlabel.errors import Conflict


def _understaffed() -> Q:
    condition = Q()
    for split, required in REQUIRED_READS.items():
        condition |= Q(split=split, active_reads__lt=required)
    return condition


@transaction.atomic
def adjudication_missing_reads_refresh(*, scan_ids: Iterable[int] | None = None) -> dict:
    """Open an item for each scan read by someone but short of active reads, and retire the
    open items of scans that have their reads again. Returns the counts."""
    scans = Scan.objects.all()
    if scan_ids is not None:
        scans = scans.filter(pk__in=list(scan_ids))
    scans = scans.annotate(
        active_reads=Count("reads", filter=Q(reads__status__in=ACTIVE_READ_STATUSES)),
        any_reads=Count("reads"),
    )
    short = scans.filter(_understaffed(), any_reads__gt=0)
    # A scan already queued, or decided by an adjudicator, is not queued again.
    decided_or_open = AdjudicationItem.objects.filter(
        reason=AdjudicationReason.MISSING_READ,
        status__in=[AdjudicationStatus.OPEN, AdjudicationStatus.RESOLVED],
    ).values("scan_id")
    created = AdjudicationItem.objects.bulk_create(
        [
            AdjudicationItem(scan_id=scan_id, reason=AdjudicationReason.MISSING_READ)
            for scan_id in short.exclude(pk__in=decided_or_open).values_list("id", flat=True)
        ],
        ignore_conflicts=True,
    )
    staffed = scans.exclude(pk__in=short.values("pk")).values("pk")
    obsolete = AdjudicationItem.objects.filter(
        reason=AdjudicationReason.MISSING_READ,
        status=AdjudicationStatus.OPEN,
        scan_id__in=staffed,
    ).update(status=AdjudicationStatus.OBSOLETE)
    return {"created": len(created), "obsolete": obsolete}


@transaction.atomic
def adjudication_split_votes_create(
    *,
    subtypes: Sequence[str],
    created_by,
    center_id: int | None = None,
    split: str | None = None,
    scan_ids: Iterable[int] | None = None,
) -> int:
    """Queue every non-unanimous vote on the chosen subtypes among final scans (slices of
    slice-level scans, scan-level scans as a whole). Items that exist are not repeated.
    Returns how many items were added."""
    unknown = set(subtypes) - set(SUBTYPES)
    if unknown or not subtypes:
        raise ValidationError(f"choose subtypes among {', '.join(SUBTYPES)}")
    where, params = scan_filter_sql(center_id=center_id, split=split, scan_ids=scan_ids)
    items = table(AdjudicationItem)
    columns = (
        "scan_id, slice_id, label, reason, status, positive_votes, total_votes, "
        "created_at, created_by_id, decision_reason"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    by = getattr(created_by, "pk", None)
    # SQLite reports no row count for WITH ... INSERT: count the queue instead.
    before = AdjudicationItem.objects.filter(reason=AdjudicationReason.SPLIT_VOTE).count()
    with connection.cursor() as cursor:
        for subtype in dict.fromkeys(subtypes):
            cursor.execute(
                f"""
                WITH {final_scans_cte(where=where)}, {slice_votes_cte()}
                INSERT INTO {items} ({columns})
                SELECT s.scan_id, s.id, %s, 'split_vote', 'open', v.{subtype}, f.done,
                       %s, %s, ''
                FROM {table(Slice)} s
                JOIN final f ON f.scan_id = s.scan_id AND f.scan_level = 0 AND f.by_vote = 1
                JOIN votes v ON v.slice_id = s.id
                WHERE v.{subtype} > 0 AND v.{subtype} < f.done
                  AND NOT EXISTS (
                      SELECT 1 FROM {items} ai
                      WHERE ai.reason IN ('split_vote', 'second_read')
                      AND ai.slice_id = s.id AND ai.label = %s)
                """,
                [*params, subtype, now, by, subtype],
            )
            cursor.execute(
                f"""
                WITH {final_scans_cte(where=where)}, {scan_votes_cte()}
                INSERT INTO {items} ({columns})
                SELECT f.scan_id, NULL, %s, 'split_vote', 'open', v.{subtype}, f.done,
                       %s, %s, ''
                FROM final f
                JOIN svotes v ON v.scan_id = f.scan_id
                WHERE f.scan_level = 1 AND f.by_vote = 1
                  AND v.{subtype} > 0 AND v.{subtype} < f.done
                  AND NOT EXISTS (
                      SELECT 1 FROM {items} ai
                      WHERE ai.reason IN ('split_vote', 'second_read')
                      AND ai.slice_id IS NULL AND ai.scan_id = f.scan_id AND ai.label = %s)
                """,
                [*params, subtype, now, by, subtype],
            )
    return AdjudicationItem.objects.filter(reason=AdjudicationReason.SPLIT_VOTE).count() - before


def _scan_level(scan_id: int) -> str:
    levels = set(Read.objects.filter(scan_id=scan_id).values_list("level", flat=True))
    return ReadLevel.SCAN if ReadLevel.SCAN in levels else ReadLevel.SLICE


def _subtype_values(values: Mapping[str, bool]) -> dict[str, bool]:
    unknown = set(values) - set(SUBTYPES)
    if unknown:
        raise ValidationError(f"unknown subtype {sorted(unknown)[0]!r}")
    return {name: bool(values.get(name, False)) for name in SUBTYPES}


@transaction.atomic
def adjudication_item_resolve(
    *,
    item_id: int,
    decided_by,
    reason: str,
    value: bool | None = None,
    slices: Sequence[Mapping] | None = None,
    scan_values: Mapping[str, bool] | None = None,
) -> AdjudicationItem:
    """Record the adjudicator's decision and reason. A split vote takes ``value`` (the
    subtype is present or not); a missing read takes the scan's labels: ``slices`` (each
    ``{"slice_index": i, <subtype>: bool...}``; slices not listed hold no hemorrhage) for a
    slice-level scan, ``scan_values`` for a scan-level one. A decision is final."""
    item = AdjudicationItem.objects.select_for_update().get(pk=item_id)
    if item.status != AdjudicationStatus.OPEN:
        raise Conflict(f"This item is {item.status} and cannot be decided.")
    if not reason.strip():
        raise ValidationError("give the reason for the decision")
    if item.reason in (AdjudicationReason.SPLIT_VOTE, AdjudicationReason.SECOND_READ):
        if value is None:
            raise ValidationError("a split vote is decided with a value (true or false)")
        rows = [
            AdjudicatedLabel(
                item=item, scan_id=item.scan_id, slice_id=item.slice_id, **{item.label: value}
            )
        ]
    elif _scan_level(item.scan_id) == ReadLevel.SCAN:
        if scan_values is None:
            raise ValidationError("this scan is read at scan level: decide its scan labels")
        rows = [AdjudicatedLabel(item=item, scan_id=item.scan_id, **_subtype_values(scan_values))]
    else:
        if slices is None:
            raise ValidationError("decide the scan's slice labels (slices)")
        rows = _slice_decisions(item, slices)
    AdjudicatedLabel.objects.bulk_create(rows)
    item.status = AdjudicationStatus.RESOLVED
    item.decided_at = timezone.now()
    item.decided_by = decided_by
    item.decision_reason = reason.strip()
    item.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    if item.second_read_id is not None:
        second_read_settle(request_id=item.second_read_id)
    return item


def _slice_decisions(item: AdjudicationItem, slices: Sequence[Mapping]) -> list:
    """One decision row per slice of the scan (a scan has tens of slices)."""
    positive = {}
    for entry in slices:
        entry = dict(entry)
        index = entry.pop("slice_index")
        if index in positive:
            raise ValidationError(f"slice {index} appears twice")
        positive[index] = _subtype_values(entry)
    ids = dict(Slice.objects.filter(scan_id=item.scan_id).values_list("position_index", "id"))
    missing = sorted(set(positive) - set(ids))
    if missing:
        raise ValidationError(f"this scan has no slice {missing[0]}")
    negative = dict.fromkeys(SUBTYPES, False)
    return [
        AdjudicatedLabel(
            item=item, scan_id=item.scan_id, slice_id=slice_id, **positive.get(index, negative)
        )
        for index, slice_id in sorted(ids.items())
    ]

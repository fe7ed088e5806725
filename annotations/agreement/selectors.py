"""Reader agreement of a reading study, from the database into ``annotations.agreement``.

The statistics live in ``annotations.agreement`` (NumPy, no Django); this module only loads the
completed reads of a selection of scans into its arrays and shapes the result for the API and
the coordinator dashboard. Loading is a handful of queries whose rows go straight into NumPy:
the completed reads (one row per read), the slice count of each scan (one row per scan) and
the *positive* slice labels (a few percent of the labels). Every slice a completed read did not
mark is negative in that read, as in the consensus (``annotations.ground_truth.services``), so
negative label rows never need to leave the database.

Columns: who is "reader 1, 2, 3"?
    In a cross-read study the readers differ from scan to scan (five neuroradiologists, three
    per validation scan). The agreement table therefore uses *read slots* as its columns:
    ``primary`` (the scan's primary read), then ``cross_1``, ``cross_2``, ... (its completed
    cross-reads in the order they were assigned). That is the layout Fleiss' kappa assumes
    (every item rated by the same number of raters, not necessarily the same people), so
    Fleiss, Krippendorff, percent agreement and prevalence describe the study as a whole, and
    the mean Cohen's kappa is the mean agreement between primary and cross-reads. Who agrees
    with whom is the job of the pairwise matrix: there the columns are the readers themselves
    (sorted by user name), each pair compared on the items both of them read (NaN for a pair
    that shares none).

Levels:
    ``read_level="slice"`` takes reads that label slices (training and validation scans): the
    table has every label at slice level and at scan level (a reader calls a scan positive if
    they marked any of its slices). ``read_level="scan"`` takes scan-level reads (the
    prospective test set, ``ScanLabel``): scan-level rows only.

Agreement over time:
    Per ISO week (the server's time zone), Fleiss' kappa of any ICH at scan level. A scan
    counts in the week in which the last of its completed reads was finished, once it has at
    least two; ``fleiss_kappa`` covers the scans of that week, ``cumulative_fleiss_kappa``
    every scan counted up to the end of the week ("where the study stood then").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotations.agreement.statistics import (
    AgreementRow,
    agreement_statistics,
    agreement_table,
    fleiss_kappa,
    scan_ratings,
)
from annotations.models import (
    SUBTYPES,
    GroundTruthScanLabel,
    GroundTruthVersion,
    Read,
    ReadKind,
    ReadLevel,
    ReadStatus,
    Scan,
    ScanLabel,
    Slice,
    SliceLabel,
)
from annotations.models.reads import any_subtype_q
from annotations.vocabulary import HEMORRHAGE_CLASSES
from ichlabel.errors import InvalidInput, NotFound

# A subtype's bit in the per-item label byte; ``any`` is any of them.
SUBTYPE_BITS = {subtype: 1 << number for number, subtype in enumerate(SUBTYPES)}


NOT_READ = 255  # the label byte of a slot that has no read of that scan


MIN_SLOTS = 2  # the agreement module needs two columns; a lone read gets an empty partner


@dataclass(frozen=True)
class StudyRatings:
    """The completed reads of a selection of scans as arrays.

    Items are slices (slice-level reads; each scan's slices in position order, scans in id
    order) or scans (scan-level reads). ``labels[i, s]`` holds the label bits
    (``SUBTYPE_BITS``) of item i in read slot s, ``NOT_READ`` where the scan has no read in
    that slot. ``slot_readers[k, s]`` is the reader (an index into ``readers``) of scan k's
    read in slot s, -1 where there is none.
    """

    read_level: str
    slots: tuple[str, ...]
    readers: tuple[str, ...]
    scan_ids: np.ndarray  # (n_scans,), sorted
    item_scan: np.ndarray  # (n_items,): index into scan_ids
    labels: np.ndarray  # (n_items, n_slots) uint8
    slot_readers: np.ndarray  # (n_scans, n_slots) int
    scan_finished_day: np.ndarray  # (n_scans,) proleptic ordinal of the last read's finish day
    read_count: int

    @property
    def groups(self) -> np.ndarray:
        """The scan id of each item (the bootstrap's resampling unit)."""
        return self.scan_ids[self.item_scan]

    def ratings(self, label: str) -> np.ndarray:
        """(n_items, n_slots) int8: 1 positive, 0 negative, -1 not read (the agreement
        module's "missing")."""
        mask = sum(SUBTYPE_BITS.values()) if label == "any" else SUBTYPE_BITS[label]
        values = ((self.labels & mask) > 0).astype(np.int8)
        values[self.labels == NOT_READ] = -1
        return values

    def ratings_by_label(self) -> dict[str, np.ndarray]:
        return {label: self.ratings(label) for label in HEMORRHAGE_CLASSES}


@dataclass(frozen=True)
class AgreementReport:
    """What the dashboard shows: the table, reader-pair matrices and agreement by week."""

    filters: dict[str, object]
    read_level: str
    n_boot: int
    seed: int
    ci_level: float
    scan_count: int
    item_count: int
    read_count: int
    slots: tuple[str, ...]
    readers: tuple[str, ...]
    table: list[AgreementRow] = field(default_factory=list)
    pairwise: list[dict[str, object]] = field(default_factory=list)
    over_time: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: NaN becomes None."""
        return {
            "filters": self.filters,
            "read_level": self.read_level,
            "n_boot": self.n_boot,
            "seed": self.seed,
            "ci_level": self.ci_level,
            "scans": self.scan_count,
            "items": self.item_count,
            "reads": self.read_count,
            "columns": list(self.slots),
            "readers": list(self.readers),
            "table": [row.as_dict() for row in self.table],
            "pairwise": _nan_to_none(self.pairwise),
            "over_time": _nan_to_none(self.over_time),
        }


def agreement_scans(
    *, split: str | None = None, center_id: int | None = None, version_id: int | None = None
) -> QuerySet[Scan]:
    """The scans of the selection: a split, a center, and either every scan ("current", the
    default) or the scans frozen into one ground-truth version."""
    scans = Scan.objects.order_by()
    if split:
        scans = scans.filter(split=split)
    if center_id is not None:
        scans = scans.filter(center_id=center_id)
    if version_id is not None:
        if not GroundTruthVersion.objects.filter(pk=version_id).exists():
            raise NotFound(f"There is no ground-truth version {version_id}.")
        frozen = GroundTruthScanLabel.objects.filter(version_id=version_id).values("scan_id")
        scans = scans.filter(pk__in=frozen)
    return scans


def study_ratings_load(
    *,
    read_level: str = ReadLevel.SLICE,
    split: str | None = None,
    center_id: int | None = None,
    version_id: int | None = None,
) -> StudyRatings:
    """The completed reads of ``read_level`` on the selected scans, as ``StudyRatings``."""
    if read_level not in ReadLevel.values:
        raise InvalidInput(f"Unknown read level {read_level!r}.")
    scans = agreement_scans(split=split, center_id=center_id, version_id=version_id)
    reads = Read.objects.filter(
        status=ReadStatus.COMPLETED, level=read_level, scan_id__in=scans.values("pk")
    )
    read_rows = _read_rows(reads)
    scan_ids, read_scan = np.unique(read_rows["scan"], return_inverse=True)
    slot = _slots(read_scan, read_rows["cross"], read_rows["assigned"], read_rows["id"])
    n_slots = max(MIN_SLOTS, int(slot.max()) + 1 if len(slot) else 0)
    reader_ids, read_reader = np.unique(read_rows["reader"], return_inverse=True)
    slot_readers = np.full((len(scan_ids), n_slots), -1, dtype=np.int64)
    slot_readers[read_scan, slot] = read_reader
    finished = np.full(len(scan_ids), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(finished, read_scan, read_rows["day"])

    if read_level == ReadLevel.SLICE:
        item_scan, labels = _slice_labels(
            reads, read_rows["id"], scan_ids, read_scan, slot, n_slots
        )
    else:
        item_scan, labels = _scan_labels(
            reads, read_rows["id"], read_scan, slot, len(scan_ids), n_slots
        )
    return StudyRatings(
        read_level=read_level,
        slots=tuple(["primary", *(f"cross_{n}" for n in range(1, n_slots))]),
        readers=_usernames(reader_ids),
        scan_ids=scan_ids,
        item_scan=item_scan,
        labels=labels,
        slot_readers=slot_readers,
        scan_finished_day=finished,
        read_count=len(read_rows["id"]),
    )


def _read_rows(reads: QuerySet[Read]) -> dict[str, np.ndarray]:
    """One row per completed read; finish days in the server's time zone."""
    rows = list(
        reads.order_by().values_list(
            "id", "scan_id", "reader_id", "kind", "assigned_at", "finished_at"
        )
    )
    zone = timezone.get_current_timezone()
    return {
        "id": np.array([r[0] for r in rows], dtype=np.int64),
        "scan": np.array([r[1] for r in rows], dtype=np.int64),
        "reader": np.array([r[2] for r in rows], dtype=np.int64),
        "cross": np.array([r[3] != ReadKind.PRIMARY for r in rows], dtype=bool),
        "assigned": np.array([r[4].timestamp() for r in rows], dtype=float),
        "day": np.array(
            [timezone.localtime(r[5], zone).date().toordinal() for r in rows], dtype=np.int64
        ),
    }


def _slots(read_scan: np.ndarray, cross: np.ndarray, assigned: np.ndarray, ids: np.ndarray):
    """Each read's slot within its scan: the primary read first, then cross-reads in the order
    they were assigned (ties by id)."""
    order = np.lexsort((ids, assigned, cross, read_scan))
    slot = np.empty(len(ids), dtype=np.int64)
    if len(ids):
        ordered = read_scan[order]
        first = np.r_[True, ordered[1:] != ordered[:-1]]
        starts = np.flatnonzero(first)
        run = np.repeat(starts, np.diff(np.r_[starts, len(ids)]))
        slot[order] = np.arange(len(ids)) - run
    return slot


def _usernames(reader_ids: np.ndarray) -> tuple[str, ...]:
    from django.contrib.auth import get_user_model

    names = dict(
        get_user_model().objects.filter(pk__in=reader_ids.tolist()).values_list("pk", "username")
    )
    return tuple(names[int(pk)] for pk in reader_ids)


def _slice_labels(
    reads, read_ids, scan_ids, read_scan, slot, n_slots
) -> tuple[np.ndarray, np.ndarray]:
    """Items are the slices of every scan with a read; a read's slices start negative and its
    positive label rows (fetched with their rank within the scan) set the bits."""
    counts_by_scan = dict(
        Slice.objects.filter(scan_id__in=reads.values("scan_id"))
        .order_by()
        .values("scan_id")
        .annotate(n=Count("id"))
        .values_list("scan_id", "n")
    )
    counts = np.array([counts_by_scan.get(int(s), 0) for s in scan_ids], dtype=np.int64)
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    item_scan = np.repeat(np.arange(len(scan_ids)), counts)
    labels = np.full((int(counts.sum()), n_slots), NOT_READ, dtype=np.uint8)
    # Every slice of a scan with a read in a slot is read (negative unless labelled below).
    per_read = counts[read_scan]
    first_item = np.repeat(starts[read_scan], per_read)
    offset = np.arange(int(per_read.sum())) - np.repeat(np.cumsum(per_read) - per_read, per_read)
    labels[first_item + offset, np.repeat(slot, per_read)] = 0

    earlier = (
        Slice.objects.filter(
            scan_id=OuterRef("slice__scan_id"), position_index__lt=OuterRef("slice__position_index")
        )
        .order_by()
        .values("scan_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    positive = any_subtype_q()
    rows = np.array(
        list(
            SliceLabel.objects.filter(positive, read__in=reads)
            .order_by()
            .annotate(rank=Coalesce(Subquery(earlier, output_field=IntegerField()), Value(0)))
            .values_list("read_id", "rank", *SUBTYPES)
        ),
        dtype=np.int64,
    ).reshape(-1, 2 + len(SUBTYPES))
    _set_bits(labels, rows, read_ids=read_ids, read_item=starts[read_scan], slot=slot)
    return item_scan, labels


def _scan_labels(
    reads, read_ids, read_scan, slot, n_scans, n_slots
) -> tuple[np.ndarray, np.ndarray]:
    """Items are scans; a completed scan-level read without a label row is negative."""
    labels = np.full((n_scans, n_slots), NOT_READ, dtype=np.uint8)
    labels[read_scan, slot] = 0
    rows = np.array(
        list(
            ScanLabel.objects.filter(read__in=reads)
            .order_by()
            .annotate(rank=Value(0))
            .values_list("read_id", "rank", *SUBTYPES)
        ),
        dtype=np.int64,
    ).reshape(-1, 2 + len(SUBTYPES))
    _set_bits(labels, rows, read_ids=read_ids, read_item=read_scan, slot=slot)
    return np.arange(n_scans), labels


def _set_bits(labels, rows, *, read_ids, read_item, slot) -> None:
    """Write label rows (read id, item offset within its scan, one 0/1 per subtype);
    ``read_ids``, ``read_item`` and ``slot`` are per read, in one order."""
    if not len(rows):
        return
    by_id = np.argsort(read_ids)
    read = by_id[np.searchsorted(read_ids, rows[:, 0], sorter=by_id)]
    bits = rows[:, 2:] @ np.array([SUBTYPE_BITS[s] for s in SUBTYPES], dtype=np.int64)
    labels[read_item[read] + rows[:, 1], slot[read]] = bits.astype(np.uint8)


def agreement_report(
    *,
    read_level: str = ReadLevel.SLICE,
    split: str | None = None,
    center_id: int | None = None,
    version_id: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    ci_level: float = 0.95,
) -> AgreementReport:
    """Agreement of the completed reads on the selected scans: the table (every label at
    slice and scan level, or scan level only for scan-level reads), reader-pair kappa matrices
    and agreement by week. An empty selection gives an empty report, not an error."""
    ratings = study_ratings_load(
        read_level=read_level, split=split, center_id=center_id, version_id=version_id
    )
    filters: dict[str, object] = {
        "split": split,
        "center": center_id,
        "version": version_id if version_id is not None else "current",
        "level": read_level,
    }
    report = AgreementReport(
        filters=filters,
        read_level=read_level,
        n_boot=n_boot,
        seed=seed,
        ci_level=ci_level,
        scan_count=len(ratings.scan_ids),
        item_count=len(ratings.item_scan),
        read_count=ratings.read_count,
        slots=ratings.slots,
        readers=ratings.readers,
    )
    if not ratings.read_count:
        return report
    by_label = ratings.ratings_by_label()
    if read_level == ReadLevel.SLICE:
        table = agreement_table(
            by_label, ratings.groups, ratings.slots, n_boot=n_boot, seed=seed, ci_level=ci_level
        )
    else:
        table = [
            AgreementRow(
                label=label,
                level="scan",
                statistics=agreement_statistics(
                    values, readers=ratings.slots, n_boot=n_boot, seed=seed, ci_level=ci_level
                ),
            )
            for label, values in by_label.items()
        ]
    report.table.extend(table)
    report.pairwise.extend(reader_pair_kappas(ratings, by_label))
    report.over_time.extend(agreement_by_week(ratings, by_label["any"]))
    return report


def _scan_level(ratings: StudyRatings, values: np.ndarray) -> np.ndarray:
    """Per scan and slot: positive if any of the scan's slices is (items already scans for
    scan-level reads)."""
    if ratings.read_level == ReadLevel.SCAN:
        return values.astype(float)
    level_values, _ = scan_ratings(values, ratings.item_scan)
    return level_values


def reader_pair_kappas(
    ratings: StudyRatings, by_label: Mapping[str, np.ndarray]
) -> list[dict[str, object]]:
    """Cohen's kappa of every pair of readers (by identity) per label and level, each pair on
    the items both read; ``n_items`` says how many that was. The diagonal is 1 where the
    reader used both values, else NaN, as in the agreement module."""
    n_readers = len(ratings.readers)
    # Slot of each reader in each scan, -1 where the reader did not read it.
    slot_of = np.full((len(ratings.scan_ids), n_readers), -1, dtype=np.int64)
    scan_index, slot_index = np.nonzero(ratings.slot_readers >= 0)
    slot_of[scan_index, ratings.slot_readers[scan_index, slot_index]] = slot_index
    levels = {"scan": slot_of}
    if ratings.read_level == ReadLevel.SLICE:
        levels = {"slice": slot_of[ratings.item_scan], **levels}
    out = []
    for label, values in by_label.items():
        for level, item_slots in levels.items():
            if level == "slice":
                items = np.where(values < 0, np.nan, values.astype(float))
            else:
                items = _scan_level(ratings, values)
            kappa, shared = _pair_matrix(items, item_slots)
            out.append(
                {
                    "label": label,
                    "level": level,
                    "readers": list(ratings.readers),
                    "kappa": kappa.tolist(),
                    "n_items": shared.tolist(),
                }
            )
    return out


def _pair_matrix(items: np.ndarray, item_slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kappa, shared items) reader x reader; ``item_slots[i, r]`` is reader r's slot on
    item i (-1: not read).

    Every pair's 2x2 table comes from four matrix products over (item x reader) indicator
    arrays, so the cost does not grow with the pairs; the kappa is the agreement module's
    closed form for a 2x2 table, and a test holds it to ``pairwise_cohen_kappa``. (That
    function treats each item as its own bootstrap unit, which is slow for 10^6 slices.)
    The diagonal is 1 where the reader used both values, else NaN, as there."""
    read = item_slots >= 0
    rows, readers = np.nonzero(read)
    values = np.zeros(read.shape)
    values[rows, readers] = items[rows, item_slots[rows, readers]]
    pos = (read & (values == 1)).astype(float)
    neg = (read & (values == 0)).astype(float)
    a, b, c, d = neg.T @ neg, neg.T @ pos, pos.T @ neg, pos.T @ pos
    denominator = (a + b) * (b + d) + (a + c) * (c + d)
    kappa = np.divide(
        2 * (a * d - b * c),
        denominator,
        out=np.full(denominator.shape, np.nan),
        where=denominator != 0,
    )
    shared = np.rint(a + b + c + d).astype(np.int64)
    return kappa, shared


def agreement_by_week(ratings: StudyRatings, any_values: np.ndarray) -> list[dict[str, object]]:
    """Fleiss' kappa of any ICH at scan level per ISO week of the scans' last finished read,
    for the week's scans and cumulatively (see the module docstring)."""
    per_scan = _scan_level(ratings, any_values)
    counted = (~np.isnan(per_scan)).sum(axis=1) >= 2
    day = ratings.scan_finished_day
    week_start = day - (day - 1) % 7  # ordinal 1 (0001-01-01) is a Monday
    out = []
    for start in np.unique(week_start[counted]):
        in_week = counted & (week_start == start)
        so_far = counted & (week_start <= start)
        monday = dt.date.fromordinal(int(start))
        year, week, _ = monday.isocalendar()
        out.append(
            {
                "week": f"{year}-W{week:02d}",
                "week_start": monday.isoformat(),
                "scans": int(in_week.sum()),
                "fleiss_kappa": _fleiss(per_scan[in_week]),
                "cumulative_scans": int(so_far.sum()),
                "cumulative_fleiss_kappa": _fleiss(per_scan[so_far]),
            }
        )
    return out


def _fleiss(values: np.ndarray) -> float:
    return fleiss_kappa(values) if len(values) else math.nan


_CSV_STATISTICS = (
    "fleiss_kappa",
    "krippendorff_alpha",
    "mean_cohen_kappa",
    "percent_agreement",
    "prevalence",
)


def agreement_table_csv(report: AgreementReport) -> str:
    """The agreement table as CSV: one line per label and level, each statistic with its
    interval; empty cells for undefined values."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["label", "level", "n_items", "n_complete", "n_scans"]
    for name in _CSV_STATISTICS:
        header += [name, f"{name}_ci_low", f"{name}_ci_high"]
    writer.writerow(header)
    for row in report.table:
        stats = row.statistics
        line: list[object] = [row.label, row.level, stats.n_items, stats.n_complete, stats.n_scans]
        for name in _CSV_STATISTICS:
            estimate = getattr(stats, name)
            line += [_cell(estimate.estimate), _cell(estimate.ci_low), _cell(estimate.ci_high)]
        writer.writerow(line)
    return out.getvalue()


def _cell(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6f}"


def _nan_to_none(value: object) -> object:
    if isinstance(value, dict):
        return {key: _nan_to_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value

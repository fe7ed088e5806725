"""Benchmark: what changed between two ground-truth versions, scan by scan, at the paper's scale.

Builds the development set of bench/consensus.py (55,179 scans, 2,255,271 slices; validation
scans read three times, training scans once) in a fresh PostgreSQL database, freezes a
version, then changes the study as a round of second reads would: on 1% of the training
scans a second read that adds SDH on two slices, decided by an adjudicator (so the scan and
two slices change), and 0.2% of the scans with a read reopened (left out of the next
version). It freezes the next version and times ``ground_truth_scan_changes`` (the counts per
kind and class and the first page of 100 scans with why each changed) as the median of
``--repeats`` runs. Building is reported apart from the timed part.

    uv run python bench/ground_truth_changes.py [--repeats 3]

PostgreSQL from $BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/), which must
allow creating a database; the database ichlabel_bench_gt_changes_<pid> is dropped at the end.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.consensus import (  # noqa: E402
    DEVELOPMENT,
    VALIDATION,
    _build,
    _tables,
    _users,
    scratch_database,
)  # noqa: E402

SECOND_READ_SHARE = 0.01
REOPENED_SHARE = 0.002


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args()
    with scratch_database("gt_changes"):
        _run(args)


def _run(args) -> None:
    from django.db import connection

    from annotations.ground_truth.selectors import ground_truth_compare, ground_truth_scan_changes
    from annotations.ground_truth.services import ground_truth_freeze

    coordinator, readers = _users()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        _build(cursor, readers, rng, "validation", VALIDATION["scans"], VALIDATION["slices"], 3)
        _build(
            cursor,
            readers,
            rng,
            "train",
            DEVELOPMENT["scans"] - VALIDATION["scans"],
            DEVELOPMENT["slices"] - VALIDATION["slices"],
            1,
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    before = ground_truth_freeze(name="before", created_by=coordinator)
    changed, reopened = _second_reads(coordinator, readers, rng)
    after = ground_truth_freeze(name="after", created_by=coordinator)
    print(
        f"built {DEVELOPMENT['scans']:,} scans / {DEVELOPMENT['slices']:,} slices, froze "
        f"{before.scan_count:,} and {after.scan_count:,} scans, {changed:,} second reads "
        f"decided, {reopened:,} scans reopened, in {time.perf_counter() - started:.1f} s "
        "(not timed below)"
    )
    # Baseline in the same process: the versions' comparison without reasons (counts per level
    # and class, changed rows), what the changes page adds its reasons to.
    baseline = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ground_truth_compare(version_a=before, version_b=after, limit=100)
        baseline.append(time.perf_counter() - t0)
    runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = ground_truth_scan_changes(version_a=before, version_b=after, limit=100)
        runs.append(time.perf_counter() - t0)
    counts = result["counts"]
    sdh = counts["by_class"]["sdh"]
    explained = sum(bool(row["second_reads"] and row["adjudications"]) for row in result["scans"])
    print(
        f"changes: {counts['changed']:,} changed, {counts['added']:,} added, "
        f"{counts['removed']:,} removed; SDH +{sdh['scans_gained']:,} scans, "
        f"{sdh['slices_changed']:,} slices; first page {len(result['scans'])} scans, "
        f"{explained} with their second read and decisions"
    )
    print(
        f"baseline, ground_truth_compare (counts, 100 rows a level, no reasons): median "
        f"{statistics.median(baseline):.2f} s (runs: {', '.join(f'{x:.2f}' for x in baseline)})"
    )
    print(
        f"ground_truth_scan_changes (counts + page of 100 with reasons): median "
        f"{statistics.median(runs):.2f} s (runs: {', '.join(f'{x:.2f}' for x in runs)})"
    )


def _second_reads(coordinator, readers, rng) -> tuple[int, int]:
    """A round of second reads on training scans, set-based where the rows are many: each
    request, its completed cross-read with SDH on two slices, and the decided items."""
    from django.db import connection
    from django.utils import timezone

    from annotations.ground_truth.services import table
    from annotations.models import (
        AdjudicatedLabel,
        AdjudicationItem,
        Read,
        Scan,
        SecondReadRequest,
        Slice,
        SliceLabel,
    )

    t = _tables()
    train = np.array(Scan.objects.filter(split="train").values_list("pk", flat=True))
    picked = rng.choice(train, size=int(len(train) * SECOND_READ_SHARE), replace=False)
    now = timezone.now()
    first = dict(
        Read.objects.filter(scan_id__in=picked.tolist()).values_list("scan_id", "reader_id")
    )
    requests, new_reads = [], []
    for scan_id in picked.tolist():
        reader = next(r for r in readers if r != first[scan_id])
        new_reads.append(
            Read(
                scan_id=scan_id,
                reader_id=reader,
                kind="cross",
                level="slice",
                status="completed",
                started_at=now,
                finished_at=now,
            )
        )
    new_reads = Read.objects.bulk_create(new_reads)
    by_scan = {read.scan_id: read for read in new_reads}
    slices = {}
    for scan_id, slice_id in Slice.objects.filter(
        scan_id__in=picked.tolist(), position_index__in=[10, 11]
    ).values_list("scan_id", "id"):
        slices.setdefault(scan_id, []).append(slice_id)
    SliceLabel.objects.bulk_create(
        SliceLabel(read=by_scan[scan_id], slice_id=slice_id, sdh=True)
        for scan_id, ids in slices.items()
        for slice_id in ids
    )
    for scan_id, read in by_scan.items():
        requests.append(
            SecondReadRequest(
                scan_id=scan_id,
                read=read,
                requested_by=coordinator,
                reason={"source": "model", "model_version_name": "bench", "class": "sdh"},
                state="settled",
                disagreements=len(slices.get(scan_id, [])),
                read_completed_at=now,
                settled_at=now,
            )
        )
    requests = SecondReadRequest.objects.bulk_create(requests)
    items = AdjudicationItem.objects.bulk_create(
        AdjudicationItem(
            scan_id=request.scan_id,
            slice_id=slice_id,
            label="sdh",
            reason="second_read",
            status="resolved",
            positive_votes=1,
            total_votes=2,
            second_read=request,
            decided_at=now,
            decided_by=coordinator,
            decision_reason="SDH along the tentorium",
        )
        for request in requests
        for slice_id in slices.get(request.scan_id, [])
    )
    AdjudicatedLabel.objects.bulk_create(
        AdjudicatedLabel(item=item, scan_id=item.scan_id, slice_id=item.slice_id, sdh=True)
        for item in items
    )
    # Reopened: another open cross-read on a few scans leaves them out of the next version.
    others = np.setdiff1d(train, picked)
    reopened = rng.choice(others, size=int(len(train) * REOPENED_SHARE), replace=False)
    read_by = dict(
        Read.objects.filter(scan_id__in=reopened.tolist()).values_list("scan_id", "reader_id")
    )
    Read.objects.bulk_create(
        Read(
            scan_id=scan_id,
            reader_id=next(r for r in readers if r != read_by[scan_id]),
            kind="cross",
            level="slice",
        )
        for scan_id in reopened.tolist()
    )
    with connection.cursor() as cursor:
        for name in ("read", "label"):
            cursor.execute(f"ANALYZE {t[name]}")
        cursor.execute(f"ANALYZE {table(AdjudicationItem)}")
    return len(requests), len(reopened)


if __name__ == "__main__":
    main()

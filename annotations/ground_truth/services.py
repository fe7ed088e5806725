"""Consensus in the database: majority votes, final scans and frozen ground-truth versions.

Everything here is set-based SQL that runs on PostgreSQL and SQLite alike: one
``INSERT ... SELECT ... GROUP BY`` per level, whatever the number of slices (the paper's
development set has 2,255,271 slices read up to three times), never a Python loop over rows.

The rules, per scan:
- a scan is *final* when none of its active reads is open and it has as many completed reads
  as its split needs (``reading_plan``); a scan whose missing read an adjudicator resolved is
  final by that decision; a scan whose requested second read (an open read) or whose
  disagreements with it (open ``second_read`` items) are pending is not final;
- per slice and subtype the label is the strict majority of the completed reads (2 of 3; a
  single primary read of a training scan is its own majority; with a second read, two reads
  that agree); a slice a completed read left unlabelled counts as negative in that read;
- slice ``any`` is any subtype; a slice-level scan is positive for a class if any of its slices
  is; a scan-level scan (the prospective test set) takes the scan-level majority;
- an adjudicator's decision on a subtype overrides the vote; where several decisions cover the
  same slice and subtype, a positive one wins.
"""

import hashlib
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from annotations.assignment.plan import required_reads_sql
from annotations.models import (
    OPEN_READ_STATUSES,
    SUBTYPES,
    AdjudicatedLabel,
    AdjudicationItem,
    Center,
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    Read,
    ReadStatus,
    Role,
    Scan,
    ScanLabel,
    Slice,
    SliceLabel,
)
from annotations.vocabulary import GROUND_TRUTH_FIELDS, HEMORRHAGE_CLASSES
from ichlabel.errors import Conflict, InvalidInput


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def scan_filter_sql(
    *, center_id: int | None = None, split: str | None = None, scan_ids=None
) -> tuple[str, list]:
    """An SQL condition on ``sc`` (the scan table) and its parameters."""
    clauses: list[str] = ["1 = 1"]
    params: list[object] = []
    if center_id is not None:
        clauses.append("sc.center_id = %s")
        params.append(center_id)
    if split:
        clauses.append("sc.split = %s")
        params.append(split)
    if scan_ids is not None:
        ids = [int(i) for i in scan_ids] or [-1]
        clauses.append(f"sc.id IN ({', '.join(['%s'] * len(ids))})")
        params.extend(ids)
    return " AND ".join(clauses), params


def final_scans_cte(*, where: str = "1 = 1") -> str:
    """CTEs ``rs`` (reads per scan) and ``final`` (scans whose labels are final: scan_id, done,
    by_vote, scan_level). ``where`` filters ``sc``; the resolved-missing-read test comes first
    in the parameters: none."""
    read, scan, item = table(Read), table(Scan), table(AdjudicationItem)
    return f"""
    rs AS (
        SELECT r.scan_id AS scan_id,
               SUM(CASE WHEN r.status = 'completed' THEN 1 ELSE 0 END) AS done,
               SUM(CASE WHEN r.status IN ('assigned', 'in_progress') THEN 1 ELSE 0 END)
                   AS open_reads,
               MAX(CASE WHEN r.level = 'scan' THEN 1 ELSE 0 END) AS scan_level
        FROM {read} r
        GROUP BY r.scan_id
    ),
    final AS (
        SELECT sc.id AS scan_id, rs.done AS done, rs.scan_level AS scan_level,
               CASE WHEN rs.open_reads = 0 AND rs.done >= {required_reads_sql("sc.split")}
                    THEN 1 ELSE 0 END AS by_vote
        FROM {scan} sc
        JOIN rs ON rs.scan_id = sc.id
        WHERE ({where}) AND (
            (rs.open_reads = 0 AND rs.done >= {required_reads_sql("sc.split")})
            OR EXISTS (
                SELECT 1 FROM {item} ai
                WHERE ai.scan_id = sc.id AND ai.reason = 'missing_read'
                  AND ai.status = 'resolved'
            )
        ) AND NOT EXISTS (
            SELECT 1 FROM {item} ai
            WHERE ai.scan_id = sc.id AND ai.reason = 'second_read' AND ai.status = 'open'
        )
    )"""


def slice_votes_cte() -> str:
    """CTE ``votes``: per slice with at least one positive label in a completed read, how
    many completed reads marked each subtype. A slice missing here has no positive vote
    (every label row of it is negative, or it has none): callers LEFT JOIN and count 0.
    Only the positive rows (a few percent) are grouped, not one row per slice and read."""
    sums = ", ".join(f"SUM(CASE WHEN l.{s} THEN 1 ELSE 0 END) AS {s}" for s in SUBTYPES)
    positive = " OR ".join(f"l.{s}" for s in SUBTYPES)
    return f"""
    votes AS (
        SELECT l.slice_id AS slice_id, {sums}
        FROM {table(SliceLabel)} l
        JOIN {table(Read)} r ON r.id = l.read_id
        WHERE r.status = 'completed' AND ({positive})
        GROUP BY l.slice_id
    )"""


def scan_votes_cte() -> str:
    """CTE ``svotes``: per scan-level scan, how many completed reads marked each subtype."""
    sums = ", ".join(f"SUM(CASE WHEN l.{s} THEN 1 ELSE 0 END) AS {s}" for s in SUBTYPES)
    return f"""
    svotes AS (
        SELECT r.scan_id AS scan_id, {sums}
        FROM {table(ScanLabel)} l
        JOIN {table(Read)} r ON r.id = l.read_id
        WHERE r.status = 'completed'
        GROUP BY r.scan_id
    )"""


def _decisions_cte(name: str, key: str, slice_level: bool) -> str:
    """CTE of resolved decisions per slice (or per scan): 1, 0 or NULL (not decided)."""
    values = ", ".join(
        f"MAX(CASE WHEN a.{s} THEN 1 WHEN NOT a.{s} THEN 0 END) AS {s}" for s in SUBTYPES
    )
    null_test = "IS NOT NULL" if slice_level else "IS NULL"
    return f"""
    {name} AS (
        SELECT a.{key} AS {key}, {values}
        FROM {table(AdjudicatedLabel)} a
        JOIN {table(AdjudicationItem)} ai ON ai.id = a.item_id
        WHERE ai.status = 'resolved' AND a.slice_id {null_test}
        GROUP BY a.{key}
    )"""


def _voted(subtype: str, votes: str, decisions: str) -> str:
    """1 or 0: the decision where there is one, else the strict majority of completed reads
    (only for scans final by vote; a scan final by adjudication alone takes decisions only)."""
    return (
        f"COALESCE({decisions}.{subtype}, CASE WHEN f.by_vote = 1 "
        f"AND 2 * COALESCE({votes}.{subtype}, 0) > f.done THEN 1 ELSE 0 END) AS {subtype}"
    )


def _label_columns(alias: str) -> str:
    """any_ich and the subtypes as booleans from 0/1 columns of ``alias``."""
    total = " + ".join(f"{alias}.{s}" for s in SUBTYPES)
    return ", ".join([f"({total}) > 0", *(f"{alias}.{s} = 1" for s in SUBTYPES)])


def _insert_slice_labels(cursor, version_id: int) -> None:
    """Rows go in by slice id: the version's index entries are then appended in order
    instead of landing on random pages, which at 2.25 M rows costs far more than the sort."""
    columns = "version_id, scan_id, slice_id, any_ich, " + ", ".join(SUBTYPES)
    cursor.execute(
        f"""
        WITH {final_scans_cte()}, {slice_votes_cte()},
        {_decisions_cte("dec", "slice_id", slice_level=True)}
        INSERT INTO {table(GroundTruthSliceLabel)} ({columns}, reads, adjudicated)
        SELECT %s, x.scan_id, x.slice_id, {_label_columns("x")}, x.done, x.adjudicated
        FROM (
            SELECT s.scan_id AS scan_id, s.id AS slice_id, f.done AS done,
                   {", ".join(_voted(st, "v", "d") for st in SUBTYPES)},
                   (d.slice_id IS NOT NULL) AS adjudicated
            FROM {table(Slice)} s
            JOIN final f ON f.scan_id = s.scan_id AND f.scan_level = 0
            LEFT JOIN votes v ON v.slice_id = s.id
            LEFT JOIN dec d ON d.slice_id = s.id
        ) x
        ORDER BY x.slice_id
        """,
        [version_id],
    )


def _insert_scan_labels(cursor, version_id: int) -> None:
    columns = "version_id, scan_id, level, any_ich, " + ", ".join(SUBTYPES)
    tail = "reads, adjudicated, positive_slices, center_id, center_name, split"
    # Each scan's center and split are frozen with its labels.
    scan_join = (
        f"JOIN {table(Scan)} sc ON sc.id = {{}} JOIN {table(Center)} ce ON ce.id = sc.center_id"
    )
    # Slice-level scans: positive for a class if any of their slices is.
    flags = ", ".join(f"MAX(CASE WHEN g.{c} THEN 1 ELSE 0 END) = 1" for c in GROUND_TRUTH_FIELDS)
    cursor.execute(
        f"""
        INSERT INTO {table(GroundTruthScanLabel)} ({columns}, {tail})
        SELECT %s, g.scan_id, 'slice', {flags}, MAX(g.reads),
               MAX(CASE WHEN g.adjudicated THEN 1 ELSE 0 END) = 1,
               SUM(CASE WHEN g.any_ich THEN 1 ELSE 0 END), sc.center_id, ce.name, sc.split
        FROM {table(GroundTruthSliceLabel)} g
        {scan_join.format("g.scan_id")}
        WHERE g.version_id = %s
        GROUP BY g.scan_id, sc.center_id, ce.name, sc.split
        """,
        [version_id, version_id],
    )
    # Scan-level scans (the prospective test set): the scan-level majority.
    cursor.execute(
        f"""
        WITH {final_scans_cte()}, {scan_votes_cte()},
        {_decisions_cte("sdec", "scan_id", slice_level=False)}
        INSERT INTO {table(GroundTruthScanLabel)} ({columns}, {tail})
        SELECT %s, x.scan_id, 'scan', {_label_columns("x")}, x.done, x.adjudicated, NULL,
               sc.center_id, ce.name, sc.split
        FROM (
            SELECT f.scan_id AS scan_id, f.done AS done,
                   {", ".join(_voted(st, "v", "d") for st in SUBTYPES)},
                   (d.scan_id IS NOT NULL) AS adjudicated
            FROM final f
            LEFT JOIN svotes v ON v.scan_id = f.scan_id
            LEFT JOIN sdec d ON d.scan_id = f.scan_id
            WHERE f.scan_level = 1
        ) x
        {scan_join.format("x.scan_id")}
        """,
        [version_id],
    )


def _bits(alias: str) -> str:
    return " || ".join(
        f"CASE WHEN {alias}.{c} THEN '1' ELSE '0' END" for c in ("any_ich", *SUBTYPES)
    )


def _canonical_lines_sql() -> str:
    """One line per scan and per slice of a version, with a sort key: the ground truth in a
    form that depends on nothing but the labels and the DICOM UIDs they belong to."""
    return f"""
        SELECT 0 AS part, sc.series_instance_uid AS sort_key,
               'scan|' || sc.series_instance_uid || '|' || g.level || '|' || {_bits("g")}
                   AS line
        FROM {table(GroundTruthScanLabel)} g JOIN {table(Scan)} sc ON sc.id = g.scan_id
        WHERE g.version_id = %s
        UNION ALL
        SELECT 1 AS part, s.sop_instance_uid AS sort_key,
               'slice|' || s.sop_instance_uid || '|' || {_bits("g")} AS line
        FROM {table(GroundTruthSliceLabel)} g JOIN {table(Slice)} s ON s.id = g.slice_id
        WHERE g.version_id = %s
    """


def ground_truth_content_sha256(*, version_id: int) -> str:
    """SHA-256 of the version's canonical listing: its scan lines, then its slice lines, each
    sorted by UID in byte order and ended by a newline. PostgreSQL hashes in the server
    (one aggregate, nothing streamed); SQLite, the embedded development database, streams
    the lines to Python. Both give the same digest."""
    lines = _canonical_lines_sql()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""SELECT encode(sha256(convert_to(COALESCE(string_agg(
                        line || E'\\n', '' ORDER BY part, sort_key COLLATE "C"), ''), 'UTF8')),
                        'hex')
                    FROM ({lines}) canonical""",
                [version_id, version_id],
            )
            return cursor.fetchone()[0]
        cursor.execute(
            f"SELECT line FROM ({lines}) canonical ORDER BY part, sort_key",
            [version_id, version_id],
        )
        digest = hashlib.sha256()
        while rows := cursor.fetchmany(10_000):
            digest.update("".join(f"{line}\n" for (line,) in rows).encode())
        return digest.hexdigest()


def _version_counts(cursor, version_id: int) -> dict:
    """Rows and positives per class at slice and scan level, and the adjudicated rows."""
    sums = ", ".join(
        f"SUM(CASE WHEN g.{c} THEN 1 ELSE 0 END)" for c in ("any_ich", *SUBTYPES, "adjudicated")
    )
    counts = {}
    for level, model in (("slices", GroundTruthSliceLabel), ("scans", GroundTruthScanLabel)):
        cursor.execute(
            f"SELECT COUNT(*), {sums} FROM {table(model)} g WHERE g.version_id = %s",
            [version_id],
        )
        total, *positives, adjudicated = cursor.fetchone()
        counts[level] = {
            "total": total,
            "positive": dict(zip(HEMORRHAGE_CLASSES, (p or 0 for p in positives), strict=True)),
            "adjudicated": adjudicated or 0,
        }
    cursor.execute(
        f"""SELECT COUNT(DISTINCT r.scan_id) FROM {table(Read)} r
            WHERE r.status <> 'withdrawn' AND NOT EXISTS (
                SELECT 1 FROM {table(GroundTruthScanLabel)} g
                WHERE g.version_id = %s AND g.scan_id = r.scan_id)""",
        [version_id],
    )
    counts["pending_scans"] = cursor.fetchone()[0]
    return counts


@transaction.atomic
def ground_truth_freeze(*, name: str, note: str = "", created_by) -> GroundTruthVersion:
    """Freeze the ground truth of every final scan into a new, immutable version: its slice
    and scan labels are inserted here, in one transaction, and never change afterwards.
    Scans whose reads are not all done are left out and counted as pending."""
    name = name.strip()
    if not name:
        raise InvalidInput("A ground-truth version needs a name.")
    if GroundTruthVersion.objects.filter(name=name).exists():
        raise Conflict(f"A ground-truth version named {name!r} exists.")
    version = GroundTruthVersion.objects.create(name=name, note=note.strip(), created_by=created_by)
    with connection.cursor() as cursor:
        _insert_slice_labels(cursor, version.pk)
        _insert_scan_labels(cursor, version.pk)
        counts = _version_counts(cursor, version.pk)
    if counts["scans"]["total"] == 0:
        raise Conflict(
            "No scan has all its reads completed yet: nothing to freeze.",
        )
    GroundTruthVersion.objects.filter(pk=version.pk).seal(
        content_sha256=ground_truth_content_sha256(version_id=version.pk),
        scan_count=counts["scans"]["total"],
        slice_count=counts["slices"]["total"],
        pending_scan_count=counts["pending_scans"],
        counts=counts,
    )
    return GroundTruthVersion.objects.get(pk=version.pk)


@transaction.atomic
def ground_truth_release(*, version_id: int, released_by) -> GroundTruthVersion:
    """Release a frozen version: from now on readers may see it for the scans they read."""
    version = GroundTruthVersion.objects.select_for_update().get(pk=version_id)
    if version.released:
        raise Conflict("This version is released already.")
    GroundTruthVersion.objects.filter(pk=version.pk).release(at=timezone.now(), by=released_by)
    return GroundTruthVersion.objects.get(pk=version.pk)


@dataclass(frozen=True)
class ReleaseConsequences:
    """Who sees what once a version is released, for the coordinator's confirmation."""

    version: int
    name: str
    scans: int
    slices: int
    # Neuroradiologists with a completed read of a scan in the version, and how many of those
    # (reader, scan) pairs there are: each reader sees the labels of their own scans only.
    readers: int
    reader_scans: int
    # Scans of the version with a read still open: their readers see them once they finish.
    scans_still_read: int
    refusal: str


def ground_truth_release_consequences(*, version_id: int) -> ReleaseConsequences:
    """What releasing the version would show to whom; ``refusal`` says why it cannot be
    released (it is already). Training is not affected: datasets are made from any frozen
    version, released or not."""
    version = GroundTruthVersion.objects.get(pk=version_id)
    in_version = GroundTruthScanLabel.objects.filter(version=version).values("scan_id")
    completed = Read.objects.filter(
        scan_id__in=in_version,
        status=ReadStatus.COMPLETED,
        reader__groups__name=Role.NEURORADIOLOGIST,
    )
    pairs = completed.values("reader_id", "scan_id").distinct()
    return ReleaseConsequences(
        version=version.pk,
        name=version.name,
        scans=version.scan_count,
        slices=version.slice_count,
        readers=completed.values("reader_id").distinct().count(),
        reader_scans=pairs.count(),
        scans_still_read=Read.objects.filter(scan_id__in=in_version, status__in=OPEN_READ_STATUSES)
        .values("scan_id")
        .distinct()
        .count(),
        refusal="This version is released already." if version.released else "",
    )

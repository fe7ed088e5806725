"""The CSV exports: slice labels, the RSNA 2019 challenge layout, scan labels and each
reader's raw labels. Each is a generator of byte chunks over rows streamed from the database;
the CSV holds data only (tools read it as it is), the version travels in the file name."""

from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.db import connection

from annotations.exports.base import ALL_SCANS, FETCH_ROWS, ExportFilters, byte_order, csv_chunks
from annotations.models import (
    SUBTYPES,
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    Patient,
    Read,
    ReadLevel,
    Scan,
    ScanLabel,
    Slice,
    SliceLabel,
)
from annotations.vocabulary import GROUND_TRUTH_FIELDS, HEMORRHAGE_CLASSES

CLASS_FIELDS = GROUND_TRUTH_FIELDS
CLASS_COLUMNS = HEMORRHAGE_CLASSES

SLICE_HEADER = (
    "patient_pseudonym",
    "series_instance_uid",
    "slice_index",
    "sop_instance_uid",
    *CLASS_COLUMNS,
)
SCAN_HEADER = (
    "patient_pseudonym",
    "series_instance_uid",
    "center",
    "split",
    "level",
    "slice_count",
    "positive_slices",
    *CLASS_COLUMNS,
    "reads",
    "adjudicated",
)
READER_LABEL_HEADER = (
    "patient_pseudonym",
    "series_instance_uid",
    "reader",
    "read_kind",
    "read_status",
    "read_level",
    "slice_index",
    "sop_instance_uid",
    *SUBTYPES,
    "no_hemorrhage",
    "label_version",
)

# The RSNA 2019 Intracranial Hemorrhage Detection challenge: its subtype names, in the order
# its stage-2 files list them for each image, with the ground-truth field of each.
RSNA_SUBTYPES = (
    ("epidural", "edh"),
    ("intraparenchymal", "iph"),
    ("intraventricular", "ivh"),
    ("subarachnoid", "sah"),
    ("subdural", "sdh"),
    ("any", "any_ich"),
)


def _bit(value) -> int | str:
    """0/1 for a stored flag; empty where nothing was stored (an unlabelled slice)."""
    return "" if value is None else int(bool(value))


def _slice_label_rows(version: GroundTruthVersion, filters: ExportFilters) -> Iterator[tuple]:
    """The version's slice labels by series UID (bytewise) and slice index."""
    return (
        GroundTruthSliceLabel.objects.filter(version=version, **filters.scan_lookups(version))
        .order_by(byte_order("scan__series_instance_uid"), "slice__position_index")
        .values_list(
            "scan__patient__pseudonym",
            "scan__series_instance_uid",
            "slice__position_index",
            "slice__sop_instance_uid",
            *CLASS_FIELDS,
        )
        .iterator(chunk_size=FETCH_ROWS)
    )


def iter_slices_csv(
    *, version: GroundTruthVersion, filters: ExportFilters = ALL_SCANS
) -> Iterator[bytes]:
    """Slice-level ground truth: one row per slice of the version's slice-level scans."""
    rows = (
        (pseudonym, series, index, sop, *(int(flag) for flag in flags))
        for pseudonym, series, index, sop, *flags in _slice_label_rows(version, filters)
    )
    return csv_chunks(SLICE_HEADER, rows)


def iter_rsna_csv(
    *, version: GroundTruthVersion, filters: ExportFilters = ALL_SCANS
) -> Iterator[bytes]:
    """The RSNA 2019 layout: ``ID,Label`` and, per slice, six rows
    ``ID_<SOPInstanceUID>_<subtype>,<0|1>`` in the challenge's subtype order."""
    positions = {field: index for index, field in enumerate(CLASS_FIELDS)}

    def rows() -> Iterator[tuple[str, int]]:
        for _pseudonym, _series, _index, sop, *flags in _slice_label_rows(version, filters):
            for name, field in RSNA_SUBTYPES:
                yield f"ID_{sop}_{name}", int(flags[positions[field]])

    return csv_chunks(("ID", "Label"), rows())


def iter_scans_csv(
    *, version: GroundTruthVersion, filters: ExportFilters = ALL_SCANS
) -> Iterator[bytes]:
    """Scan-level ground truth: slice-level scans (positive if any slice is, with the count
    of positive slices) and scan-level scans (the scan-level majority; no slice count)."""
    labels = (
        GroundTruthScanLabel.objects.filter(version=version, **filters.frozen_lookups())
        .order_by(byte_order("scan__series_instance_uid"))
        .values_list(
            "scan__patient__pseudonym",
            "scan__series_instance_uid",
            "center_name",
            "split",
            "level",
            "scan__slice_count",
            "positive_slices",
            *CLASS_FIELDS,
            "reads",
            "adjudicated",
        )
        .iterator(chunk_size=FETCH_ROWS)
    )

    def rows() -> Iterator[tuple]:
        for *head, positive, any_ich, iph, ivh, sah, sdh, edh, reads, adjudicated in labels:
            flags = (int(flag) for flag in (any_ich, iph, ivh, sah, sdh, edh))
            yield (*head, "" if positive is None else positive, *flags, reads, int(adjudicated))

    return csv_chunks(SCAN_HEADER, rows())


def _quoted(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _reader_label_sql(version: GroundTruthVersion, filters: ExportFilters) -> tuple[str, list]:
    """Every read of the version's scans that was complete when the version was frozen (the
    reads that voted), per slice for slice-level reads (a slice the reader left unlabelled
    has empty flags and label version 0) and once for scan-level reads."""
    user = get_user_model()
    scan_where, scan_params = ["1 = 1"], []
    if filters.split:
        scan_where.append("g.split = %s")
        scan_params.append(filters.split)
    if filters.center_id is not None:
        scan_where.append("g.center_id = %s")
        scan_params.append(filters.center_id)
    common = f"""
        FROM {_quoted(Read)} r
        JOIN {_quoted(Scan)} sc ON sc.id = r.scan_id
        JOIN {_quoted(Patient)} p ON p.id = sc.patient_id
        JOIN {_quoted(user)} u ON u.id = r.reader_id"""
    where = f"""
        r.scan_id IN (SELECT g.scan_id FROM {_quoted(GroundTruthScanLabel)} g
                      WHERE g.version_id = %s AND {" AND ".join(scan_where)})
        AND r.finished_at IS NOT NULL AND r.finished_at <= %s"""
    flags = ", ".join(f"l.{name}" for name in (*SUBTYPES, "no_hemorrhage"))
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    sql = f"""
        SELECT x.* FROM (
            SELECT p.pseudonym AS pseudonym, sc.series_instance_uid AS series_uid,
                   u.username AS reader, r.kind AS kind, r.status AS status, r.level AS level,
                   s.position_index AS slice_index, s.sop_instance_uid AS sop_uid,
                   {flags}, l.version AS label_version
            {common}
            JOIN {_quoted(Slice)} s ON s.scan_id = r.scan_id
            LEFT JOIN {_quoted(SliceLabel)} l ON l.read_id = r.id AND l.slice_id = s.id
            WHERE r.level = '{ReadLevel.SLICE}' AND {where}
            UNION ALL
            SELECT p.pseudonym, sc.series_instance_uid, u.username, r.kind, r.status, r.level,
                   NULL, NULL, {flags}, l.version
            {common}
            LEFT JOIN {_quoted(ScanLabel)} l ON l.read_id = r.id
            WHERE r.level = '{ReadLevel.SCAN}' AND {where}
        ) x
        ORDER BY x.series_uid{collate}, x.reader{collate}, x.slice_index"""
    where_params = [version.pk, *scan_params, version.created_at]
    return sql, [*where_params, *where_params]


def _reader_label_rows(version: GroundTruthVersion, filters: ExportFilters) -> Iterator[tuple]:
    sql, params = _reader_label_sql(version, filters)
    # A server-side cursor on PostgreSQL: the rows arrive in batches, never all at once.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch


def iter_reader_labels_csv(
    *, version: GroundTruthVersion, filters: ExportFilters = ALL_SCANS
) -> Iterator[bytes]:
    """Each reader's raw labels behind the version, unblinded: for coordinators only."""
    rows = (
        (
            pseudonym,
            series,
            reader,
            kind,
            status,
            level,
            "" if index is None else index,
            sop or "",
            *(_bit(flag) for flag in flags),
            label_version or 0,
        )
        for pseudonym, series, reader, kind, status, level, index, sop, *flags, label_version in (
            _reader_label_rows(version, filters)
        )
    )
    return csv_chunks(READER_LABEL_HEADER, rows)

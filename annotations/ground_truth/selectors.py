"""Reads of ground-truth versions, blinded by role.

Coordinators and ML engineers see every frozen version whole (``ground_truth_*``). A reader has
a view of their own (``*_for_reader``): released versions only, and of those only the labels of
scans they completed a read of; never how many reads a scan had, whether it was adjudicated, or
a count over scans they did not read.
"""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from annotations.ground_truth.services import table
from annotations.models import (
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    Read,
    ReadStatus,
    Role,
    Slice,
)
from annotations.permissions import user_has_role
from annotations.vocabulary import GROUND_TRUTH_FIELDS, HEMORRHAGE_CLASSES


def _may_see_all_ground_truth(user) -> bool:
    return user_has_role(user, Role.COORDINATOR, Role.ML_ENGINEER)


def ground_truth_version_list(*, user) -> QuerySet[GroundTruthVersion]:
    """Every frozen version, whole, for coordinators and ML engineers; none for anyone else
    (readers have ``ground_truth_version_list_for_reader``)."""
    versions = GroundTruthVersion.objects.select_related("created_by", "released_by")
    if _may_see_all_ground_truth(user):
        return versions
    return versions.none()


def ground_truth_version_get(*, version_id: int, user) -> GroundTruthVersion:
    return ground_truth_version_list(user=user).get(pk=version_id)


def ground_truth_scan_label_list(
    *, version: GroundTruthVersion, user, scan_id: int | None = None
) -> QuerySet[GroundTruthScanLabel]:
    labels = GroundTruthScanLabel.objects.filter(version=version).select_related("scan__center")
    if not _may_see_all_ground_truth(user):
        labels = labels.none()
    if scan_id is not None:
        labels = labels.filter(scan_id=scan_id)
    return labels.order_by("scan_id")


def ground_truth_slice_label_list(
    *, version: GroundTruthVersion, user, scan_id: int
) -> QuerySet[GroundTruthSliceLabel]:
    """The slice labels of one scan in a version (DoesNotExist where the scan is not visible)."""
    ground_truth_scan_label_list(version=version, user=user, scan_id=scan_id).get()
    return (
        GroundTruthSliceLabel.objects.filter(version=version, scan_id=scan_id)
        .select_related("slice")
        .order_by("slice__position_index")
    )


# --- the reader's view ----------------------------------------------------------------------


def _own_completed_read(reader) -> QuerySet[Read]:
    """The reader's completed read of the outer row's scan (one read per reader and scan)."""
    return Read.objects.filter(
        scan_id=OuterRef("scan_id"), reader=reader, status=ReadStatus.COMPLETED
    )


def _scan_labels_for_reader(reader) -> QuerySet[GroundTruthScanLabel]:
    """Labels of released versions for the scans the reader completed a read of (a completed
    read is never open again, so no read of theirs is unblinded)."""
    if not user_has_role(reader, Role.NEURORADIOLOGIST):
        return GroundTruthScanLabel.objects.none()
    return GroundTruthScanLabel.objects.filter(
        Exists(_own_completed_read(reader)), version__released_at__isnull=False
    )


def ground_truth_version_list_for_reader(*, reader) -> QuerySet[GroundTruthVersion]:
    """Released versions that hold a scan the reader read, with ``scan_count``: how many of
    those scans it holds (nothing is counted over scans they did not read)."""
    mine = _scan_labels_for_reader(reader)
    return (
        GroundTruthVersion.objects.filter(pk__in=mine.values("version_id"))
        .annotate(scan_count_for_reader=Count("scan_labels", filter=Q(scan_labels__in=mine)))
        .order_by("-released_at", "-id")
    )


def ground_truth_names_for_reader(*, reader) -> dict[int, str]:
    """Per scan the reader completed a read of, the name of the newest released version that
    holds it (a scan without one is left out)."""
    # Oldest first, so that the dict keeps each scan's newest version (no DISTINCT ON: the
    # embedded database, SQLite, has none).
    rows = (
        _scan_labels_for_reader(reader)
        .order_by("version__released_at", "version_id")
        .values_list("scan_id", "version__name")
    )
    return dict(rows)


def ground_truth_version_get_for_reader(*, version_id: int, reader) -> GroundTruthVersion:
    return ground_truth_version_list_for_reader(reader=reader).get(pk=version_id)


def ground_truth_scan_label_list_for_reader(
    *, version: GroundTruthVersion, reader, scan_id: int | None = None
) -> QuerySet[GroundTruthScanLabel]:
    """The version's labels of the scans the reader read, each with ``read_id``: their read."""
    labels = _scan_labels_for_reader(reader).filter(version=version)
    if scan_id is not None:
        labels = labels.filter(scan_id=scan_id)
    own_read = _own_completed_read(reader).values("pk")[:1]
    return labels.annotate(read_id=Subquery(own_read)).order_by("scan_id")


def ground_truth_slice_label_list_for_reader(
    *, version: GroundTruthVersion, reader, scan_id: int
) -> QuerySet[GroundTruthSliceLabel]:
    """The slice labels of one scan the reader read (DoesNotExist for any other scan)."""
    ground_truth_scan_label_list_for_reader(version=version, reader=reader, scan_id=scan_id).get()
    return (
        GroundTruthSliceLabel.objects.filter(version=version, scan_id=scan_id)
        .select_related("slice")
        .order_by("slice__position_index")
    )


def ground_truth_compare(
    *, version_a: GroundTruthVersion, version_b: GroundTruthVersion, limit: int = 200
) -> dict:
    """What changed between two versions, counted in the database: per level, rows only in
    one version, rows whose labels differ and the differing rows per class; then up to
    ``limit`` changed rows per level with both label sets."""
    from django.db import connection

    from annotations.ground_truth.services import table

    result = {}
    for level, model, key, index in (
        ("slices", GroundTruthSliceLabel, "slice_id", "s.position_index"),
        ("scans", GroundTruthScanLabel, "scan_id", "NULL"),
    ):
        t = table(model)
        differs = " OR ".join(f"a.{c} <> b.{c}" for c in GROUND_TRUTH_FIELDS)
        per_class = ", ".join(
            f"SUM(CASE WHEN a.{c} <> b.{c} THEN 1 ELSE 0 END)" for c in GROUND_TRUTH_FIELDS
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT COUNT(*), SUM(CASE WHEN {differs} THEN 1 ELSE 0 END), {per_class}
                    FROM {t} a JOIN {t} b ON b.{key} = a.{key} AND b.version_id = %s
                    WHERE a.version_id = %s""",
                [version_b.pk, version_a.pk],
            )
            both, changed, *by_class = cursor.fetchone()
            only = []
            for this, other in ((version_a, version_b), (version_b, version_a)):
                cursor.execute(
                    f"""SELECT COUNT(*) FROM {t} a WHERE a.version_id = %s AND NOT EXISTS (
                        SELECT 1 FROM {t} b WHERE b.version_id = %s AND b.{key} = a.{key})""",
                    [this.pk, other.pk],
                )
                only.append(cursor.fetchone()[0])
            columns = ", ".join(f"a.{c}, b.{c}" for c in GROUND_TRUTH_FIELDS)
            join_slice = f"JOIN {table(Slice)} s ON s.id = a.slice_id" if level == "slices" else ""
            cursor.execute(
                f"""SELECT a.scan_id, {index}, {columns}
                    FROM {t} a JOIN {t} b ON b.{key} = a.{key} AND b.version_id = %s
                    {join_slice}
                    WHERE a.version_id = %s AND ({differs})
                    ORDER BY a.scan_id, a.{key} LIMIT %s""",
                [version_b.pk, version_a.pk, limit],
            )
            rows = [
                {
                    "scan": row[0],
                    "slice_index": row[1],
                    "a": _class_values(row[2::2]),
                    "b": _class_values(row[3::2]),
                }
                for row in cursor.fetchall()
            ]
        result[level] = {
            "in_both": both,
            "only_in_a": only[0],
            "only_in_b": only[1],
            "changed": changed or 0,
            "changed_by_class": dict(
                zip(HEMORRHAGE_CLASSES, (n or 0 for n in by_class), strict=True)
            ),
            "changed_rows": rows,
        }
    return {
        "a": {"id": version_a.pk, "name": version_a.name, "sha256": version_a.content_sha256},
        "b": {"id": version_b.pk, "name": version_b.name, "sha256": version_b.content_sha256},
        "identical": version_a.content_sha256 == version_b.content_sha256,
        **result,
    }


def _class_values(values) -> dict[str, bool]:
    return dict(zip(HEMORRHAGE_CLASSES, map(bool, values), strict=True))


# --- what changed between two versions, scan by scan, and why --------------------------------

SCAN_CHANGES = ("changed", "added", "removed")


def _slice_differences(a_id: int, b_id: int) -> dict[int, list[int]]:
    """Per scan, the slices whose labels differ between the versions: their count, then per
    class (``HEMORRHAGE_CLASSES`` order) how many differ in it. One join of the two versions'
    slice rows (2.25 M each at the paper's scale), grouped where they differ."""
    from django.db import connection

    slice_ = table(GroundTruthSliceLabel)
    differs = " OR ".join(f"a.{c} <> b.{c}" for c in GROUND_TRUTH_FIELDS)
    per_class = ", ".join(
        f"SUM(CASE WHEN a.{c} <> b.{c} THEN 1 ELSE 0 END)" for c in GROUND_TRUTH_FIELDS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.scan_id, COUNT(*), {per_class}
                FROM {slice_} a JOIN {slice_} b ON b.slice_id = a.slice_id
                WHERE a.version_id = %s AND b.version_id = %s AND ({differs})
                GROUP BY a.scan_id""",
            [a_id, b_id],
        )
        return {row[0]: [int(n or 0) for n in row[1:]] for row in cursor.fetchall()}


def _scan_differences(a_id: int, b_id: int) -> tuple[dict[int, str], dict[str, list[int]]]:
    """Scans whose scan labels or split differ ("changed") or that one version lacks ("added",
    "removed"), and per class the scans positive only in ``b`` and only in ``a``."""
    from django.db import connection

    scan = table(GroundTruthScanLabel)
    differs = " OR ".join(f"a.{c} <> b.{c}" for c in GROUND_TRUTH_FIELDS)
    sums = ", ".join(
        f"SUM(CASE WHEN b.{c} AND NOT a.{c} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN a.{c} AND NOT b.{c} THEN 1 ELSE 0 END)"
        for c in GROUND_TRUTH_FIELDS
    )
    kinds: dict[int, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.scan_id FROM {scan} a JOIN {scan} b ON b.scan_id = a.scan_id
                WHERE a.version_id = %s AND b.version_id = %s
                  AND ({differs} OR a.split <> b.split)""",
            [a_id, b_id],
        )
        kinds.update((scan_id, "changed") for (scan_id,) in cursor.fetchall())
        for kind, this, other in (("removed", a_id, b_id), ("added", b_id, a_id)):
            cursor.execute(
                f"""SELECT x.scan_id FROM {scan} x WHERE x.version_id = %s AND NOT EXISTS (
                    SELECT 1 FROM {scan} y WHERE y.version_id = %s AND y.scan_id = x.scan_id)""",
                [this, other],
            )
            kinds.update((scan_id, kind) for (scan_id,) in cursor.fetchall())
        cursor.execute(
            f"""SELECT {sums} FROM {scan} a JOIN {scan} b ON b.scan_id = a.scan_id
                WHERE a.version_id = %s AND b.version_id = %s""",
            [a_id, b_id],
        )
        counts = cursor.fetchone()
    gained_lost = {
        name: [int(counts[2 * i] or 0), int(counts[2 * i + 1] or 0)]
        for i, name in enumerate(HEMORRHAGE_CLASSES)
    }
    return kinds, gained_lost


def ground_truth_scan_changes(
    *,
    version_a: GroundTruthVersion,
    version_b: GroundTruthVersion,
    limit: int = 100,
    offset: int = 0,
    change: str | None = None,
) -> dict:
    """The scans that differ between two versions (scan labels, slice labels, split; added or
    removed), counted per kind and class, and a page of them (by scan id) with both label sets,
    the classes and slices that changed, and why: second reads requested (their recorded
    reason, state and reader), adjudication decisions (by whom, the decision and its reason),
    reads completed or withdrawn and the split, all between the two versions' freezes.

    Two set-based passes (the scan rows, and one join of the slice rows) find every changed
    scan; only the page's scans are then read row by row."""
    a_id, b_id = version_a.pk, version_b.pk
    kinds, gained_lost = _scan_differences(a_id, b_id)
    slices = _slice_differences(a_id, b_id)
    for scan_id in slices:
        kinds.setdefault(scan_id, "changed")
    counts = dict.fromkeys(SCAN_CHANGES, 0)
    for kind in kinds.values():
        counts[kind] += 1
    listed = sorted(scan_id for scan_id, kind in kinds.items() if change in (None, kind))
    page = [(scan_id, kinds[scan_id]) for scan_id in listed[offset : offset + limit]]
    ids = [scan_id for scan_id, _ in page]
    labels = {
        (row.version_id, row.scan_id): row
        for row in GroundTruthScanLabel.objects.filter(version_id__in=[a_id, b_id], scan_id__in=ids)
    }
    older, newer = sorted((version_a, version_b), key=lambda v: (v.created_at, v.pk))
    why = _change_reasons(scan_ids=ids, since=older.created_at, until=newer.created_at)
    scans = []
    for scan_id, kind in page:
        a, b = labels.get((a_id, scan_id)), labels.get((b_id, scan_id))
        either = b or a
        scans.append(
            {
                "scan": scan_id,
                "change": kind,
                "center": either.center_name if either else "",
                "split_a": a.split if a else None,
                "split_b": b.split if b else None,
                "a": _label_classes(a),
                "b": _label_classes(b),
                "classes_changed": [
                    name
                    for name, field_ in zip(HEMORRHAGE_CLASSES, GROUND_TRUTH_FIELDS, strict=True)
                    if a is not None and b is not None and getattr(a, field_) != getattr(b, field_)
                ],
                "slices_changed": slices.get(scan_id, [0])[0],
                "adjudicated_b": bool(b and b.adjudicated),
                "reads_a": a.reads if a else None,
                "reads_b": b.reads if b else None,
                **why.get(scan_id, _no_reasons()),
            }
        )
    by_class = {
        name: {
            "scans_gained": gained_lost[name][0],
            "scans_lost": gained_lost[name][1],
            "slices_changed": sum(row[1 + i] for row in slices.values()),
        }
        for i, name in enumerate(HEMORRHAGE_CLASSES)
    }
    return {
        "a": {"id": a_id, "name": version_a.name, "created_at": version_a.created_at},
        "b": {"id": b_id, "name": version_b.name, "created_at": version_b.created_at},
        "counts": {**counts, "total": len(kinds), "by_class": by_class},
        "limit": limit,
        "offset": offset,
        "scans": scans,
    }


def _label_classes(row: GroundTruthScanLabel | None) -> dict[str, bool] | None:
    if row is None:
        return None
    return _class_values(getattr(row, field_) for field_ in GROUND_TRUTH_FIELDS)


def _no_reasons() -> dict:
    return {"second_reads": [], "adjudications": [], "reads": []}


def _change_reasons(*, scan_ids: list[int], since, until) -> dict[int, dict]:
    """Per scan, what happened to it between two freezes: second reads asked for (before the
    later freeze and not settled before the earlier one), adjudication decisions and reads
    completed or withdrawn in between."""
    from annotations.adjudication.selectors import adjudication_decision_text
    from annotations.assignment.second_reads import second_read_reason_text
    from annotations.models import AdjudicationItem, AdjudicationStatus, SecondReadRequest

    reasons: dict[int, dict] = {scan_id: _no_reasons() for scan_id in scan_ids}
    requests = (
        SecondReadRequest.objects.filter(scan_id__in=scan_ids, requested_at__lte=until)
        .filter(Q(settled_at__isnull=True) | Q(settled_at__gt=since))
        .select_related("read__reader", "requested_by")
        .order_by("requested_at", "id")
    )
    for request in requests:
        reasons[request.scan_id]["second_reads"].append(
            {
                "id": request.pk,
                "requested_at": request.requested_at,
                "requested_by": request.requested_by.username,
                "reason": request.reason,
                "reason_text": second_read_reason_text(request.reason),
                "state": request.state,
                "reader": request.read.reader.username if request.read else None,
                "disagreements": request.disagreements,
            }
        )
    items = (
        AdjudicationItem.objects.filter(
            scan_id__in=scan_ids,
            status=AdjudicationStatus.RESOLVED,
            decided_at__gt=since,
            decided_at__lte=until,
        )
        .select_related("slice", "decided_by")
        .prefetch_related("labels")
        .order_by("decided_at", "id")
    )
    for item in items:
        reasons[item.scan_id]["adjudications"].append(
            {
                "item": item.pk,
                "reason": item.reason,
                "reason_label": item.get_reason_display(),
                "slice_index": item.slice.position_index if item.slice else None,
                "label": item.label,
                "decided_by": item.decided_by.username if item.decided_by else None,
                "decided_at": item.decided_at,
                "decision": adjudication_decision_text(item=item),
                "decision_reason": item.decision_reason,
            }
        )
    reads = (
        Read.objects.filter(scan_id__in=scan_ids)
        .filter(
            Q(status=ReadStatus.COMPLETED, finished_at__gt=since, finished_at__lte=until)
            | Q(status=ReadStatus.WITHDRAWN, withdrawn_at__gt=since, withdrawn_at__lte=until)
        )
        .select_related("reader")
        .order_by("id")
    )
    for read in reads:
        reasons[read.scan_id]["reads"].append(
            {
                "read": read.pk,
                "reader": read.reader.username,
                "kind": read.kind,
                "status": read.status,
                "at": read.finished_at
                if read.status == ReadStatus.COMPLETED
                else read.withdrawn_at,
            }
        )
    return reasons

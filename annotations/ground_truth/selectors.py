"""Reads of ground-truth versions, blinded by role.

Coordinators and ML engineers see every frozen version whole (``ground_truth_*``). A reader has
a view of their own (``*_for_reader``): released versions only, and of those only the labels of
scans they completed a read of; never how many reads a scan had, whether it was adjudicated, or
a count over scans they did not read.
"""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

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

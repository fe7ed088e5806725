"""Reads of ground-truth versions, blinded by role: a reader sees only released versions, and only
the scans they read.
"""

from django.db.models import QuerySet

from annotations.models import (
    ACTIVE_READ_STATUSES,
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    Role,
    Scan,
    Slice,
)
from annotations.permissions import user_has_role
from annotations.vocabulary import GROUND_TRUTH_FIELDS, HEMORRHAGE_CLASSES


def _may_see_all_ground_truth(user) -> bool:
    return user_has_role(user, Role.COORDINATOR, Role.ML_ENGINEER)


def ground_truth_version_list(*, user) -> QuerySet[GroundTruthVersion]:
    """Coordinators and ML engineers see every frozen version; a reader only released ones
    (before a release, consensus stays hidden from readers); anyone else none."""
    versions = GroundTruthVersion.objects.select_related("created_by", "released_by")
    if _may_see_all_ground_truth(user):
        return versions
    if user_has_role(user, Role.NEURORADIOLOGIST):
        return versions.filter(released_at__isnull=False)
    return versions.none()


def ground_truth_version_get(*, version_id: int, user) -> GroundTruthVersion:
    return ground_truth_version_list(user=user).get(pk=version_id)


def _scans_visible_in_ground_truth(user) -> QuerySet[Scan] | None:
    """None: every scan. A reader sees the ground truth of scans they read themselves."""
    if _may_see_all_ground_truth(user):
        return None
    return Scan.objects.filter(reads__reader=user, reads__status__in=ACTIVE_READ_STATUSES)


def ground_truth_scan_label_list(
    *, version: GroundTruthVersion, user, scan_id: int | None = None
) -> QuerySet[GroundTruthScanLabel]:
    labels = GroundTruthScanLabel.objects.filter(version=version).select_related("scan__center")
    visible = _scans_visible_in_ground_truth(user)
    if visible is not None:
        labels = labels.filter(scan__in=visible.values("pk"))
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

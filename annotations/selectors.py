"""Reads of the annotations app, always scoped and aggregated in the database."""

from django.db.models import Case, Count, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce

from annotations.models import (
    ACTIVE_READ_STATUSES,
    OPEN_READ_STATUSES,
    SUBTYPES,
    AdjudicatedLabel,
    AdjudicationItem,
    Center,
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    ImportBatch,
    QuarantinedSeries,
    Read,
    ReadStatus,
    Role,
    Scan,
    ScanLabel,
    Slice,
    SliceLabel,
)
from annotations.permissions import user_has_role


def center_list() -> QuerySet[Center]:
    """Centers with their scan and slice counts, per split of their scans."""
    return Center.objects.annotate(
        scan_count=Count("scans"),
        slice_count=Coalesce(Sum("scans__slice_count"), 0),
        train_scans=Count("scans", filter=Q(scans__split="train")),
        validation_scans=Count("scans", filter=Q(scans__split="validation")),
        test_scans=Count("scans", filter=Q(scans__split="test")),
    ).order_by("name")


def split_totals() -> dict[str, dict[str, int]]:
    rows = Scan.objects.values("split").annotate(scans=Count("id"), slices=Sum("slice_count"))
    return {row["split"]: {"scans": row["scans"], "slices": row["slices"] or 0} for row in rows}


def scan_list(
    *, center_id: int | None = None, split: str | None = None, flag: str | None = None
) -> QuerySet[Scan]:
    scans = Scan.objects.select_related("center", "patient")
    if center_id is not None:
        scans = scans.filter(center_id=center_id)
    if split:
        scans = scans.filter(split=split)
    if flag:
        # JSON containment is not portable to SQLite; flags are short, a text match is exact
        # enough because codes are quoted in the stored JSON.
        scans = scans.filter(flags__icontains=f'"{flag}"')
    return scans.order_by("center__name", "id")


def scan_get(*, scan_id: int) -> Scan:
    return (
        Scan.objects.select_related("center", "patient", "import_batch")
        .prefetch_related("slices")
        .get(pk=scan_id)
    )


def import_batch_list() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("center", "created_by").order_by("-created_at")


def import_batch_get(*, batch_id) -> ImportBatch:
    return ImportBatch.objects.select_related("center", "created_by").get(pk=batch_id)


def quarantined_series_list(*, status: str | None = None) -> QuerySet[QuarantinedSeries]:
    items = QuarantinedSeries.objects.select_related("center", "batch")
    return items.filter(status=status) if status else items


def worklist_for_reader(*, reader) -> QuerySet[Read]:
    """The reader's own reads, open ones first, then in the read's seeded random order: each
    cross-reader meets the scans in an order of their own, never the primary reader's. A
    withdrawn read is no longer the reader's and is left out. ``level`` tells scan-level reads
    (the prospective test set) from slice-level ones; a read's kind (primary or cross) is not
    shown, since it would tell a cross-reader that another read of the scan exists."""
    order = Case(
        When(status=ReadStatus.IN_PROGRESS, then=0),
        When(status=ReadStatus.ASSIGNED, then=1),
        default=2,
    )
    return (
        Read.objects.filter(reader=reader, status__in=ACTIVE_READ_STATUSES)
        .select_related("scan__center", "scan_label")
        .annotate(labelled_slices=Count("labels"), open_first=order)
        .order_by("open_first", "order_key", "assigned_at", "id")
    )


def read_get_for_reader(*, read_id: int, reader) -> Read:
    """One of the reader's own reads; another reader's read (or one withdrawn from this
    reader) does not exist for them."""
    return Read.objects.select_related("scan__center", "scan_label").get(
        pk=read_id, reader=reader, status__in=ACTIVE_READ_STATUSES
    )


def scan_slice_positions(*, scan_id: int) -> list[float]:
    """Each slice's position along the normal in mm, by position index."""
    slices = Slice.objects.filter(scan_id=scan_id).order_by("position_index")
    return list(slices.values_list("z_position_mm", flat=True))


def read_labels(*, read: Read) -> QuerySet[SliceLabel]:
    return (
        SliceLabel.objects.filter(read=read)
        .select_related("slice")
        .order_by("slice__position_index")
    )


def slice_get_for_viewer(*, scan_id: int, position_index: int, user) -> Slice:
    """A slice's stored file for the viewer: coordinators and ML engineers see every scan, a
    neuroradiologist only scans they have a read of (another scan does not exist for them)."""
    slices = Slice.objects.select_related("scan")
    if not user_has_role(user, Role.COORDINATOR, Role.ML_ENGINEER):
        slices = slices.filter(
            scan__reads__reader=user, scan__reads__status__in=ACTIVE_READ_STATUSES
        )
    return slices.get(scan_id=scan_id, position_index=position_index)


# ## Assignment, adjudication and ground truth (coordinators; readers only what is theirs)


def study_read_list(
    *,
    scan_id: int | None = None,
    reader_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> QuerySet[Read]:
    """Every read of the study, for coordinators: who reads what, as what, and how far."""
    reads = Read.objects.select_related("scan__center", "reader").annotate(
        labelled_slices=Count("labels")
    )
    if scan_id is not None:
        reads = reads.filter(scan_id=scan_id)
    if reader_id is not None:
        reads = reads.filter(reader_id=reader_id)
    if status:
        reads = reads.filter(status=status)
    if kind:
        reads = reads.filter(kind=kind)
    return reads.order_by("scan_id", "kind", "id")


def reader_workload_list() -> QuerySet:
    """Neuroradiologists with their open, completed and withdrawn reads (one query)."""
    from annotations.services.assignment import neuroradiologist_list

    return neuroradiologist_list().annotate(
        open_reads=Count("reads", filter=Q(reads__status__in=OPEN_READ_STATUSES)),
        completed_reads=Count("reads", filter=Q(reads__status=ReadStatus.COMPLETED)),
        withdrawn_reads=Count("reads", filter=Q(reads__status=ReadStatus.WITHDRAWN)),
    )


def scan_label_for_reader(*, read_id: int, reader) -> tuple[Read, ScanLabel | None]:
    """The reader's own active read and its scan label (None while never saved)."""
    read = read_get_for_reader(read_id=read_id, reader=reader)
    return read, ScanLabel.objects.filter(read=read).first()


def adjudication_item_list(
    *, status: str | None = None, reason: str | None = None, scan_id: int | None = None
) -> QuerySet[AdjudicationItem]:
    items = AdjudicationItem.objects.select_related("scan__center", "slice", "decided_by")
    if status:
        items = items.filter(status=status)
    if reason:
        items = items.filter(reason=reason)
    if scan_id is not None:
        items = items.filter(scan_id=scan_id)
    return items.order_by("status", "scan_id", "slice__position_index", "label", "id")


def adjudication_item_get(*, item_id: int) -> AdjudicationItem:
    return AdjudicationItem.objects.select_related("scan__center", "slice", "decided_by").get(
        pk=item_id
    )


def adjudication_item_votes(*, item: AdjudicationItem) -> list[dict]:
    """Each read of the item's scan with what it says about the item (coordinators only: the
    adjudicator sees who voted what). Slice items give the slice's labels, others the scan
    label or the number of labelled slices."""
    reads = Read.objects.filter(scan_id=item.scan_id).select_related("reader", "scan_label")
    labels = {}
    if item.slice_id is not None:
        labels = {
            label.read_id: label
            for label in SliceLabel.objects.filter(slice_id=item.slice_id, read__in=reads)
        }
    votes = []
    for read in reads.annotate(labelled_slices=Count("labels")).order_by("id"):
        label = labels.get(read.pk) if item.slice_id else getattr(read, "scan_label", None)
        votes.append(
            {
                "read": read.pk,
                "reader": read.reader.username,
                "kind": read.kind,
                "status": read.status,
                "labelled_slices": read.labelled_slices,
                "values": label.values() if label else None,
            }
        )
    return votes


def adjudication_item_decision(*, item: AdjudicationItem) -> list[dict]:
    """The decided values of an item, per slice (slice_index None: the scan as a whole)."""
    rows = AdjudicatedLabel.objects.filter(item=item).select_related("slice")
    return [
        {
            "slice_index": row.slice.position_index if row.slice_id else None,
            **{name: getattr(row, name) for name in SUBTYPES},
        }
        for row in rows.order_by("slice__position_index")
    ]


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
    """The slice labels of one scan in a version (a 404 where the scan is not visible)."""
    ground_truth_scan_label_list(version=version, user=user, scan_id=scan_id).get()
    return (
        GroundTruthSliceLabel.objects.filter(version=version, scan_id=scan_id)
        .select_related("slice")
        .order_by("slice__position_index")
    )


GROUND_TRUTH_CLASSES = ("any_ich", *SUBTYPES)


def ground_truth_compare(
    *, version_a: GroundTruthVersion, version_b: GroundTruthVersion, limit: int = 200
) -> dict:
    """What changed between two versions, counted in the database: per level, rows only in
    one version, rows whose labels differ and the differing rows per class; then up to
    ``limit`` changed rows per level with both label sets."""
    from django.db import connection

    from annotations.services.consensus import table

    result = {}
    for level, model, key, index in (
        ("slices", GroundTruthSliceLabel, "slice_id", "s.position_index"),
        ("scans", GroundTruthScanLabel, "scan_id", "NULL"),
    ):
        t = table(model)
        differs = " OR ".join(f"a.{c} <> b.{c}" for c in GROUND_TRUTH_CLASSES)
        per_class = ", ".join(
            f"SUM(CASE WHEN a.{c} <> b.{c} THEN 1 ELSE 0 END)" for c in GROUND_TRUTH_CLASSES
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
            columns = ", ".join(f"a.{c}, b.{c}" for c in GROUND_TRUTH_CLASSES)
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
                zip(("any", *SUBTYPES), (n or 0 for n in by_class), strict=True)
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
    return dict(zip(("any", *SUBTYPES), map(bool, values), strict=True))

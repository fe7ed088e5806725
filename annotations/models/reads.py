"""Reads: a neuroradiologist's labelling of one scan.

Read
    One reader's reading of one scan (one per reader and scan): status, timing, where the
    reader left off, which slices were shown, the scan flags (post-operative, artifact, mass
    lesion, other with a note). Flags carry a ``version`` for optimistic concurrency.
    ``kind`` says whether it is the scan's primary read or a blinded cross-read, ``level``
    whether the reader labels slices or the whole scan (the prospective test set), and
    ``order_key`` is a seeded random key: each reader's worklist follows it, so every
    cross-reader reads in an order of their own. A read taken back from a reader after work
    began is ``withdrawn``: kept with its labels and audit, but no longer the reader's.
SliceLabel
    The labels of one slice within one read: the five subtypes (IPH, IVH, SAH, SDH, EDH) or an
    explicit "no hemorrhage". ``any`` is derived: a slice holds hemorrhage if any subtype is set.
    ``version`` counts saves; a save that names an older version is refused as a conflict.
LabelAudit
    One row per change of a slice label: who, when, the values before and after.
"""

import operator
from functools import reduce

from django.conf import settings
from django.db import models
from django.db.models import Count, F, Q

from annotations.models.study import Scan, Slice
from annotations.vocabulary import LABEL_FIELDS, SUBTYPES


class ReadStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Reads that still count for their scan (a withdrawn read is history only).
ACTIVE_READ_STATUSES = (ReadStatus.ASSIGNED, ReadStatus.IN_PROGRESS, ReadStatus.COMPLETED)
OPEN_READ_STATUSES = (ReadStatus.ASSIGNED, ReadStatus.IN_PROGRESS)


class ReadKind(models.TextChoices):
    PRIMARY = "primary", "Primary read"
    CROSS = "cross", "Cross-read"


class ReadLevel(models.TextChoices):
    SLICE = "slice", "Slice labels"
    SCAN = "scan", "Scan-level labels"


class Read(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="reads")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reads"
    )
    status = models.CharField(
        max_length=16, choices=ReadStatus.choices, default=ReadStatus.ASSIGNED
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    time_spent_s = models.FloatField(default=0.0)
    last_slice_index = models.PositiveIntegerField(default=0)
    viewed_slices = models.JSONField(default=list, blank=True, help_text="Position indices shown")
    flag_postoperative = models.BooleanField(default=False)
    flag_artifact = models.BooleanField(default=False)
    flag_mass_lesion = models.BooleanField(default=False)
    flag_other = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=ReadKind.choices, default=ReadKind.PRIMARY)
    level = models.CharField(max_length=8, choices=ReadLevel.choices, default=ReadLevel.SLICE)
    order_key = models.BigIntegerField(
        default=0, help_text="Seeded random key: the reader's worklist order"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "reader"], name="read_one_per_reader_and_scan"),
            models.UniqueConstraint(
                fields=["scan"],
                condition=Q(kind="primary") & ~Q(status="withdrawn"),
                name="read_one_active_primary_per_scan",
            ),
            models.CheckConstraint(condition=Q(kind__in=ReadKind.values), name="read_kind_valid"),
            models.CheckConstraint(
                condition=Q(level__in=ReadLevel.values), name="read_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="withdrawn", withdrawn_at__isnull=False)
                | (~Q(status="withdrawn") & Q(withdrawn_at__isnull=True)),
                name="read_withdrawn_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReadStatus.values), name="read_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(started_at__isnull=False, finished_at__gte=F("started_at")),
                name="read_finished_after_started",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReadStatus.COMPLETED) | Q(finished_at__isnull=False),
                name="read_completed_has_finish",
            ),
            models.CheckConstraint(condition=Q(time_spent_s__gte=0), name="read_time_not_negative"),
        ]
        indexes = [
            models.Index(fields=["reader", "status"]),
            models.Index(fields=["reader", "status", "order_key"], name="read_worklist_order"),
        ]

    def __str__(self) -> str:
        return f"Read {self.pk} of scan {self.scan_id} by {self.reader_id}"


class LabelValues(models.Model):
    """The labels of a slice or a scan: the five subtypes or an explicit "no hemorrhage",
    with a version counting saves (a save naming an older version is a conflict)."""

    iph = models.BooleanField(default=False)
    ivh = models.BooleanField(default=False)
    sah = models.BooleanField(default=False)
    sdh = models.BooleanField(default=False)
    edh = models.BooleanField(default=False)
    no_hemorrhage = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def any(self) -> bool:
        return any(getattr(self, name) for name in SUBTYPES)

    def values(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in LABEL_FIELDS}


# The database's form of the rule in LabelValues: "no hemorrhage" excludes every subtype.
NO_HEMORRHAGE_EXCLUDES_SUBTYPES = Q(no_hemorrhage=False) | Q(**dict.fromkeys(SUBTYPES, False))


def any_subtype_q(prefix: str = "") -> Q:
    """A label row (or, with a prefix such as ``"labels__"``, a related one) with any subtype."""
    return reduce(operator.or_, (Q(**{prefix + subtype: True}) for subtype in SUBTYPES))


def carries_label_q(prefix: str = "") -> Q:
    """A label row that says something: a subtype or an explicit "no hemorrhage". A row whose
    labels were all taken back (toggled off, undone) stays as a row but labels nothing."""
    return any_subtype_q(prefix) | Q(**{prefix + "no_hemorrhage": True})


def labelled_slice_count() -> Count:
    """The slices of a read (``Read`` rows, annotated) that carry a label."""
    return Count("labels", filter=carries_label_q("labels__"))


class SliceLabel(LabelValues):
    read = models.ForeignKey(Read, on_delete=models.CASCADE, related_name="labels")
    slice = models.ForeignKey(Slice, on_delete=models.PROTECT, related_name="labels")

    class Meta:
        ordering = ["read_id", "slice_id"]
        constraints = [
            models.UniqueConstraint(fields=["read", "slice"], name="slice_label_one_per_read"),
            models.CheckConstraint(
                condition=NO_HEMORRHAGE_EXCLUDES_SUBTYPES,
                name="slice_label_no_hemorrhage_excludes_subtypes",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="slice_label_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Labels of slice {self.slice_id} in read {self.read_id}"


class AuditEntry(models.Model):
    """One change of labels: who, when, the values before and after, the version it made."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField(null=True, blank=True, help_text="None when the label was new")
    after = models.JSONField()
    version = models.PositiveIntegerField()

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class LabelAudit(AuditEntry):
    read = models.ForeignKey(Read, on_delete=models.CASCADE, related_name="audit")
    slice = models.ForeignKey(Slice, on_delete=models.PROTECT, related_name="+")

    class Meta(AuditEntry.Meta):
        indexes = [models.Index(fields=["read", "slice"])]

    def __str__(self) -> str:
        return f"Audit of slice {self.slice_id} in read {self.read_id} (v{self.version})"

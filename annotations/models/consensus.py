"""Consensus: what the votes cannot settle, and the frozen ground truth.

AdjudicationItem
    One question for the adjudicator: a scan whose reads are incomplete because a read is
    missing or was withdrawn (``missing_read``), or one subtype of one slice (or, for a
    scan-level study, of one scan) where the readers split 2:1 (``split_vote``), or where a
    requested second read disagrees with the scan's earlier reads (``second_read``: a 1:1 vote
    on a training scan needs a decision). Resolving it records the decision, the adjudicator
    and the reason.
AdjudicatedLabel
    The values an adjudicator decided: for a split vote the one subtype of one slice or scan,
    for a missing read every slice of the scan (or the scan, for scan-level reads). ``None``
    leaves a subtype to the vote. Decisions override the vote when a version is frozen.
GroundTruthVersion
    A frozen, named ground truth: its slice and scan labels were inserted in the transaction
    that froze it and never change; ``content_sha256`` hashes a canonical ordered listing of
    them, so two versions with the same labels have the same hash. Released versions become
    visible to readers.
GroundTruthSliceLabel, GroundTruthScanLabel
    The labels of one slice or one scan in a version: ``any_ich`` and the five subtypes, how many
    completed reads voted and whether an adjudicator decided any of it.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact

from annotations.models.reads import SUBTYPES, ReadLevel, any_subtype_q
from annotations.models.second_reads import SecondReadRequest
from annotations.models.study import Center, Scan, Slice, Split


class FrozenRowError(Exception):
    """A frozen ground-truth row was about to change."""


class AdjudicationReason(models.TextChoices):
    MISSING_READ = "missing_read", "A read is missing or was withdrawn"
    SPLIT_VOTE = "split_vote", "Readers split 2:1"
    SECOND_READ = "second_read", "A second read disagrees"


class AdjudicationStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    # A missing read that was supplied after all (the scan was reassigned and read).
    OBSOLETE = "obsolete", "No longer needed"


class AdjudicationItem(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="adjudication_items")
    slice = models.ForeignKey(
        Slice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    label = models.CharField(max_length=8, blank=True, help_text="Subtype of a split vote")
    reason = models.CharField(max_length=16, choices=AdjudicationReason.choices)
    status = models.CharField(
        max_length=16, choices=AdjudicationStatus.choices, default=AdjudicationStatus.OPEN
    )
    positive_votes = models.PositiveSmallIntegerField(null=True, blank=True)
    total_votes = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    second_read = models.ForeignKey(
        SecondReadRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjudication_items",
        help_text="The second read whose disagreement this item is",
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=AdjudicationReason.values),
                name="adjudication_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AdjudicationStatus.values),
                name="adjudication_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(reason="split_vote", label__in=SUBTYPES)
                | Q(reason="missing_read", label="", slice__isnull=True)
                | Q(reason="second_read", label__in=SUBTYPES),
                name="adjudication_label_matches_reason",
            ),
            models.CheckConstraint(
                condition=Q(reason="second_read", second_read__isnull=False)
                | (~Q(reason="second_read") & Q(second_read__isnull=True)),
                name="adjudication_second_read_has_request",
            ),
            models.UniqueConstraint(
                fields=["second_read", "slice", "label"],
                condition=Q(reason="second_read", slice__isnull=False),
                name="adjudication_one_second_read_per_slice_label",
            ),
            models.UniqueConstraint(
                fields=["second_read", "label"],
                condition=Q(reason="second_read", slice__isnull=True),
                name="adjudication_one_second_read_per_scan_label",
            ),
            models.CheckConstraint(
                condition=Q(status="resolved", decided_at__isnull=False, decided_by__isnull=False)
                | (~Q(status="resolved") & Q(decided_at__isnull=True)),
                name="adjudication_resolved_has_decision",
            ),
            models.CheckConstraint(
                condition=Q(positive_votes__isnull=True) | Q(positive_votes__lte=F("total_votes")),
                name="adjudication_votes_consistent",
            ),
            models.UniqueConstraint(
                fields=["slice", "label"],
                condition=Q(reason="split_vote", slice__isnull=False),
                name="adjudication_one_split_vote_per_slice_label",
            ),
            models.UniqueConstraint(
                fields=["scan", "label"],
                condition=Q(reason="split_vote", slice__isnull=True),
                name="adjudication_one_split_vote_per_scan_label",
            ),
            models.UniqueConstraint(
                fields=["scan"],
                condition=Q(reason="missing_read", status="open"),
                name="adjudication_one_open_missing_read_per_scan",
            ),
        ]
        indexes = [models.Index(fields=["status", "reason"])]

    def __str__(self) -> str:
        return f"Adjudication {self.pk} ({self.reason}, scan {self.scan_id})"


class AdjudicatedLabel(models.Model):
    item = models.ForeignKey(AdjudicationItem, on_delete=models.PROTECT, related_name="labels")
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+")
    slice = models.ForeignKey(
        Slice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    iph = models.BooleanField(null=True, blank=True)
    ivh = models.BooleanField(null=True, blank=True)
    sah = models.BooleanField(null=True, blank=True)
    sdh = models.BooleanField(null=True, blank=True)
    edh = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["item_id", "slice_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "slice"], name="adjudicated_label_one_per_item_slice"
            ),
        ]
        indexes = [models.Index(fields=["slice"]), models.Index(fields=["scan"])]

    def __str__(self) -> str:
        return f"Decision of item {self.item_id} on slice {self.slice_id}"


class FrozenQuerySet(models.QuerySet):
    """Frozen rows are only ever inserted: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise FrozenRowError(f"{self.model.__name__} rows are frozen")

    def delete(self):
        raise FrozenRowError(f"{self.model.__name__} rows are frozen")


class FrozenRow(models.Model):
    """A row that is written once: saving an existing row or deleting one is refused."""

    objects = FrozenQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise FrozenRowError(f"{type(self).__name__} {self.pk} is frozen")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise FrozenRowError(f"{type(self).__name__} {self.pk} is frozen")


class GroundTruthVersionQuerySet(models.QuerySet):
    """Only the release fields of a version may change (once), through ``release``."""

    def update(self, **kwargs):
        raise FrozenRowError("ground-truth versions are frozen; release them with release()")

    def delete(self):
        raise FrozenRowError("ground-truth versions are frozen")

    def release(self, *, at, by) -> int:
        """Release once: an already released version is left as it is (returns 0)."""
        unreleased = self.filter(released_at__isnull=True)
        return models.QuerySet.update(unreleased, released_at=at, released_by=by)

    def seal(self, *, content_sha256: str, **counts) -> int:
        """Set the hash and counts once, in the transaction that froze the version."""
        unsealed = self.filter(content_sha256="")
        return models.QuerySet.update(unsealed, content_sha256=content_sha256, **counts)


class GroundTruthVersion(models.Model):
    name = models.CharField(max_length=100, unique=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scan_count = models.PositiveIntegerField(default=0)
    slice_count = models.PositiveIntegerField(default=0)
    pending_scan_count = models.PositiveIntegerField(
        default=0, help_text="Scans with reads that were not final when frozen"
    )
    counts = models.JSONField(default=dict, blank=True, help_text="Positives per class and level")

    objects = GroundTruthVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_sha256="") | Q(Exact(Length("content_sha256"), 64)),
                name="ground_truth_sha256_hex_length",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True, released_by__isnull=True)
                | Q(released_at__isnull=False, released_by__isnull=False),
                name="ground_truth_release_complete",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="ground_truth_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Ground truth {self.name}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise FrozenRowError(f"ground-truth version {self.pk} is frozen")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise FrozenRowError(f"ground-truth version {self.pk} is frozen")

    @property
    def released(self) -> bool:
        return self.released_at is not None


class _GroundTruthLabel(FrozenRow):
    any_ich = models.BooleanField()
    iph = models.BooleanField()
    ivh = models.BooleanField()
    sah = models.BooleanField()
    sdh = models.BooleanField()
    edh = models.BooleanField()
    reads = models.PositiveSmallIntegerField(help_text="Completed reads that voted")
    adjudicated = models.BooleanField(default=False)

    class Meta:
        abstract = True


def _any_matches_subtypes(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(any_ich=True) & any_subtype_q())
        | Q(any_ich=False, **dict.fromkeys(SUBTYPES, False)),
        name=f"{prefix}_any_is_any_subtype",
    )


class GroundTruthSliceLabel(_GroundTruthLabel):
    # A version holds up to one row per slice of the study (2.25 M at the paper's scale), all
    # written by one INSERT ... SELECT from the slice table in the freeze, never changed. The
    # database's per-row reference checks on scan and slice cost more than the rest of the
    # freeze together and cannot fail for rows selected from those tables, so they are left
    # to the ORM (PROTECT) and the freeze; the version keeps its constraint. The lone version
    # and scan indexes would duplicate the (version, slice) and (version, scan) ones.
    version = models.ForeignKey(
        GroundTruthVersion, on_delete=models.PROTECT, related_name="slice_labels", db_index=False
    )
    scan = models.ForeignKey(
        Scan, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    slice = models.ForeignKey(
        Slice, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )

    class Meta:
        ordering = ["version_id", "scan_id", "slice_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slice"], name="gt_slice_one_per_version"),
            _any_matches_subtypes("gt_slice"),
        ]
        indexes = [models.Index(fields=["version", "scan"], name="gt_slice_version_scan")]

    def __str__(self) -> str:
        return f"Ground truth of slice {self.slice_id} in version {self.version_id}"


class GroundTruthScanLabel(_GroundTruthLabel):
    version = models.ForeignKey(
        GroundTruthVersion, on_delete=models.PROTECT, related_name="scan_labels"
    )
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+")
    # The scan's center and split as they were when frozen: exports of a version never change
    # when a center is later renamed or moved to another split.
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="+")
    center_name = models.CharField(max_length=64)
    split = models.CharField(max_length=16, choices=Split.choices)
    level = models.CharField(max_length=8, choices=ReadLevel.choices)
    positive_slices = models.PositiveIntegerField(
        null=True, blank=True, help_text="Slices with any ICH; None for scan-level reads"
    )

    class Meta:
        ordering = ["version_id", "scan_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "scan"], name="gt_scan_one_per_version"),
            models.CheckConstraint(
                condition=Q(level__in=ReadLevel.values), name="gt_scan_level_valid"
            ),
            _any_matches_subtypes("gt_scan"),
        ]

    def __str__(self) -> str:
        return f"Ground truth of scan {self.scan_id} in version {self.version_id}"

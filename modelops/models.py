"""Datasets, training runs and model versions.

DatasetSnapshot
    An immutable export of a frozen ground-truth version: its scans' slices preprocessed (the
    paper's three windows, resized, resampled to 5 mm) into memory-mapped arrays per split
    (``modelops/ml/snapshot_format.py``). ``key_sha256`` hashes what defines it (the version's
    content hash, the preprocessing, the format), so asking twice for the same snapshot returns
    the one already built; ``files_sha256`` hashes what was written, for reproducibility checks.
TrainingRun
    One training of the CNN-RNN on a snapshot with a validated configuration, run by a Celery
    worker on the ``train`` queue; from scratch, or end-to-end fine-tuning of a registered
    model (``initial_model``). The worker sends heartbeats; a run whose worker died is
    resumed from its last epoch checkpoint (``attempts`` counts the tries) or failed.
ModelVersion
    A trained model: the run and snapshot it came from, its artifact and checksum, its
    evaluation report (the paper's Table 2 layout) and its status in the registry.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact

from annotations.models import GroundTruthVersion
from ichlabel.jobs.models import ACTIVE_STATUSES, Job  # noqa: F401 (ACTIVE_STATUSES re-exported)


class DatasetSnapshot(Job):
    """A job (``ichlabel.jobs.Job``); ``progress`` is ``scans_done / scans_total``."""

    ground_truth = models.ForeignKey(
        GroundTruthVersion, on_delete=models.PROTECT, related_name="snapshots"
    )
    name = models.CharField(max_length=100)
    image_size = models.PositiveIntegerField()
    slice_mm = models.FloatField()
    windows = models.JSONField()
    key_sha256 = models.CharField(max_length=64, unique=True)
    scans_done = models.PositiveIntegerField(default=0)
    scans_total = models.PositiveIntegerField(default=0)
    directory = models.CharField(max_length=255, blank=True, help_text="Under DATA_DIR")
    manifest = models.JSONField(default=dict, blank=True)
    files_sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Job.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            *Job.Meta.constraints,
            models.CheckConstraint(
                condition=Q(image_size__gte=32, image_size__lte=1024),
                name="snapshot_image_size_range",
            ),
            models.CheckConstraint(condition=Q(slice_mm__gt=0), name="snapshot_slice_mm_positive"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | ~Q(files_sha256=""),
                name="snapshot_succeeded_has_files",
            ),
        ]

    def __str__(self) -> str:
        return f"Snapshot {self.pk} {self.name}"


class TrainingRun(Job):
    """A job (``ichlabel.jobs.Job``), the resumable kind; ``progress`` is the share of all
    epochs of all stages done, ``stage``, ``epoch`` and ``step`` say where it is."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    snapshot = models.ForeignKey(
        DatasetSnapshot, on_delete=models.PROTECT, related_name="training_runs"
    )
    config = models.JSONField(help_text="A validated TrainingConfig")
    initial_model = models.ForeignKey(
        "ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fine_tuned_runs",
        help_text="End-to-end fine-tuning starts from this model's weights",
    )
    stage = models.CharField(max_length=16, blank=True)
    epoch = models.PositiveIntegerField(default=0, help_text="Epochs done in the current stage")
    epochs = models.PositiveIntegerField(default=0, help_text="Epochs of the current stage")
    step = models.PositiveIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0)
    history = models.JSONField(default=list, blank=True, help_text="One entry per epoch")
    step_losses = models.JSONField(default=list, blank=True, help_text="[stage, epoch, step, loss]")
    resumed_from = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Job.Meta):
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"Training run {self.name} ({self.status})"


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    APPROVED = "approved", "Approved"
    RETIRED = "retired", "Retired"


class ModelVersion(models.Model):
    name = models.CharField(max_length=100, unique=True)
    run = models.OneToOneField(TrainingRun, on_delete=models.PROTECT, related_name="model_version")
    snapshot = models.ForeignKey(
        DatasetSnapshot, on_delete=models.PROTECT, related_name="model_versions"
    )
    artifact = models.CharField(max_length=255, help_text="The .keras file, under DATA_DIR")
    artifact_sha256 = models.CharField(max_length=64)
    artifact_bytes = models.BigIntegerField()
    config = models.JSONField()
    metrics = models.JSONField(default=dict, help_text="Headline figures per split and class")
    evaluation = models.JSONField(default=dict, help_text="The full evaluation report")
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.CANDIDATE
    )
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ModelStatus.values), name="model_version_status_valid"
            ),
            models.CheckConstraint(
                condition=Exact(Length("artifact_sha256"), 64),
                name="model_version_artifact_checksum",
            ),
        ]

    def __str__(self) -> str:
        return f"Model {self.name} ({self.status})"

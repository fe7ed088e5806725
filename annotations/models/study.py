"""The study's data, in the study's words.

Center
    A hospital that contributes scans. Each center has a split role: the paper trains on four
    centers, validates on one and tests on a later external center.
Patient
    Known only by a keyed pseudonym derived from the original patient ID; nothing else that
    identifies a person is stored.
Scan
    One non-contrast head-CT series (the unit that is read, labelled and predicted). Its UIDs
    are the remapped ones; its dates are shifted per patient.
Slice
    One axial image of a scan, at its position index along the slice normal (0 = most inferior
    in the order the import established), stored as a de-identified DICOM file.
ImportBatch
    One run of the importer over a set of files: status, progress and the per-file report.
QuarantinedSeries
    A series held back for review (burned-in annotation) instead of being imported.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

# The job statuses live with the jobs framework; annotations.models re-exports them.
from ichlabel.jobs.models import FINISHED_STATUSES, Job, JobStatus  # noqa: F401


class Split(models.TextChoices):
    TRAIN = "train", "Training"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"


class Role(models.TextChoices):
    """Roles are Django groups of these names (created by a migration)."""

    NEURORADIOLOGIST = "neuroradiologist", "Neuroradiologist"
    COORDINATOR = "coordinator", "Study coordinator"
    ML_ENGINEER = "ml_engineer", "ML engineer"


class Center(models.Model):
    name = models.CharField(max_length=64, unique=True)
    split = models.CharField(max_length=16, choices=Split.choices, default=Split.TRAIN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(split__in=Split.values), name="center_split_valid"),
            models.CheckConstraint(condition=~Q(name=""), name="center_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.split})"


class Patient(models.Model):
    pseudonym = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pseudonym"]

    def __str__(self) -> str:
        return self.pseudonym


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    OTHER = "O", "Other"
    UNKNOWN = "", "Unknown"


class Scan(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scans")
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="scans")
    split = models.CharField(max_length=16, choices=Split.choices)
    import_batch = models.ForeignKey(
        "ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="scans"
    )
    study_instance_uid = models.CharField(max_length=64, db_index=True)
    series_instance_uid = models.CharField(max_length=64, unique=True)
    source_link = models.CharField(
        max_length=40,
        blank=True,
        db_index=True,
        help_text="Keyed hash of the original series UID (annotations/dicom/link.py)",
    )
    series_description = models.CharField(max_length=64, blank=True)
    manufacturer = models.CharField(max_length=64, blank=True)
    acquisition_date = models.DateField(null=True, blank=True, help_text="Shifted per patient")
    age_band = models.CharField(max_length=8, blank=True, help_text="Decade, e.g. 60-69; 90+")
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    slice_count = models.PositiveIntegerField()
    rows = models.PositiveIntegerField()
    columns = models.PositiveIntegerField()
    slice_spacing_mm = models.FloatField(null=True, blank=True)
    image_orientation_patient = models.JSONField(default=list)
    flags = models.JSONField(default=list, blank=True, help_text="Import findings, e.g. gap")
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["center__name", "id"]
        indexes = [models.Index(fields=["center", "split"])]
        constraints = [
            models.CheckConstraint(condition=Q(split__in=Split.values), name="scan_split_valid"),
            models.CheckConstraint(condition=Q(slice_count__gte=1), name="scan_has_slices"),
        ]

    def __str__(self) -> str:
        return f"Scan {self.pk} ({self.center.name}, {self.slice_count} slices)"


class Slice(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="slices")
    position_index = models.PositiveIntegerField()
    sop_instance_uid = models.CharField(max_length=64, unique=True)
    instance_number = models.IntegerField(null=True, blank=True)
    z_position_mm = models.FloatField(help_text="Position along the slice normal")
    image_position_patient = models.JSONField(default=list)
    slice_thickness_mm = models.FloatField(null=True, blank=True)
    pixel_spacing_row_mm = models.FloatField()
    pixel_spacing_column_mm = models.FloatField()
    rows = models.PositiveIntegerField()
    columns = models.PositiveIntegerField()
    rescale_slope = models.FloatField(default=1.0)
    rescale_intercept = models.FloatField(default=0.0)
    storage_key = models.CharField(max_length=255, unique=True)
    file_size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["scan_id", "position_index"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "position_index"], name="slice_index_unique"),
        ]

    def __str__(self) -> str:
        return f"Slice {self.position_index} of scan {self.scan_id}"


class ImportBatch(Job):
    """A job (``ichlabel.jobs.Job``); ``progress`` is ``files_done / files_total``."""

    class Source(models.TextChoices):
        CLI = "cli", "Command line"
        UPLOAD = "upload", "Browser upload"
        API = "api", "REST API"
        DEMO = "demo", "Demo seed"
        REVIEW = "review", "Quarantine release"
        NODE = "node", "Inference node"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=16, choices=Source.choices)
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="import_batches")
    split = models.CharField(max_length=16, choices=Split.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    upload_dir = models.CharField(max_length=255, blank=True)

    class Meta(Job.Meta):
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"
        constraints = [
            *Job.Meta.constraints,
            models.CheckConstraint(
                condition=Q(files_done__lte=models.F("files_total")), name="batch_progress_le_total"
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(started_at__isnull=False),
                name="batch_finished_after_started",
            ),
        ]

    def __str__(self) -> str:
        return f"Import {self.id} ({self.status})"


class QuarantinedSeries(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting review"
        RELEASED = "released", "Released and imported"
        DISCARDED = "discarded", "Discarded"

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="quarantined")
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="+")
    split = models.CharField(max_length=16, choices=Split.choices)
    reason = models.CharField(max_length=255)
    file_count = models.PositiveIntegerField()
    directory = models.CharField(max_length=255, help_text="Under QUARANTINE_DIR; original files")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "quarantined series"

    def __str__(self) -> str:
        return f"Quarantined series {self.pk} ({self.reason})"

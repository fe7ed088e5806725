"""Exports built by a worker.

ExportJob
    A ground-truth export too slow to stream while a user waits (the DICOM SR zip: a report
    per scan, about a third of a second each), built as a job (``ichlabel.jobs.Job``) into a
    file under the data directory. ``progress`` is ``scans_done / scans_total``. The file is
    written under a temporary name and renamed once whole, and only a succeeded job's file is
    served, so a half-built file never leaves the server. The filters are those of the
    synchronous exports (the frozen split and center).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from annotations.models.consensus import GroundTruthVersion
from annotations.models.study import Center
from ichlabel.jobs.models import Job

# The export kinds built as jobs (the others stream at once).
JOB_EXPORT_KINDS = ("sr.zip",)


class ExportJob(Job):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(
        GroundTruthVersion, on_delete=models.PROTECT, related_name="export_jobs"
    )
    kind = models.CharField(max_length=32)
    split = models.CharField(max_length=16, blank=True, help_text="Frozen split filter")
    center = models.ForeignKey(
        Center, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scans_total = models.PositiveIntegerField(default=0)
    scans_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True, help_text="The download's name")
    file_bytes = models.BigIntegerField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)

    class Meta(Job.Meta):
        ordering = ["-created_at"]
        constraints = [
            *Job.Meta.constraints,
            models.CheckConstraint(
                condition=Q(kind__in=JOB_EXPORT_KINDS), name="export_job_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(scans_done__lte=F("scans_total")), name="export_job_done_le_total"
            ),
            # A succeeded export names its whole file; no other has one to serve.
            models.CheckConstraint(
                condition=Q(status="succeeded", file_bytes__isnull=False) & ~Q(file_sha256="")
                | ~Q(status="succeeded") & Q(file_bytes__isnull=True),
                name="export_job_file_when_succeeded",
            ),
        ]
        indexes = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self) -> str:
        return f"Export {self.kind} of version {self.version_id} ({self.status})"

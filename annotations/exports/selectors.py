"""Reads of exports built as jobs: a user's own export jobs, and where a job's file lies."""

from pathlib import Path

from django.conf import settings

from annotations.models import ExportJob, JobStatus
from ichlabel.errors import Conflict, NotFound


def export_job_get(*, job_id, user) -> ExportJob:
    """One of the user's own export jobs; another user's does not exist for them."""
    job = ExportJob.objects.select_related("version").filter(pk=job_id, created_by=user).first()
    if job is None:
        raise NotFound("No export with this id.")
    return job


def export_job_path(job: ExportJob) -> Path:
    """Where the job's file is written: ``<data dir>/exports/<job id>.<kind>``."""
    return Path(settings.DATA_DIR) / "exports" / f"{job.pk}.{job.kind}"


def export_job_file(*, job: ExportJob) -> Path:
    """The file of a succeeded export; refused while it is being built, or when the build
    failed or was canceled (no part of an unfinished file is ever served)."""
    path = export_job_path(job)
    if job.status != JobStatus.SUCCEEDED:
        raise Conflict(
            f"This export is {job.get_status_display().lower()}: it has no file to download.",
            extra={"status": job.status},
        )
    if not path.is_file():
        raise NotFound("This export's file is no longer on the server; start the export again.")
    return path

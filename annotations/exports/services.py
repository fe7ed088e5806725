"""Exports built as jobs (``ExportJob``): start one, build its file on a worker, cancel it, and
clean up after one that stopped.

The worker writes the file as ``<job>.<kind>.part`` and renames it to its final name once the
last byte is written (a rename within one folder is atomic), then records size and SHA-256 with
the job's success: a failed, canceled or lost build leaves no file that could be served as a
whole export. The CSV exports stream at once and never come here.
"""

import contextlib
import hashlib
import os

from django.db import transaction

from annotations.exports.base import ExportFilters, export_filename, export_version_get
from annotations.exports.selectors import export_job_path
from annotations.models import (
    JOB_EXPORT_KINDS,
    ExportJob,
    GroundTruthScanLabel,
    GroundTruthVersion,
    JobStatus,
)
from ichlabel import jobs
from ichlabel.errors import InvalidInput

# A failure's message on the job is cut to this many characters.
_MESSAGE_LIMIT = 500


@transaction.atomic
def export_job_start(*, version_id: int, kind: str, filters: ExportFilters, user) -> ExportJob:
    """Queue the export of a frozen version (``kind`` among ``JOB_EXPORT_KINDS``); the job
    says how far it got and, once succeeded, serves its file."""
    if kind not in JOB_EXPORT_KINDS:
        raise InvalidInput(f"{kind!r} is not built as a job; it downloads at once")
    version = export_version_get(version_id=version_id)
    job = ExportJob.objects.create(
        version=version,
        kind=kind,
        split=filters.split or "",
        center_id=filters.center_id,
        created_by=user,
        scans_total=_scan_count(version, filters),
        file_name=export_filename(version=version, kind=kind, filters=filters),
        message="Queued.",
    )
    job.task_id = jobs.enqueue(ExportJob, job.pk, task_id=f"export-{job.pk}")
    return job


def export_job_run(*, job_id: str) -> ExportJob:
    """Build the job's file (the worker's task, through ``ichlabel.jobs.run``)."""
    outcome = jobs.run(
        ExportJob,
        job_id,
        _build,
        describe_error=_failure,
    )
    return outcome or ExportJob.objects.get(pk=job_id)


def export_job_cancel(*, job: ExportJob) -> ExportJob:
    """Stop a queued export at once, a running one after the scan it is on."""
    return jobs.cancel(job, running_message="Cancel requested; stopping after this scan.")


def export_job_stopped(job: ExportJob) -> None:
    """After an export that failed or was canceled (by its worker or the recovery): its file,
    whole or not, goes."""
    final = export_job_path(job)
    for path in (final, final.with_name(final.name + ".part")):
        # Only a file is ours: whatever else took its name is left alone.
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            path.unlink()


def _scan_count(version: GroundTruthVersion, filters: ExportFilters) -> int:
    return GroundTruthScanLabel.objects.filter(version=version, **filters.frozen_lookups()).count()


def _failure(error: BaseException) -> str:
    """The failure as the job shows it; a file system error without its paths (the server's
    folders are not the user's business)."""
    if isinstance(error, OSError):
        return f"The export could not be written: {error.strerror or type(error).__name__}."
    return f"The export failed: {type(error).__name__}: {error}"[:_MESSAGE_LIMIT]


def _build(job: ExportJob, lease: jobs.Lease) -> ExportJob:
    # local: the SR module imports highdicom (over a second), which the web app skips
    from annotations.exports.sr import iter_sr_zip

    version = job.version
    filters = ExportFilters(split=job.split or None, center_id=job.center_id)
    total = _scan_count(version, filters)
    lease.write(scans_total=total, scans_done=0, progress=0.0, message="Building the reports.")
    final = export_job_path(job)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    digest = hashlib.sha256()
    size = 0

    def scan_done(done: int) -> None:
        lease.check("Canceled; the partial file was removed.")
        lease.progress(done, total, scans_done=done)

    with open(part, "wb") as out:
        for chunk in iter_sr_zip(version=version, filters=filters, on_scan=scan_done):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    lease.check("Canceled; the partial file was removed.")
    os.replace(part, final)
    return lease.finish(
        JobStatus.SUCCEEDED,
        f"{total} report{'' if total == 1 else 's'}, {size:,} bytes.",
        scans_done=total,
        scans_total=total,
        file_bytes=size,
        file_sha256=digest.hexdigest(),
    )

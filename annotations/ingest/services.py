"""Writes of ingest: centers and their split, import batches (upload, run, cancel, fail the stale
ones), and quarantined series (release or discard).
"""

import logging
import shutil
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from annotations.models import (
    FINISHED_STATUSES,
    Center,
    ImportBatch,
    JobStatus,
    QuarantinedSeries,
    Scan,
    Slice,
    Split,
)
from ichlabel.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from annotations.ingest.scan_import import ImportReport


def center_get_or_create(*, name: str, split: str | None = None) -> Center:
    """The center of that name; a new center takes ``split`` (training when not given)."""
    name = name.strip()
    max_length = Center._meta.get_field("name").max_length
    if not name or (max_length is not None and len(name) > max_length):
        raise ValidationError("a center needs a name of 1 to 64 characters")
    if split is not None and split not in Split.values:
        raise ValidationError(f"unknown split {split!r}: expected one of {', '.join(Split.values)}")
    center, _ = Center.objects.get_or_create(name=name, defaults={"split": split or Split.TRAIN})
    return center


def center_split_set(*, center: Center, split: str) -> Center:
    """Give a center a split role; its scans follow, so a split is always a set of centers."""
    if split not in Split.values:
        raise ValidationError(f"unknown split {split!r}")
    with transaction.atomic():
        center.split = split
        center.save(update_fields=["split"])
        Scan.objects.filter(center=center).update(split=split)
    return center


logger = logging.getLogger(__name__)


# Progress and heartbeats are written at most this often: a row update per file would make a
# 10,000-file import spend its time in the database.
PROGRESS_INTERVAL_S = 1.0


UPLOAD_CHUNK_BYTES = 1024 * 1024


def import_batch_create(
    *, center: Center, split: str | None, source: str, user=None
) -> ImportBatch:
    batch = ImportBatch.objects.create(
        center=center, split=split or center.split, source=source, created_by=user
    )
    _upload_dir(batch).mkdir(parents=True, exist_ok=True)
    batch.upload_dir = str(_upload_dir(batch).relative_to(settings.UPLOAD_DIR))
    batch.save(update_fields=["upload_dir"])
    return batch


def import_batch_files_add(*, batch: ImportBatch, files: Iterable[tuple[str, IO[bytes]]]) -> int:
    """Store uploaded files under the batch's folder, keeping their relative names."""
    if batch.status != JobStatus.PENDING or batch.task_id:
        raise Conflict("files can only be added before the import starts")
    root = _upload_dir(batch)
    count = 0
    for name, stream in files:
        target = root / _safe_relative(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            shutil.copyfileobj(stream, out, UPLOAD_CHUNK_BYTES)
        count += 1
    return count


def import_batch_start(*, batch: ImportBatch) -> ImportBatch:
    """Queue the import on the ``ingest`` queue once the surrounding transaction commits."""
    from annotations.tasks import import_batch_run as task

    if batch.status != JobStatus.PENDING or batch.task_id:
        raise Conflict(
            f"the import is already {batch.get_status_display().lower()}",
        )
    if not any(_upload_dir(batch).rglob("*")):
        raise InvalidInput("no files were uploaded to this import")
    # Conditional: of two starts at once (a double click), only one queues the task.
    task_id = f"import-{batch.pk}"
    if not ImportBatch.objects.filter(pk=batch.pk, status=JobStatus.PENDING, task_id="").update(
        task_id=task_id
    ):
        raise Conflict("the import has already been started")
    batch.task_id = task_id
    transaction.on_commit(lambda: task.apply_async(args=[str(batch.pk)], task_id=batch.task_id))
    return batch


def import_batch_run(*, batch_id: str) -> ImportBatch:
    """Run a batch's import (the worker's job). Safe to run again after a worker restart."""
    # local: scan_import loads pydicom and NumPy, which the web app's start-up skips
    from annotations.ingest.scan_import import ImportAborted, scan_import

    now = timezone.now()
    # One conditional update decides between this run and a concurrent cancel: a batch is
    # (re)started only from pending or running (a redelivered task after a worker restart).
    ImportBatch.objects.filter(
        pk=batch_id, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
    ).update(status=JobStatus.RUNNING, heartbeat_at=now)
    batch = ImportBatch.objects.select_related("center").get(pk=batch_id)
    if batch.status == JobStatus.CANCELING:
        _remove_upload(batch)
        return _finish(batch, JobStatus.CANCELED, "canceled before it started")
    if batch.status != JobStatus.RUNNING:
        return batch
    if batch.started_at is None:
        batch.started_at = now
        batch.save(update_fields=["started_at"])
    tracker = _Tracker(batch)
    try:
        report = scan_import(
            paths=[_upload_dir(batch)],
            center=batch.center,
            split=batch.split,
            batch=batch,
            base=_upload_dir(batch),
            on_progress=tracker.progress,
            should_cancel=tracker.canceled,
        )
    except ImportAborted:
        logger.warning("import batch %s stopped: it was failed while running", batch.pk)
        _remove_upload(batch)
        _rollback(batch)
        batch.refresh_from_db()
        return batch
    except Exception as exc:
        logger.exception("import batch %s failed", batch.pk)
        batch.report = {}
        _remove_upload(batch)
        _rollback(batch)
        return _finish(batch, JobStatus.FAILED, f"import failed: {type(exc).__name__}")
    batch.report = report.as_dict()
    _remove_upload(batch)
    if report.canceled:
        return _finish(batch, JobStatus.CANCELED, "canceled; the series imported before remain")
    status = JobStatus.WARNING if report.rejected or report.quarantined else JobStatus.SUCCEEDED
    return _finish(batch, status, _summary(report))


def import_batch_import_paths(
    *,
    paths: list[Path | str],
    center: Center,
    split: str | None,
    source: str,
    user=None,
    on_progress=None,
    accept_burned_in: bool = False,
) -> tuple[ImportBatch, "ImportReport"]:
    """Import local paths in this process (the command line), recorded as a batch."""
    # local: scan_import loads pydicom and NumPy, which the web app's start-up skips
    from annotations.ingest.scan_import import scan_import

    now = timezone.now()
    batch = ImportBatch.objects.create(
        center=center,
        split=split or center.split,
        source=source,
        created_by=user,
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
    )
    try:
        report = scan_import(
            paths=paths,
            center=center,
            split=split,
            batch=batch,
            on_progress=on_progress,
            accept_burned_in=accept_burned_in,
        )
    except BaseException:
        _rollback(batch)
        _finish(batch, JobStatus.FAILED, "import failed")
        raise
    batch.report = report.as_dict()
    status = JobStatus.WARNING if report.rejected or report.quarantined else JobStatus.SUCCEEDED
    return _finish(batch, status, _summary(report)), report


def import_batch_cancel(*, batch: ImportBatch) -> ImportBatch:
    """Cancel a batch: at once if it has not started, else after the series it is importing."""
    if batch.status in FINISHED_STATUSES:
        raise Conflict(
            f"the import has already {batch.get_status_display().lower()}",
        )
    if ImportBatch.objects.filter(pk=batch.pk, status=JobStatus.PENDING).update(
        status=JobStatus.CANCELING
    ):
        # Not started: no worker will look at it again (a queued task finds it canceled).
        batch.refresh_from_db()
        _remove_upload(batch)
        return _finish(batch, JobStatus.CANCELED, "canceled before it started")
    ImportBatch.objects.filter(pk=batch.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.CANCELING
    )
    batch.refresh_from_db()
    return batch


def import_batch_fail_stale(*, timeout_s: int | None = None) -> int:
    """Fail running batches whose worker sent no heartbeat for ``timeout_s``; return how many."""
    timeout = timeout_s if timeout_s is not None else settings.IMPORT_HEARTBEAT_TIMEOUT_S
    cutoff = timezone.now() - timedelta(seconds=timeout)
    stale = ImportBatch.objects.filter(
        status__in=[JobStatus.RUNNING, JobStatus.CANCELING], heartbeat_at__lt=cutoff
    )
    count = 0
    for batch in stale:
        _rollback(batch)
        _finish(
            batch, JobStatus.FAILED, f"the worker stopped responding (no heartbeat for {timeout} s)"
        )
        count += 1
    return count


class _Tracker:
    """Throttled progress and heartbeat writes, and the cancel flag read with them."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.last_write = 0.0
        self.cancel_requested = False

    def progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last_write < PROGRESS_INTERVAL_S and done < total:
            return
        self.last_write = now
        alive = ImportBatch.objects.filter(
            pk=self.batch.pk, status__in=[JobStatus.RUNNING, JobStatus.CANCELING]
        ).update(files_done=done, files_total=total, heartbeat_at=timezone.now())
        if not alive:
            from annotations.ingest.scan_import import ImportAborted  # loaded by then

            raise ImportAborted("the batch was failed while it ran")
        self.cancel_requested = ImportBatch.objects.filter(
            pk=self.batch.pk, status=JobStatus.CANCELING
        ).exists()

    def canceled(self) -> bool:
        return self.cancel_requested


def _finish(batch: ImportBatch, status: str, message: str) -> ImportBatch:
    now = timezone.now()
    batch.status = status
    batch.message = message
    batch.finished_at = now
    batch.started_at = batch.started_at or now
    batch.heartbeat_at = now
    batch.files_done = batch.files_total = max(batch.files_total, batch.files_done)
    if batch.report:
        total = _report_files(batch.report)
        batch.files_total = batch.files_done = max(total, batch.files_total)
    batch.save()
    logger.info("import batch %s %s: %s", batch.pk, status, message)
    return batch


def _rollback(batch: ImportBatch) -> None:
    """A failed batch leaves nothing behind: its scans, their files, its quarantined series."""
    scans = Scan.objects.filter(import_batch=batch)
    keys = list(Slice.objects.filter(scan__in=scans).values_list("storage_key", flat=True))
    held = QuarantinedSeries.objects.filter(batch=batch, status=QuarantinedSeries.Status.PENDING)
    folders = list(held.values_list("directory", flat=True))
    with transaction.atomic():
        Slice.objects.filter(scan__in=scans).delete()
        scans.delete()
        held.delete()
    for key in keys:
        default_storage.delete(key)
    for folder in folders:
        shutil.rmtree(Path(settings.QUARANTINE_DIR) / folder, ignore_errors=True)


def _report_files(report: dict) -> int:
    counted = len(report.get("rejected", [])) + len(report.get("quarantined", []))
    return counted + report.get("imported_slices", 0) + report.get("skipped_slices", 0)


def _summary(report: "ImportReport") -> str:
    parts = [
        f"{_count(report.imported_scans, 'scan')} "
        f"({_count(report.imported_slices, 'slice')}) imported"
    ]
    if report.skipped_slices:
        parts.append(f"{_count(report.skipped_slices, 'slice')} already present")
    if report.rejected:
        parts.append(f"{_count(len(report.rejected), 'file')} rejected")
    if report.quarantined:
        parts.append(f"{_count(len(report.quarantined), 'file')} quarantined")
    return "; ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _upload_dir(batch: ImportBatch) -> Path:
    return Path(settings.UPLOAD_DIR) / str(batch.pk)


def _remove_upload(batch: ImportBatch) -> None:
    shutil.rmtree(_upload_dir(batch), ignore_errors=True)


def _safe_relative(name: str) -> Path:
    """A browser-sent relative path, confined to the batch folder (no '..', no absolute)."""
    parts = [
        part
        for part in PurePosixPath(name.replace("\\", "/")).parts
        if part not in ("", ".", "..", "/")
    ]
    if not parts:
        raise InvalidInput("an uploaded file has no name")
    return Path(*parts)


def quarantined_series_release(*, item: QuarantinedSeries, user) -> "ImportReport":
    """Import a reviewed series despite its burned-in annotation flag, then drop the originals."""
    _check_pending(item)
    _, report = import_batch_import_paths(
        paths=[_directory(item)],
        center=item.center,
        split=item.split,
        source=ImportBatch.Source.REVIEW,
        user=user,
        accept_burned_in=True,
    )
    if report.imported_scans or report.skipped_scans:
        _close(item, QuarantinedSeries.Status.RELEASED, user)
    return report


def quarantined_series_discard(*, item: QuarantinedSeries, user) -> QuarantinedSeries:
    _check_pending(item)
    return _close(item, QuarantinedSeries.Status.DISCARDED, user)


def _check_pending(item: QuarantinedSeries) -> None:
    if item.status != QuarantinedSeries.Status.PENDING:
        raise InvalidInput(f"this series was already {item.get_status_display().lower()}")


def _close(item: QuarantinedSeries, status: str, user) -> QuarantinedSeries:
    with transaction.atomic():
        item.status = status
        item.reviewed_at = timezone.now()
        item.reviewed_by = user
        item.save(update_fields=["status", "reviewed_at", "reviewed_by"])
    # The originals carry PHI (that is why they were held): nothing keeps them after review.
    shutil.rmtree(_directory(item), ignore_errors=True)
    return item


def _directory(item: QuarantinedSeries) -> Path:
    return Path(settings.QUARANTINE_DIR) / item.directory

"""Writes of ingest: centers and their split, import batches (upload, run, cancel; a job of
``ichlabel.jobs``, recovered by it when its worker dies), and quarantined series (release or
discard).
"""

import contextlib
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from annotations.dicom.archives import Expansion, ratio_problem, stream_expansion, total_problem
from annotations.ingest.split_change import center_split_change_check
from annotations.ingest.uploads import (
    expansion_limits,
    folder_expansion,
    folder_expansion_record,
    folder_remove,
    upload_name_normalise,
    upload_target,
)
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
from ichlabel import jobs
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


def center_split_set(*, center: Center, split: str, by=None) -> Center:
    """Give a center a split role; its scans follow, so a split is always a set of centers.
    Refused (``Conflict`` with the reasons) while it would break a running reading round
    (``annotations.ingest.split_change``); the check and the move share one transaction with
    the center's row locked, as assignment locks it, so no read is planned in between."""
    if split not in Split.values:
        raise ValidationError(f"unknown split {split!r}")
    with transaction.atomic():
        center = Center.objects.select_for_update().get(pk=center.pk)
        old = center.split
        center_split_change_check(center=center, split=split)
        center.split = split
        center.save(update_fields=["split"])
        moved = Scan.objects.filter(center=center).update(split=split)
    if old != split:
        logger.info(
            "center %s moved from the %s to the %s split (%d scans) by %s",
            center.pk,
            old,
            split,
            moved,
            getattr(by, "username", "the system"),
        )
    return center


logger = logging.getLogger(__name__)


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
    """Store uploaded files under the batch's folder by their relative names, normalised and
    made unique (``annotations.ingest.uploads``); the number stored.

    All or nothing: an upload that would take the batch past its limits (an archive's or the
    batch's compression ratio, the batch's total uncompressed size) is refused before anything
    is stored or decompressed, and a file that cannot be stored takes this request's others
    with it. A file or zip member past the per-file limit is stored and refused by the import,
    in its report, without being read.
    """
    items = list(files)
    limits = expansion_limits(batch=True)
    with transaction.atomic():
        # Locked while it stores: two uploads at once count each other's files against the
        # limits, and a start waits until the files are all there.
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != JobStatus.PENDING or locked.task_id:
            raise Conflict("files can only be added before the import starts")
        root = _upload_dir(batch)
        incoming = Expansion()
        for name, stream in items:
            expansion, is_zip = stream_expansion(stream, _stream_size(stream))
            label = str(upload_name_normalise(name))
            problem = ratio_problem("the zip archive", expansion, limits) if is_zip else None
            if problem:
                raise InvalidInput(
                    f"{label}: {problem}; nothing of this upload was stored", {"file": label}
                )
            incoming = incoming + expansion
        total = folder_expansion(root) + incoming
        problem = total_problem(total, limits)
        if problem:
            raise InvalidInput(f"upload refused: {problem}; nothing of this upload was stored")
        _store_uploads(root, items)
        folder_expansion_record(root, total)
    return len(items)


def _store_uploads(root: Path, items: list[tuple[str, IO[bytes]]]) -> None:
    """Every file under its own new name, or none: what this call wrote goes on any error."""
    created: list[Path] = []
    try:
        for name, stream in items:
            relative = upload_name_normalise(name)
            while True:
                target = upload_target(root, relative)
                try:
                    out = open(target, "xb")  # noqa: SIM115 (closed below)
                except FileExistsError:  # taken since it was chosen: choose again
                    continue
                break
            created.append(target)
            with out:
                stream.seek(0)
                shutil.copyfileobj(stream, out, UPLOAD_CHUNK_BYTES)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        _prune_empty_folders(root)
        raise


def _prune_empty_folders(root: Path) -> None:
    for folder, _, _ in os.walk(root, topdown=False):
        if Path(folder) != root:
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only if empty


def _stream_size(stream: IO[bytes]) -> int:
    size = getattr(stream, "size", None)
    if isinstance(size, int):
        return size
    position = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    return position


def import_batch_start(*, batch: ImportBatch) -> ImportBatch:
    """Queue the import on the ``ingest`` queue once the surrounding transaction commits."""
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
    batch.task_id = jobs.enqueue(ImportBatch, batch.pk, task_id=task_id)
    return batch


def import_batch_run(*, batch_id: str) -> ImportBatch:
    """Run a batch's import (the worker's job, through ``ichlabel.jobs.run``). A batch another
    worker holds, or one canceled or finished, is left alone."""
    outcome = jobs.run(
        ImportBatch,
        batch_id,
        _import_uploads,
        # The type only: an error's text may quote a file's values.
        describe_error=lambda error: f"import failed: {type(error).__name__}",
    )
    return outcome or ImportBatch.objects.get(pk=batch_id)


def _import_uploads(batch: ImportBatch, lease: jobs.Lease) -> ImportBatch:
    # local: scan_import loads pydicom and NumPy, which the web app's start-up skips
    from annotations.ingest.scan_import import scan_import

    progress = _Progress(lease)
    try:
        report = scan_import(
            paths=[_upload_dir(batch)],
            center=batch.center,
            split=batch.split,
            batch=batch,
            base=_upload_dir(batch),
            on_progress=progress,
            should_cancel=lambda: lease.cancel_requested,
            limits=expansion_limits(batch=True),
        )
    except jobs.RetriableError:
        raise  # tried again: the uploads stay, the series already imported are skipped then
    except jobs.JobLost:
        logger.warning("import batch %s stopped: it was failed or taken over", batch.pk)
        if ImportBatch.objects.filter(pk=batch.pk, status__in=FINISHED_STATUSES).exists():
            import_batch_stopped(batch)
        raise
    except BaseException:
        _remove_upload(batch)
        _rollback(batch)
        raise
    _remove_upload(batch)
    return _finish(lease, report, progress.total)


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
    """Import local paths in this process (the command line), recorded as a batch that this
    process holds under a lease while it imports."""
    # local: scan_import loads pydicom and NumPy, which the web app's start-up skips
    from annotations.ingest.scan_import import scan_import

    created = ImportBatch.objects.create(
        center=center, split=split or center.split, source=source, created_by=user
    )
    batch = jobs.claim(ImportBatch, created.pk)
    assert batch is not None, "a batch just created is pending"
    with jobs.Lease(batch) as lease:
        progress = _Progress(lease, then=on_progress)
        try:
            report = scan_import(
                paths=paths,
                center=center,
                split=split,
                batch=batch,
                on_progress=progress,
                should_cancel=lambda: lease.cancel_requested,
                accept_burned_in=accept_burned_in,
                limits=expansion_limits(batch=False),  # the operator's own folders: no total
            )
        except BaseException:
            _rollback(batch)
            lease.fail("import failed")
            raise
        return _finish(lease, report, progress.total), report


def import_batch_cancel(*, batch: ImportBatch) -> ImportBatch:
    """Cancel a batch: at once if it has not started, else after the series it is importing."""
    batch = jobs.cancel(
        batch,
        running_message="Cancel requested; stopping after the current series.",
        started_at=Coalesce("started_at", Now()),  # a finished batch has a start
    )
    if batch.status == JobStatus.CANCELED:
        _remove_upload(batch)  # it never started
    return batch


def import_batch_stopped(batch: ImportBatch) -> None:
    """After a batch whose worker stopped (the jobs recovery's hook): a failed batch leaves
    nothing behind; a canceled one keeps the series imported before, as any cancel does. The
    uploads go in both cases, and so do the files of a series the worker left unrecorded."""
    from annotations.ingest.scan_import import import_leftovers_remove  # loads pydicom

    if batch.status == JobStatus.FAILED:
        _rollback(batch)
    import_leftovers_remove(batch)
    _remove_upload(batch)


class _Progress:
    """scan_import's progress callback: the batch's file counts, written under its lease
    (throttled); a batch the worker no longer holds stops the import."""

    def __init__(self, lease: jobs.Lease, then=None) -> None:
        self.lease = lease
        self.then = then
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.total = total
        self.lease.progress(done, total, files_done=done, files_total=total)
        if self.lease.lost:
            raise jobs.JobLost("the batch was failed or taken over while it ran")
        if self.then is not None:
            self.then(done, total)


def _finish(lease: jobs.Lease, report: "ImportReport", files_seen: int) -> ImportBatch:
    report_dict = report.as_dict()
    files = max(_report_files(report_dict), files_seen)
    fields = {"report": report_dict, "files_done": files, "files_total": files}
    if report.canceled:
        return lease.finish(
            JobStatus.CANCELED, "canceled; the series imported before remain", **fields
        )
    status = JobStatus.WARNING if report.rejected or report.quarantined else JobStatus.SUCCEEDED
    return lease.finish(status, _summary(report), **fields)


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
    folder_remove(_upload_dir(batch))


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

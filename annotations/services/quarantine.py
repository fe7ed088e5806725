"""Review of quarantined series: release (import as reviewed) or discard (delete the files)."""

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotations.models import ImportBatch, QuarantinedSeries
from annotations.services.import_batches import import_batch_import_paths
from annotations.services.scans import ImportReport
from ichlabel.api import ApplicationError


def quarantined_series_release(*, item: QuarantinedSeries, user) -> ImportReport:
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
        raise ApplicationError(f"this series was already {item.get_status_display().lower()}")


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

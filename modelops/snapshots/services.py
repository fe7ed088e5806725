"""Dataset snapshots: a frozen ground-truth version exported for training.

``snapshot_request`` returns the snapshot that already exists for the same version and
preprocessing (the key hash), or creates one and queues its build. The build reads each scan's
stored DICOM slices in order, converts them to Hounsfield units and hands them, with the
version's frozen labels and split, to ``SnapshotWriter``, which resamples, windows, resizes and
writes memory-mapped arrays. The build writes into a private folder and renames it when done, so
a snapshot directory is either complete or absent.
"""

import hashlib
import json
import logging
import shutil
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotations.models import (
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    JobStatus,
    ReadLevel,
    Slice,
)
from annotations.vocabulary import GROUND_TRUTH_FIELDS
from ichlabel.errors import Conflict, InvalidInput, NotFound
from ichlabel.jobs import Heartbeat, claim, requeue_pending
from modelops.ml.config import LABELS
from modelops.ml.preprocess import PAPER_WINDOWS
from modelops.ml.snapshot_format import FORMAT, SnapshotWriter
from modelops.models import DatasetSnapshot
from modelops.paths import relative_to_data, snapshot_dir

logger = logging.getLogger(__name__)


PROGRESS_INTERVAL_S = 1.0


# Ground-truth columns in the snapshot's label order (``any`` is stored as ``any_ich``).
# the model's output order (modelops.ml.config.LABELS) is the vocabulary's class order
_LABEL_FIELDS = GROUND_TRUTH_FIELDS


class SnapshotAborted(Exception):
    """The snapshot was failed by the stale check, or taken over, while its build ran."""


class SnapshotCanceled(Exception):
    """A cancel was asked while the snapshot was being built."""


class SnapshotScanError(Exception):
    """One scan of the version could not be read or preprocessed."""


def snapshot_key(*, version: GroundTruthVersion, image_size: int, slice_mm: float) -> str:
    """What defines a snapshot, hashed: the same inputs always give the same snapshot."""
    key = {
        "format": FORMAT,
        "ground_truth": {"id": version.pk, "content_sha256": version.content_sha256},
        "image_size": image_size,
        "slice_mm": slice_mm,
        "windows": [list(w) for w in PAPER_WINDOWS],
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def snapshot_request(
    *, ground_truth_id: int, image_size: int, slice_mm: float = 5.0, name: str = "", created_by
) -> tuple[DatasetSnapshot, bool]:
    """The snapshot of a version at this preprocessing: the existing one (False) or a new one
    whose build is queued (True). A failed or canceled build is retried."""
    version = GroundTruthVersion.objects.filter(pk=ground_truth_id).first()
    if version is None:
        raise NotFound(
            f"Ground-truth version {ground_truth_id} does not exist.",
        )
    if not version.content_sha256:
        raise Conflict("This ground-truth version is not sealed yet.")
    image_size, slice_mm = int(image_size), float(slice_mm)
    key = snapshot_key(version=version, image_size=image_size, slice_mm=slice_mm)
    try:
        with transaction.atomic():
            return _request(key, version, image_size, slice_mm, name, created_by)
    except IntegrityError:
        # Two first requests at once: the other one created it.
        return DatasetSnapshot.objects.get(key_sha256=key), False


def _request(key, version, image_size, slice_mm, name, created_by) -> tuple[DatasetSnapshot, bool]:
    snapshot = DatasetSnapshot.objects.select_for_update().filter(key_sha256=key).first()
    if snapshot is not None and snapshot.status not in (JobStatus.FAILED, JobStatus.CANCELED):
        return snapshot, False
    if snapshot is None:
        snapshot = DatasetSnapshot(key_sha256=key, created_by=created_by)
    snapshot.ground_truth = version
    snapshot.name = name.strip() or f"{version.name} {image_size}px"
    snapshot.image_size = image_size
    snapshot.slice_mm = slice_mm
    snapshot.windows = [list(w) for w in PAPER_WINDOWS]
    snapshot.status = JobStatus.PENDING
    snapshot.message = ""
    snapshot.scans_done = 0
    snapshot.lease = None
    snapshot.heartbeat_at = timezone.now()  # queued at: see snapshot_fail_stale
    snapshot.save()
    transaction.on_commit(lambda: _enqueue(snapshot.pk))
    return snapshot, True


def _enqueue(snapshot_id: int) -> None:
    from modelops.tasks import snapshot_build as task

    task.delay(snapshot_id)


def snapshot_build(*, snapshot_id: int) -> DatasetSnapshot:
    """The worker's side: claim the build, write the files, record the outcome. A build another
    worker holds (fresh heartbeat) or one already finished is left alone."""
    snapshot = _claim(snapshot_id)
    if snapshot is None:
        return DatasetSnapshot.objects.get(pk=snapshot_id)
    target = snapshot_dir(snapshot.key_sha256)
    heartbeat = Heartbeat(lambda: _held(snapshot), name=f"snapshot-{snapshot_id}")
    with heartbeat:
        try:
            manifest = _write(snapshot, target, heartbeat)
            digest, size = files_digest(target)
        except SnapshotCanceled:
            return _finish(snapshot, JobStatus.CANCELED, "Canceled; nothing was kept.")
        except Exception as error:  # noqa: BLE001 - the reason is kept on the snapshot
            logger.exception("snapshot %s failed", snapshot_id)
            return _finish(snapshot, JobStatus.FAILED, f"{type(error).__name__}: {error}")
    return _finish(
        snapshot,
        JobStatus.SUCCEEDED,
        _summary(manifest),
        directory=relative_to_data(target),
        manifest=manifest,
        files_sha256=digest,
        size_bytes=size,
    )


def _claim(snapshot_id: int) -> DatasetSnapshot | None:
    if not claim(DatasetSnapshot, snapshot_id, message=""):
        return None
    return DatasetSnapshot.objects.get(pk=snapshot_id)


def _held(snapshot: DatasetSnapshot):
    """The snapshot's row while this build still holds it."""
    return DatasetSnapshot.objects.filter(
        pk=snapshot.pk, lease=snapshot.lease, status__in=[JobStatus.RUNNING, JobStatus.CANCELING]
    )


def snapshot_cancel(*, snapshot: DatasetSnapshot) -> DatasetSnapshot:
    """A queued build is canceled at once; a running one stops after its current scan and
    removes what it wrote."""
    now = timezone.now()
    if DatasetSnapshot.objects.filter(pk=snapshot.pk, status=JobStatus.PENDING).update(
        status=JobStatus.CANCELED, message="Canceled before it started.", finished_at=now
    ):
        return DatasetSnapshot.objects.get(pk=snapshot.pk)
    if DatasetSnapshot.objects.filter(pk=snapshot.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.CANCELING, message="Cancel requested; stopping after the current scan."
    ):
        return DatasetSnapshot.objects.get(pk=snapshot.pk)
    snapshot.refresh_from_db()
    if snapshot.status == JobStatus.CANCELING:
        return snapshot
    raise InvalidInput(f"This snapshot is {snapshot.status}: there is nothing to cancel.", 409)


def _write(snapshot: DatasetSnapshot, target: Path, heartbeat: Heartbeat) -> dict:
    if target.exists():
        # A build that finished writing but not recording (the worker died in between).
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scans = list(
        GroundTruthScanLabel.objects.filter(version=snapshot.ground_truth)
        .select_related("scan")
        .order_by("split", "center_name", "scan__series_instance_uid")
    )
    tracker = _Tracker(snapshot, heartbeat, total=len(scans))
    with SnapshotWriter(
        target, image_size=snapshot.image_size, windows=PAPER_WINDOWS, slice_mm=snapshot.slice_mm
    ) as writer:
        for done, row in enumerate(scans, start=1):
            _add_scan(writer, row)
            tracker.progress(done)
        version = snapshot.ground_truth
        return writer.close(
            extra={
                "ground_truth": {
                    "id": version.pk,
                    "name": version.name,
                    "content_sha256": version.content_sha256,
                },
                # Scan-level reads (the prospective test set) have no slice labels: their
                # slice label arrays are zeros and must not be used as slice truth.
                "scan_level_splits": sorted(
                    {row.split for row in scans if row.level == ReadLevel.SCAN}
                ),
                "key_sha256": snapshot.key_sha256,
            }
        )


def _add_scan(writer: SnapshotWriter, row: GroundTruthScanLabel) -> None:
    """One scan into the writer; a scan that cannot be read fails the build, named."""
    try:
        hu, z_mm, slice_labels = _scan_arrays(row)
        writer.add_scan(
            row.split,
            scan_id=row.scan_id,
            series_instance_uid=row.scan.series_instance_uid,
            center=row.center_name,
            hu=hu,
            z_mm=z_mm,
            slice_labels=slice_labels,
            scan_labels=np.array([getattr(row, f) for f in _LABEL_FIELDS], dtype=np.uint8),
        )
    except Exception as error:
        raise SnapshotScanError(
            f"scan {row.scan_id} (series {row.scan.series_instance_uid}, {row.center_name}): "
            f"{type(error).__name__}: {error}"
        ) from error


def _scan_arrays(row: GroundTruthScanLabel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One scan's slices in HU (inferior to superior), their z positions and frozen labels."""
    slices = list(Slice.objects.filter(scan_id=row.scan_id).order_by("z_position_mm", "id"))
    if not slices:
        raise ValueError("the scan has no slices in storage")
    labels = {
        label.slice_id: [getattr(label, f) for f in _LABEL_FIELDS]
        for label in GroundTruthSliceLabel.objects.filter(
            version_id=row.version_id, scan_id=row.scan_id
        )
    }
    hu = np.stack([_slice_hu(s) for s in slices])
    z_mm = np.array([s.z_position_mm for s in slices], dtype=np.float64)
    # Slices without a ground-truth row were negative in every read.
    slice_labels = np.array(
        [labels.get(s.pk, [False] * len(LABELS)) for s in slices], dtype=np.uint8
    )
    return hu, z_mm, slice_labels


def _slice_hu(slice_: Slice) -> np.ndarray:
    # local: pydicom and its pixel handlers load in the build only, not at the web app's start-up
    import pydicom.config
    from pydicom.pixels import apply_modality_lut

    # As in the importer: no validation warnings, which would quote values.
    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
    with default_storage.open(slice_.storage_key, "rb") as handle:
        ds = pydicom.dcmread(handle)
    return np.asarray(apply_modality_lut(ds.pixel_array, ds), dtype=np.float32)


def files_digest(directory: Path) -> tuple[str, int]:
    """sha256 over every file's relative path and bytes, in sorted order; and the total size."""
    digest = hashlib.sha256()
    size = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    return digest.hexdigest(), size


def _summary(manifest: dict) -> str:
    parts = [
        f"{name}: {figures['scans']} scans, {figures['slices']} slices"
        for name, figures in sorted(manifest.get("splits", {}).items())
    ]
    return "; ".join(parts)


def _finish(snapshot: DatasetSnapshot, status: str, message: str, **fields) -> DatasetSnapshot:
    """Record the outcome while this build still holds the snapshot; a snapshot failed by the
    stale check, or taken over by another build, keeps what was written there."""
    now = timezone.now()
    held = _held(snapshot).update(
        status=status, message=message, finished_at=now, heartbeat_at=now, **fields
    )
    if held:
        logger.info("snapshot %s %s: %s", snapshot.pk, status, message)
    else:
        logger.warning(
            "snapshot %s: no longer held by this build; %s not recorded", snapshot.pk, status
        )
    return DatasetSnapshot.objects.get(pk=snapshot.pk)


def snapshot_fail_stale(*, timeout_s: int | None = None) -> int:
    """Fail building snapshots whose worker sent no heartbeat for ``timeout_s`` (and queue
    again those no worker took for ``MODELOPS_REQUEUE_PENDING_S``)."""
    requeue_pending(DatasetSnapshot, _enqueue)
    timeout = timeout_s if timeout_s is not None else settings.MODELOPS_HEARTBEAT_TIMEOUT_S
    cutoff = timezone.now() - timedelta(seconds=timeout)
    DatasetSnapshot.objects.filter(status=JobStatus.CANCELING, heartbeat_at__lt=cutoff).update(
        status=JobStatus.CANCELED,
        message="Canceled (the worker had stopped).",
        finished_at=timezone.now(),
    )
    return DatasetSnapshot.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).update(
        status=JobStatus.FAILED,
        message=f"the worker stopped responding (no heartbeat for {timeout} s)",
        finished_at=timezone.now(),
    )


class _Tracker:
    """Throttled progress writes; a snapshot no longer held stops the build."""

    def __init__(self, snapshot: DatasetSnapshot, heartbeat: Heartbeat, *, total: int) -> None:
        self.snapshot = snapshot
        self.heartbeat = heartbeat
        self.total = total
        self.last_write = 0.0
        self._write(0)

    def progress(self, done: int) -> None:
        self.heartbeat.touch()
        now = time.monotonic()
        if now - self.last_write >= PROGRESS_INTERVAL_S or done == self.total:
            self.last_write = now
            self._write(done)

    def _write(self, done: int) -> None:
        if not _held(self.snapshot).update(
            scans_done=done, scans_total=self.total, heartbeat_at=timezone.now()
        ):
            raise SnapshotAborted("the snapshot was failed or taken over while it was built")
        if _held(self.snapshot).filter(status=JobStatus.CANCELING).exists():
            raise SnapshotCanceled(f"canceled after {done} of {self.total} scans")

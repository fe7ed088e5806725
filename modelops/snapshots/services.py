"""Dataset snapshots: a frozen ground-truth version exported for training.

``snapshot_request`` returns the snapshot that already exists for the same version and
preprocessing (the key hash), or creates one and queues its build. The build reads each scan's
stored DICOM slices in order, converts them to Hounsfield units and hands them, with the
version's frozen labels and split, to ``SnapshotWriter``, which resamples, windows, resizes and
writes memory-mapped arrays. The build writes into a private folder and renames it when done, so
a snapshot directory is either complete or absent.

A build is a job of ``ichlabel.jobs``: claimed under a lease, cancelable after each scan,
failed by the jobs recovery when its worker dies (it is built again when asked again).
"""

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
from django.db import IntegrityError, transaction

from annotations.models import (
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    JobStatus,
    ReadLevel,
)
from annotations.vocabulary import GROUND_TRUTH_FIELDS
from ichlabel import jobs
from ichlabel.errors import Conflict, NotFound
from modelops.ml.config import LABELS
from modelops.ml.preprocess import PAPER_WINDOWS
from modelops.ml.snapshot_format import FORMAT, SnapshotWriter
from modelops.models import DatasetSnapshot
from modelops.paths import relative_to_data, snapshot_dir
from modelops.scan_pixels import scan_hu

logger = logging.getLogger(__name__)


# Ground-truth columns in the snapshot's label order (``any`` is stored as ``any_ich``).
# the model's output order (modelops.ml.config.LABELS) is the vocabulary's class order
_LABEL_FIELDS = GROUND_TRUTH_FIELDS


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
    # A failed or canceled build asked again is a new job.
    snapshot.status = JobStatus.PENDING
    snapshot.message = ""
    snapshot.scans_done = 0
    snapshot.progress = 0.0
    snapshot.lease = None
    snapshot.attempts = 0
    snapshot.started_at = snapshot.finished_at = None
    snapshot.save()
    jobs.enqueue(DatasetSnapshot, snapshot.pk)
    return snapshot, True


def snapshot_build(*, snapshot_id: int) -> DatasetSnapshot:
    """The worker's side (through ``ichlabel.jobs.run``): claim the build, write the files,
    record the outcome. A build another worker holds (fresh heartbeat) or one already finished
    is left alone."""
    built = jobs.run(DatasetSnapshot, snapshot_id, _build, claim_fields={"message": ""})
    return built or DatasetSnapshot.objects.get(pk=snapshot_id)


def _build(snapshot: DatasetSnapshot, lease: jobs.Lease) -> DatasetSnapshot:
    target = snapshot_dir(snapshot.key_sha256)
    manifest = _write(snapshot, target, lease)
    digest, size = files_digest(target)
    return lease.finish(
        JobStatus.SUCCEEDED,
        _summary(manifest),
        directory=relative_to_data(target),
        manifest=manifest,
        files_sha256=digest,
        size_bytes=size,
    )


def snapshot_cancel(*, snapshot: DatasetSnapshot) -> DatasetSnapshot:
    """A queued build is canceled at once; a running one stops after its current scan and
    removes what it wrote."""
    return jobs.cancel(
        snapshot, running_message="Cancel requested; stopping after the current scan."
    )


def _write(snapshot: DatasetSnapshot, target: Path, lease: jobs.Lease) -> dict:
    if target.exists():
        # A build that finished writing but not recording (the worker died in between).
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scans = list(
        GroundTruthScanLabel.objects.filter(version=snapshot.ground_truth)
        .select_related("scan")
        .order_by("split", "center_name", "scan__series_instance_uid")
    )
    total = len(scans)
    lease.progress(0, total, scans_done=0, scans_total=total)
    with SnapshotWriter(
        target, image_size=snapshot.image_size, windows=PAPER_WINDOWS, slice_mm=snapshot.slice_mm
    ) as writer:
        for done, row in enumerate(scans, start=1):
            _add_scan(writer, row)
            lease.progress(done, total, scans_done=done, scans_total=total)
            # Stopped here, the writer removes what it wrote.
            lease.check(f"Canceled after {done} of {total} scans; nothing was kept.")
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
        if jobs.is_retriable(error):
            raise  # the build is tried again
        raise SnapshotScanError(
            f"scan {row.scan_id} (series {row.scan.series_instance_uid}, {row.center_name}): "
            f"{type(error).__name__}: {error}"
        ) from error


def _scan_arrays(row: GroundTruthScanLabel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One scan's slices in HU (inferior to superior), their z positions and frozen labels."""
    hu, z_mm, slices = scan_hu(row.scan_id)
    labels = {
        label.slice_id: [getattr(label, f) for f in _LABEL_FIELDS]
        for label in GroundTruthSliceLabel.objects.filter(
            version_id=row.version_id, scan_id=row.scan_id
        )
    }
    # Slices without a ground-truth row were negative in every read.
    slice_labels = np.array(
        [labels.get(s.pk, [False] * len(LABELS)) for s in slices], dtype=np.uint8
    )
    return hu, z_mm, slice_labels


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

"""Dataset snapshots built from a frozen ground-truth version of imported phantom DICOM."""

import numpy as np
import pytest

from annotations.models import GroundTruthScanLabel, JobStatus
from ichlabel import jobs
from ichlabel.errors import DomainError
from modelops.ml.snapshot_format import open_snapshot
from modelops.models import DatasetSnapshot
from modelops.paths import data_path
from modelops.snapshots.services import (
    snapshot_build,
    snapshot_cancel,
    snapshot_request,
)

pytestmark = pytest.mark.django_db


def _built(version, user, size=32) -> DatasetSnapshot:
    snapshot, created = snapshot_request(
        ground_truth_id=version.pk, image_size=size, created_by=user
    )
    assert created
    return snapshot_build(snapshot_id=snapshot.pk)


def test_snapshot_holds_the_versions_labels_and_splits(cohort):
    users, version = cohort
    snapshot = _built(version, users["mlengineer"])
    assert snapshot.status == JobStatus.SUCCEEDED, snapshot.message
    assert len(snapshot.files_sha256) == 64 and snapshot.size_bytes > 0
    assert snapshot.scans_done == snapshot.scans_total == version.scan_count
    files = open_snapshot(data_path(snapshot.directory))
    assert files.manifest["ground_truth"]["content_sha256"] == version.content_sha256
    assert set(files.splits) == {"train", "validation"}
    truth = {row.scan_id: row for row in GroundTruthScanLabel.objects.filter(version=version)}
    for name in files.splits:
        split = files.split(name)
        assert split.images.shape[1:] == (32, 32, 3)
        assert split.images.dtype == np.uint8
        for index, scan in enumerate(split.scans):
            row = truth.pop(scan["scan_id"])
            assert row.split == name and row.center_name == scan["center"]
            expected = [row.any_ich, row.iph, row.ivh, row.sah, row.sdh, row.edh]
            assert split.scan_labels[index].tolist() == [int(v) for v in expected]
            # a scan is positive for a class exactly when one of its slices is
            start, count = split.scan_index[index]
            slices = split.slice_labels[start : start + count]
            assert slices.max(axis=0).tolist() == split.scan_labels[index].tolist()
    assert truth == {}, "every scan of the version is in the snapshot"


def test_same_version_and_preprocessing_gives_the_same_snapshot(cohort):
    users, version = cohort
    first = _built(version, users["mlengineer"])
    again, created = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    assert (again.pk, created) == (first.pk, False)
    other, created = snapshot_request(
        ground_truth_id=version.pk, image_size=48, created_by=users["mlengineer"]
    )
    assert created and other.pk != first.pk


def test_a_rebuild_writes_identical_files(cohort):
    users, version = cohort
    first = _built(version, users["mlengineer"])
    # The build is retried after a failure: the files must come out byte for byte the same.
    DatasetSnapshot.objects.filter(pk=first.pk).update(status=JobStatus.FAILED)
    again, created = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    assert created and again.pk == first.pk
    rebuilt = snapshot_build(snapshot_id=again.pk)
    assert rebuilt.status == JobStatus.SUCCEEDED
    assert rebuilt.files_sha256 == first.files_sha256


def test_unknown_version_is_refused(cohort):
    users, _ = cohort
    with pytest.raises(DomainError, match="does not exist"):
        snapshot_request(ground_truth_id=999999, image_size=32, created_by=users["mlengineer"])


def test_a_build_with_an_unreadable_slice_fails_with_the_reason(cohort, settings):
    users, version = cohort
    snapshot, _ = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    from annotations.models import GroundTruthSliceLabel, Slice

    scan_id = GroundTruthSliceLabel.objects.filter(version=version).first().scan_id
    stored = Slice.objects.filter(scan_id=scan_id).first()
    (settings.MEDIA_ROOT / stored.storage_key).write_bytes(b"not dicom")
    failed = snapshot_build(snapshot_id=snapshot.pk)
    assert failed.status == JobStatus.FAILED
    assert f"scan {scan_id} (series " in failed.message, failed.message
    assert "InvalidDicomError" in failed.message or "DICOM" in failed.message
    folder = data_path(f"modelops/snapshots/{snapshot.key_sha256}")
    assert not folder.exists() and not folder.with_name(folder.name + ".partial").exists()


def test_stale_builds_fail(cohort):
    users, version = cohort
    snapshot, _ = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    DatasetSnapshot.objects.filter(pk=snapshot.pk).update(
        status=JobStatus.RUNNING, heartbeat_at="2000-01-01T00:00:00Z"
    )
    assert jobs.fail_stale(DatasetSnapshot, timeout_s=60)["failed"] == 1
    snapshot.refresh_from_db()
    assert snapshot.status == JobStatus.FAILED and "heartbeat" in snapshot.message


def test_a_build_held_by_a_live_worker_is_not_built_twice(cohort):
    users, version = cohort
    snapshot, _ = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    from django.utils import timezone

    DatasetSnapshot.objects.filter(pk=snapshot.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now()
    )
    again = snapshot_build(snapshot_id=snapshot.pk)
    assert again.status == JobStatus.RUNNING and again.files_sha256 == ""


def test_cancel_a_queued_build_at_once(cohort):
    users, version = cohort
    snapshot, _ = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    assert snapshot_cancel(snapshot=snapshot).status == JobStatus.CANCELED
    assert snapshot_build(snapshot_id=snapshot.pk).status == JobStatus.CANCELED, "never built"
    with pytest.raises(DomainError, match="nothing to cancel"):
        snapshot_cancel(snapshot=snapshot)


def test_cancel_stops_a_running_build_and_keeps_nothing(cohort, monkeypatch, settings):
    from modelops.snapshots import services as snapshots

    users, version = cohort
    snapshot, _ = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    add_scan = snapshots._add_scan

    def add_then_cancel(writer, row):
        add_scan(writer, row)
        snapshot_cancel(snapshot=DatasetSnapshot.objects.get(pk=snapshot.pk))

    monkeypatch.setattr(snapshots, "_add_scan", add_then_cancel)
    settings.JOBS_PROGRESS_INTERVAL_S = 0.0  # every scan's progress is written
    canceled = snapshot_build(snapshot_id=snapshot.pk)
    assert canceled.status == JobStatus.CANCELED, canceled.message
    assert canceled.scans_done == 1
    folder = data_path(f"modelops/snapshots/{snapshot.key_sha256}")
    assert not folder.exists() and not folder.with_name(folder.name + ".partial").exists()
    # asked again, it is built from the start
    again, created = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    assert created and again.pk == snapshot.pk

"""The snapshot format: layout, dtypes, manifest, memory mapping, byte-for-byte reproducibility."""

import hashlib
import io
import json

import numpy as np
import pytest

from modelops.ml.snapshot_format import FORMAT, SnapshotWriter, _npy_header, open_snapshot
from tests.modelops.ml.synthetic import build_snapshot, phantom_scan


def _digest(directory) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_layout_dtypes_and_manifest(tmp_path):
    manifest = build_snapshot(tmp_path / "s", counts={"train": 3, "test": 2}, image_size=32)

    assert manifest["format"] == FORMAT and manifest["seed"] == 0
    assert set(manifest["splits"]) == {"train", "test"}
    assert manifest["splits"]["train"]["scans"] == 3
    assert manifest["splits"]["train"]["positive_scans"] == 2
    assert json.loads((tmp_path / "s" / "manifest.json").read_text()) == manifest
    assert not (tmp_path / "s.partial").exists()
    snapshot = open_snapshot(tmp_path / "s")
    assert snapshot.splits == ("train", "test")
    train = snapshot.split("train")
    assert isinstance(train.images, np.memmap)
    assert train.images.dtype == np.uint8 and train.images.shape[1:] == (32, 32, 3)
    assert train.slice_labels.dtype == np.uint8 and train.slice_labels.shape[1] == 6
    assert train.scan_index.dtype == np.int64 and len(train) == 3
    assert train.scan_index[:, 1].sum() == len(train.images)
    assert train.scan_index[1, 0] == train.scan_index[0, 1]
    assert [scan["scan_id"] for scan in train.scans] == [0, 1, 2]
    assert np.array_equal(train.scan_labels[0], train.scan_slice_labels(0).max(axis=0))
    images = train.scan_images(0)
    assert images.dtype == np.float32 and images.min() >= 0 and images.max() <= 1


def test_absent_split_raises_a_clear_key_error(tmp_path):
    build_snapshot(tmp_path / "s", counts={"train": 1}, image_size=32)
    with pytest.raises(KeyError, match="no 'validation' split"):
        open_snapshot(tmp_path / "s").split("validation")


def test_same_scans_give_the_same_bytes(tmp_path):
    build_snapshot(tmp_path / "a", counts={"train": 2, "validation": 2}, image_size=32)
    build_snapshot(tmp_path / "b", counts={"train": 2, "validation": 2}, image_size=32)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_thin_series_are_resampled_and_windows_quantised(tmp_path):
    rng = np.random.default_rng(1)
    hu, _, labels, scan_labels = phantom_scan(rng, slices=10, positive=True)
    writer = SnapshotWriter(tmp_path / "s", image_size=24)
    writer.add_scan(
        "train",
        scan_id=7,
        series_instance_uid="1.2",
        center="a",
        hu=hu,
        z_mm=np.arange(10) * 1.0,
        slice_labels=labels,
        scan_labels=scan_labels,
    )
    writer.close()
    split = open_snapshot(tmp_path / "s").split("train")
    assert split.scans == [{"scan_id": 7, "series_instance_uid": "1.2", "center": "a", "slices": 2}]
    assert split.slice_labels[:, 0].max() == 1
    # 30 HU brain in window 1 (level 50, width 100): 0.3 -> 77 away from the blob
    assert abs(int(np.median(split.images[0, 10:14, 16:18, 0])) - 77) <= 3


def test_existing_directory_and_bad_input_are_refused(tmp_path):
    (tmp_path / "s").mkdir()
    with pytest.raises(FileExistsError):
        SnapshotWriter(tmp_path / "s", image_size=32)
    writer = SnapshotWriter(tmp_path / "t", image_size=32)
    with pytest.raises(ValueError, match="split"):
        writer.add_scan(
            "dev",
            scan_id=1,
            series_instance_uid="x",
            center="c",
            hu=np.zeros((1, 4, 4)),
            z_mm=np.zeros(1),
            slice_labels=np.zeros((1, 6)),
            scan_labels=np.zeros(6),
        )
    with pytest.raises(ValueError, match="labels"):
        writer.add_scan(
            "train",
            scan_id=1,
            series_instance_uid="x",
            center="c",
            hu=np.zeros((2, 4, 4)),
            z_mm=np.zeros(2),
            slice_labels=np.zeros((1, 6)),
            scan_labels=np.zeros(6),
        )
    writer.abort()
    assert not (tmp_path / "t.partial").exists() and not (tmp_path / "t").exists()


def test_images_are_written_in_place_behind_a_fixed_npy_header(tmp_path):
    manifest = build_snapshot(tmp_path / "s", counts={"train": 3}, image_size=32)
    path = tmp_path / "s" / "train" / "images.npy"
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "images.npy",
        "scan_index.npy",
        "scan_labels.npy",
        "scans.json",
        "slice_labels.npy",
    ]
    n = manifest["splits"]["train"]["slices"]
    with open(path, "rb") as f:
        assert np.lib.format.read_magic(f) == (1, 0)
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(f)
        assert f.tell() == 256 and f.tell() % 64 == 0
    assert shape == (n, 32, 32, 3) and not fortran_order and dtype == np.uint8
    assert path.stat().st_size == 256 + n * 32 * 32 * 3
    header = path.read_bytes()[:256]
    assert header.endswith(b"\n") and int.from_bytes(header[8:10], "little") == 246
    images = np.load(path, mmap_mode="r")
    assert images.shape == (n, 32, 32, 3) and images.dtype == np.uint8
    assert np.array_equal(np.load(path), images)
    assert images[-1].any()  # the last scan's bytes landed after the header, not over it


def test_npy_header_holds_paper_scale_shapes():
    header = _npy_header((10**12, 480, 480, 3))
    assert len(header) == 256
    f = io.BytesIO(header)
    np.lib.format.read_magic(f)
    assert np.lib.format.read_array_header_1_0(f)[0] == (10**12, 480, 480, 3)

"""Batches: slice shuffling per seed, centre crop, padding with masks and zero weights."""

import numpy as np

from modelops.ml.config import LABELS
from modelops.ml.data import (
    crop_range,
    cropped_scan_labels,
    pad_steps,
    padded_length,
    scan_feature_batches,
    scan_image_batches,
    slice_batches,
)
from modelops.ml.model import PAD_VALUE
from modelops.ml.snapshot_format import open_snapshot
from tests.modelops.ml.synthetic import build_snapshot


def test_crop_and_padded_length():
    assert crop_range(5, 8) == (0, 5)
    assert crop_range(12, 8) == (2, 10)
    assert padded_length(5, 64) == 8 and padded_length(9, 64) == 16 and padded_length(70, 64) == 64
    assert padded_length(3, 6) == 6


def test_pad_steps_marks_real_steps():
    x, mask = pad_steps([np.ones((2, 3)), np.ones((4, 3))], 5)
    assert x.shape == (2, 5, 3) and (x[0, 2:] == PAD_VALUE).all()
    assert mask.tolist() == [[1, 1, 0, 0, 0], [1, 1, 1, 1, 0]]


def test_slice_batches_cover_every_slice_once_and_shuffle_per_seed(tiny_snapshot):
    split = open_snapshot(tiny_snapshot).split("train")
    labels = [y for _, y in slice_batches(split, batch_size=16, rng=np.random.default_rng(0))]
    assert sum(len(y) for y in labels) == split.n_slices
    first = [x for x, _ in slice_batches(split, batch_size=16, rng=np.random.default_rng(0))][0]
    again = [x for x, _ in slice_batches(split, batch_size=16, rng=np.random.default_rng(0))][0]
    other = [x for x, _ in slice_batches(split, batch_size=16, rng=np.random.default_rng(1))][0]
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_scan_batches_pad_with_zero_weight_and_crop(tiny_snapshot):
    split = open_snapshot(tiny_snapshot).split("train")
    features = np.arange(split.n_slices, dtype=np.float32)[:, None] * np.ones((1, 5), np.float32)
    x, y, weights = next(scan_feature_batches(split, features, scans_per_batch=3, max_slices=6))
    counts = split.scan_index[:3, 1]
    assert x.shape[:2] == (3, 6) and y["slice"].shape == (3, 6, 6) and y["scan"].shape == (3, 6)
    assert weights["slice"].sum(axis=1).tolist() == np.minimum(counts, 6).tolist()
    assert (x[weights["slice"] == 0] == PAD_VALUE).all()
    assert (y["slice"][weights["slice"] == 0] == 0).all()
    start, count = split.scan_index[0]
    low, _ = crop_range(int(count), 6)
    assert x[0, 0, 0] == start + low


def test_image_batches_are_padded_images(tiny_snapshot):
    split = open_snapshot(tiny_snapshot).split("validation")
    x, _, weights = next(
        scan_image_batches(
            split, scans_per_batch=2, max_slices=64, rng=np.random.default_rng(0), augment=True
        )
    )
    assert x.shape[0] == 2 and x.shape[1] % 8 == 0 and x.shape[2:] == (32, 32, 3)
    assert (x[weights["slice"] == 1] >= 0).all()


def test_cropped_scan_label_is_that_of_the_kept_slices():
    iph, sdh = LABELS.index("iph"), LABELS.index("sdh")
    slice_labels = np.zeros((12, 6), np.uint8)
    slice_labels[0:2, [0, iph]] = 1  # a bleed the centre crop (2, 10) drops
    scan = slice_labels.max(axis=0)
    assert cropped_scan_labels(scan, slice_labels, 2, 10).tolist() == [0] * 6
    assert cropped_scan_labels(scan, slice_labels, 0, 12).tolist() == scan.tolist()
    slice_labels[5, [0, iph]] = 1  # one inside it
    assert cropped_scan_labels(scan, slice_labels, 2, 10).tolist() == scan.tolist()
    # a class without slice labels (scan-level only) keeps the scan's label, and "any" follows
    scan_only = scan.copy()
    scan_only[sdh] = 1
    slice_labels[5] = 0
    label = cropped_scan_labels(scan_only, slice_labels, 2, 10)
    assert label[sdh] == 1 and label[iph] == 0 and label[0] == 1


def test_scan_batches_label_a_cropped_scan_by_its_kept_slices(tmp_path):
    build_snapshot(tmp_path / "s", counts={"train": 8}, slices=(12, 16))
    split = open_snapshot(tmp_path / "s").split("train")
    features = np.zeros((split.n_slices, 2), np.float32)
    _, y, _ = next(scan_feature_batches(split, features, scans_per_batch=8, max_slices=4))
    assert (y["scan"] == y["slice"].max(axis=1)).all()
    assert (y["scan"] <= split.scan_labels.astype(np.float32)).all()
    # the phantom's bleed is 3 slices somewhere along z: some crops of 4 must miss it
    assert (y["scan"][:, 0] < split.scan_labels[:, 0]).any()

"""Thin series resampled to the paper's 5 mm slices; thick ones left alone."""

import numpy as np

from modelops.ml.preprocess import resample_to_thickness


def _labels(n: int, positive: list[int]) -> np.ndarray:
    labels = np.zeros((n, 6), np.uint8)
    labels[positive, 0] = 1
    return labels


def test_one_mm_slices_average_into_five_mm_slabs():
    hu = np.arange(10, dtype=np.float32)[:, None, None] * np.ones((10, 2, 2), np.float32)
    z = np.arange(10) * 1.0

    out, z_out, labels = resample_to_thickness(hu, z, _labels(10, [7]))

    assert out.shape == (2, 2, 2)
    assert out[:, 0, 0].tolist() == [2.0, 7.0]
    assert z_out.tolist() == [2.0, 7.0]
    assert labels[:, 0].tolist() == [0, 1]


def test_a_label_on_one_thin_slice_marks_its_whole_slab():
    hu = np.zeros((7, 1, 1), np.float32)
    out, _, labels = resample_to_thickness(hu, np.arange(7) * 2.5, _labels(7, [0]))

    assert len(out) == 4
    assert labels[:, 0].tolist() == [1, 0, 0, 0]


def test_thick_or_equal_series_come_back_unchanged():
    hu = np.random.default_rng(0).normal(size=(5, 3, 3)).astype(np.float32)
    labels = _labels(5, [2])
    for spacing in (4.0, 5.0, 7.5):
        out, z_out, labels_out = resample_to_thickness(hu, np.arange(5) * spacing, labels)
        assert out is hu
        assert np.array_equal(labels_out, labels)
        assert len(z_out) == 5


def test_descending_z_and_single_slices_work():
    hu = np.ones((4, 1, 1), np.float32)
    out, z_out, _ = resample_to_thickness(hu, np.array([9.0, 8.0, 7.0, 6.0]), _labels(4, []))
    assert len(out) == 1 and z_out.tolist() == [7.5]
    out, _, _ = resample_to_thickness(hu[:1], np.array([0.0]), _labels(1, []))
    assert len(out) == 1

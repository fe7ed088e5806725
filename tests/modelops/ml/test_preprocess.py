"""The paper's three CT windows as channels, scaled 0-1, and the resize to the model's size."""

import numpy as np
import pytest

from modelops.ml.preprocess import (
    PAPER_WINDOWS,
    hounsfield,
    preprocess_slices,
    resize,
    window,
    window_slices,
)


def test_window_maps_level_and_width_onto_zero_to_one():
    hu = np.array([-1000.0, 0.0, 25.0, 50.0, 75.0, 100.0, 3000.0])

    assert window(hu, 50, 100).tolist() == pytest.approx([0, 0, 0.25, 0.5, 0.75, 1, 1])


def test_paper_windows_become_three_channels():
    blood, brain, bone = 70.0, 30.0, 1000.0
    hu = np.full((2, 4, 4), brain)
    hu[0, 1, 1], hu[1, 2, 2] = blood, bone

    channels = window_slices(hu)

    assert PAPER_WINDOWS == ((50, 100), (50, 130), (150, 300))
    assert channels.shape == (2, 4, 4, 3) and channels.dtype == np.float32
    assert channels[0, 1, 1].tolist() == pytest.approx([0.7, 85 / 130, 70 / 300])
    assert channels[1, 2, 2].tolist() == [1.0, 1.0, 1.0]
    assert channels.min() >= 0 and channels.max() <= 1


def test_hounsfield_applies_slope_and_intercept():
    stored = np.array([0, 1024, 1094], dtype=np.uint16)

    assert hounsfield(stored, 1.0, -1024.0).tolist() == [-1024, 0, 70]


def test_resize_keeps_constant_images_and_same_size_input():
    image = np.random.default_rng(0).random((5, 5, 3)).astype(np.float32)
    flat = np.full((64, 64, 3), 0.25, dtype=np.float32)

    assert np.array_equal(resize(image, 5), image)
    assert np.allclose(resize(flat, 480), 0.25)
    assert resize(flat, 480).shape == (480, 480, 3)


def test_resize_interpolates_a_ramp_linearly():
    ramp = np.tile(np.arange(4, dtype=np.float32), (4, 1))[..., None]

    doubled = resize(ramp, 8)[0, :, 0]

    assert doubled.tolist() == pytest.approx([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])


def test_preprocess_slices_gives_the_models_input():
    hu = np.zeros((3, 32, 32)) + 40

    batch = preprocess_slices(hu, size=48)

    assert batch.shape == (3, 48, 48, 3)
    assert np.allclose(batch[..., 0], 0.4)

"""Augmentation: shapes and range kept, deterministic per seed, one map per scan."""

import numpy as np

from modelops.ml.augment import apply_transform, augment_batch, augment_scan, random_transform


def _images(n: int = 3, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(0)
    images = np.zeros((n, size, size, 3), np.float32)
    images[:, 8:24, 8:24] = rng.uniform(0.3, 1.0, (n, 16, 16, 3))
    return images


def test_batch_keeps_shape_and_range_and_changes_the_images():
    images = _images()
    out = augment_batch(images, np.random.default_rng(1))
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out, images)


def test_same_seed_same_result_other_seed_other_result():
    images = _images()
    a = augment_batch(images, np.random.default_rng(5))
    b = augment_batch(images, np.random.default_rng(5))
    c = augment_batch(images, np.random.default_rng(6))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_a_scan_gets_one_map_for_all_its_slices():
    slice_ = _images(1)
    scan = np.repeat(slice_, 4, axis=0)
    out = augment_scan(scan, np.random.default_rng(2))
    for index in range(1, 4):
        assert np.array_equal(out[index], out[0])


def test_identity_like_transform_leaves_the_centre_alone():
    images = _images(1)
    transform = random_transform(np.random.default_rng(0), (32, 32))
    still = type(transform)(1.0, (0.0, 0.0), 0.0, False, np.zeros_like(transform.field))
    assert np.allclose(apply_transform(images, still), images, atol=1e-6)
    flipped = type(transform)(1.0, (0.0, 0.0), 0.0, True, np.zeros_like(transform.field))
    assert np.allclose(apply_transform(images, flipped), images[:, :, ::-1], atol=1e-6)


def test_empty_batch():
    assert augment_batch(np.zeros((0, 8, 8, 3)), np.random.default_rng(0)).shape == (0, 8, 8, 3)

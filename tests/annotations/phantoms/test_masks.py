"""Lesion masks of the phantoms (annotations.phantoms.masks): pure, no database, small matrices.

The masks are the pixels behind the slice truth, so they must agree with its flags and counts on
every slice; written to disk they load back equal, and they follow the seed like the rest.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from annotations.phantoms import (
    MASKS_DIR,
    SUBTYPES,
    generate_scan,
    load_lesion_masks,
    masks_path,
    pack_lesion_masks,
    scan_subtypes,
    unpack_lesion_masks,
    write_lesion_masks,
    write_phantoms,
)
from annotations.phantoms.scan import min_lesion_pixels

SEED = 7
SIZE = 64
N_SCANS = 10


@pytest.fixture(autouse=True)
def data_dir():
    """Shadows tests/conftest.py's data_dir, which needs pytest-django's settings: these tests are
    pure and use no data directory."""
    return None


@pytest.fixture(scope="module")
def scans():
    return [generate_scan(SEED, i, size=SIZE) for i in range(N_SCANS)]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantoms")
    return out, write_phantoms(out, scans=N_SCANS, seed=SEED, size=SIZE, masks=True)


def test_masks_agree_with_the_slice_truth_on_every_slice(scans):
    for scan in scans:
        masks = scan.lesion_masks()
        assert masks.dtype == bool
        assert masks.shape == (*scan.volume_hu.shape, len(SUBTYPES))
        counts = masks.sum(axis=(1, 2))
        threshold = min_lesion_pixels(scan.shape.spacing_mm)
        for sl in scan.slices:
            for i, subtype in enumerate(SUBTYPES):
                n = int(counts[sl.position, i])
                assert n == sl.lesion_pixels[subtype], (scan.name, sl.position, subtype)
                assert sl.flags[subtype] == (n >= threshold), (scan.name, sl.position, subtype)


def test_masks_are_the_labelled_pixels_of_the_planned_subtypes(scans):
    positives = [scan for scan in scans if scan.positive]
    assert positives
    for scan in positives:
        masks = scan.lesion_masks()
        for i, subtype in enumerate(SUBTYPES):
            assert np.array_equal(masks[..., i], scan.labels == i + 1)
            assert masks[..., i].any() == (subtype in scan_subtypes(SEED, scan.index))
        assert masks.sum(axis=-1).max() == 1  # later lesions cover earlier ones: one per pixel


def test_a_negative_scan_has_empty_masks(scans):
    negatives = [scan for scan in scans if not scan_subtypes(SEED, scan.index)]
    assert negatives
    for scan in negatives:
        masks = scan.lesion_masks()
        assert masks.shape[0] == scan.n_slices and not masks.any()


def test_written_masks_load_back_equal_and_are_named_in_the_truth(scans, written):
    out, results = written
    truth = {entry["scan"]: entry for entry in json.loads((out / "truth.json").read_text())}
    for scan, result in zip(scans, results, strict=True):
        assert result.masks == masks_path(out, scan.name) == out / MASKS_DIR / f"{scan.name}.npz"
        assert truth[scan.name]["masks"] == f"{MASKS_DIR}/{scan.name}.npz"
        loaded = load_lesion_masks(out / truth[scan.name]["masks"])
        assert loaded.dtype == bool
        assert np.array_equal(loaded, scan.lesion_masks()), scan.name


def test_the_truth_of_a_folder_written_without_masks_is_unchanged(tmp_path):
    write_phantoms(tmp_path / "plain", scans=3, seed=11, size=48)
    write_phantoms(tmp_path / "masked", scans=3, seed=11, size=48, masks=True)
    plain = json.loads((tmp_path / "plain" / "truth.json").read_text())
    masked = json.loads((tmp_path / "masked" / "truth.json").read_text())

    assert not (tmp_path / "plain" / MASKS_DIR).exists()
    assert all("masks" not in entry for entry in plain)
    assert [{k: v for k, v in entry.items() if k != "masks"} for entry in masked] == plain


def test_masks_are_deterministic_from_the_seed(tmp_path):
    first = generate_scan(SEED, 3, size=48).lesion_masks()
    again = generate_scan(SEED, 3, size=48).lesion_masks()
    assert np.array_equal(first, again)
    write_phantoms(tmp_path / "a", scans=3, seed=11, size=48, masks=True)
    write_phantoms(tmp_path / "b", scans=3, seed=11, size=48, masks=True)
    files = sorted(p.name for p in (tmp_path / "a" / MASKS_DIR).iterdir())
    assert len(files) == 3
    for name in files:
        a = (tmp_path / "a" / MASKS_DIR / name).read_bytes()
        assert a == (tmp_path / "b" / MASKS_DIR / name).read_bytes(), name


def test_overwriting_a_scan_without_masks_removes_its_old_mask(tmp_path):
    write_phantoms(tmp_path, scans=1, seed=5, size=32, masks=True)
    assert masks_path(tmp_path, "case0000").exists()
    write_phantoms(tmp_path, scans=1, seed=6, size=32, overwrite=True)
    assert not masks_path(tmp_path, "case0000").exists()
    assert "masks" not in json.loads((tmp_path / "truth.json").read_text())[0]


def test_the_bit_field_holds_overlapping_subtypes_and_is_read_by_name(tmp_path):
    rng = np.random.default_rng(0)
    masks = rng.random((2, 5, 4, len(SUBTYPES))) < 0.5
    bits = pack_lesion_masks(masks)
    assert bits.dtype == np.uint8 and bits.shape == (2, 5, 4)
    assert bits[0, 0, 0] == sum(1 << i for i in range(len(SUBTYPES)) if masks[0, 0, 0, i])
    assert np.array_equal(unpack_lesion_masks(bits), masks)
    # A file whose bits follow another order is read back in SUBTYPES order.
    reversed_bits = pack_lesion_masks(masks[..., ::-1])
    assert np.array_equal(unpack_lesion_masks(reversed_bits, tuple(reversed(SUBTYPES))), masks)
    path = write_lesion_masks(tmp_path / "m.npz", masks)
    with np.load(path) as stored:
        assert list(stored["subtypes"]) == list(SUBTYPES)
        assert np.array_equal(stored["bits"], bits)
    assert np.array_equal(load_lesion_masks(path), masks)


def test_malformed_masks_are_refused():
    with pytest.raises(ValueError, match="boolean"):
        pack_lesion_masks(np.zeros((2, 2, len(SUBTYPES)), dtype=np.uint8))
    with pytest.raises(ValueError, match="boolean"):
        pack_lesion_masks(np.zeros((2, 2, 3), dtype=bool))
    with pytest.raises(ValueError, match="lacks subtypes"):
        unpack_lesion_masks(np.zeros((2, 2), dtype=np.uint8), ("iph", "ivh"))

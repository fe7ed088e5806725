"""Lesion masks of a phantom scan: which pixels each hemorrhage subtype covers, slice by slice.

A mask array is boolean, shaped (n_slices, rows, columns, 5): slices in position order (inferior to
superior, as the volume and truth.json's `slices`), the last axis in `SUBTYPES` order (iph, ivh,
sah, sdh, edh). It holds every pixel labelled with blood, so its count per slice and subtype is the
truth's `lesion_pixels`; a slice's flag for a subtype also needs that count to reach the area
threshold (scan.py), so a flag-negative slice can still hold a few mask pixels. Localization is
scored on flag-positive slices.

On disk (`masks/<scan name>.npz` beside truth.json) a scan's masks are one uint8 bit field per
pixel, bit i set when the pixel belongs to SUBTYPES[i], stored as array `bits` of an npz archive
(deflate) with the subtype names in array `subtypes`. Mostly zero, a 512 x 512 x 33 scan with an
EDH packs to about 11 kB (41 MiB as booleans). The archive is written with fixed member dates, so
the same scan gives the same bytes; `numpy.load` reads it like any npz.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from .hemorrhage import SUBTYPES

MASKS_DIR = "masks"
# A date inside the zip format's range (1980-2107); the build time would make each write differ.
_FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def masks_from_labels(labels: np.ndarray) -> np.ndarray:
    """Boolean masks (..., len(SUBTYPES)) from a label array (0 no blood, i + 1 for SUBTYPES[i]).

    These are the pixels `scan.slice_flags` counts, so mask sums equal `lesion_pixels`.
    """
    codes = np.arange(1, len(SUBTYPES) + 1, dtype=labels.dtype)
    return labels[..., np.newaxis] == codes


def pack_lesion_masks(masks: np.ndarray) -> np.ndarray:
    """The uint8 bit field of boolean masks (..., len(SUBTYPES)): bit i = SUBTYPES[i]."""
    masks = np.asarray(masks)
    if masks.dtype != bool or masks.ndim < 1 or masks.shape[-1] != len(SUBTYPES):
        raise ValueError(f"masks must be boolean with a last axis of {len(SUBTYPES)} subtypes")
    bits = np.zeros(masks.shape[:-1], dtype=np.uint8)
    for i in range(len(SUBTYPES)):
        bits |= masks[..., i].astype(np.uint8) << i
    return bits


def unpack_lesion_masks(bits: np.ndarray, subtypes: tuple[str, ...] = SUBTYPES) -> np.ndarray:
    """Boolean masks in `SUBTYPES` order from a bit field whose bit i is `subtypes[i]`."""
    missing = [s for s in SUBTYPES if s not in subtypes]
    if missing:
        raise ValueError(f"the bit field lacks subtypes {', '.join(missing)}")
    shifts = np.array([subtypes.index(s) for s in SUBTYPES], dtype=np.uint8)
    return ((bits[..., np.newaxis] >> shifts) & 1).astype(bool)


def write_lesion_masks(path: Path, masks: np.ndarray) -> Path:
    """Write boolean masks (n_slices, rows, columns, 5) as a packed npz file; returns its path.

    Like `np.savez_compressed`, but each member carries a fixed date, so equal masks give equal
    bytes (the phantom folder is byte-identical from its seed).
    """
    arrays = {"bits": pack_lesion_masks(masks), "subtypes": np.array(SUBTYPES)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, array, allow_pickle=False)
    return path


def load_lesion_masks(path: Path | str | IO[bytes]) -> np.ndarray:
    """Boolean masks (n_slices, rows, columns, 5) in `SUBTYPES` order from a mask file (a path
    or an open binary file)."""
    with np.load(path, allow_pickle=False) as stored:
        subtypes = tuple(str(s) for s in stored["subtypes"])
        return unpack_lesion_masks(stored["bits"], subtypes)

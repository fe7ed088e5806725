"""Preprocessing of head-CT slices for the CNN-RNN, as the study's paper does it.

Each slice in Hounsfield units becomes three channels, one per CT window, each scaled to 0-1:

    window 1: level 50 HU, width 100 HU   (blood against brain)
    window 2: level 50 HU, width 130 HU   (a wider brain window)
    window 3: level 150 HU, width 300 HU  (blood against bone: subdural and epidural)

then resized to the model's input size (480 x 480 in the paper). NumPy only: the training
workers and the edge agent window slices with this same code, so both sides see identical input.
"""

from collections.abc import Sequence

import numpy as np

from annotations.vocabulary import PAPER_WINDOWS

PAPER_IMAGE_SIZE = 480


def hounsfield(stored: np.ndarray, slope: float = 1.0, intercept: float = 0.0) -> np.ndarray:
    """Stored pixel values to HU (DICOM's modality LUT: value x slope + intercept)."""
    return stored.astype(np.float32) * np.float32(slope) + np.float32(intercept)


def window(hu: np.ndarray, level: float, width: float) -> np.ndarray:
    """HU mapped linearly from [level - width/2, level + width/2] onto [0, 1], clipped."""
    low = level - width / 2.0
    return np.clip((hu.astype(np.float32) - low) / np.float32(width), 0.0, 1.0)


def window_slices(
    hu: np.ndarray, windows: Sequence[tuple[float, float]] = PAPER_WINDOWS
) -> np.ndarray:
    """Slices (..., rows, columns) in HU to (..., rows, columns, len(windows)) in 0-1."""
    return np.stack([window(hu, level, width) for level, width in windows], axis=-1)


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (..., rows, columns, channels) to (..., size, size, channels).

    Pixel centres are aligned as in most imaging libraries (half-pixel offset), so a
    resize to the same size returns the input unchanged.
    """
    rows, columns = images.shape[-3], images.shape[-2]
    if (rows, columns) == (size, size):
        return images.astype(np.float32, copy=False)
    y0, y1, wy = _axis(rows, size)
    x0, x1, wx = _axis(columns, size)
    top = (
        images[..., y0, :, :] * (1 - wy)[:, None, None] + images[..., y1, :, :] * wy[:, None, None]
    )
    return (top[..., x0, :] * (1 - wx)[:, None] + top[..., x1, :] * wx[:, None]).astype(np.float32)


def _axis(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    centres = (np.arange(target, dtype=np.float32) + 0.5) * (source / target) - 0.5
    centres = np.clip(centres, 0, source - 1)
    low = np.floor(centres).astype(np.int64)
    high = np.minimum(low + 1, source - 1)
    return low, high, (centres - low).astype(np.float32)


def preprocess_slices(
    hu: np.ndarray,
    *,
    size: int = PAPER_IMAGE_SIZE,
    windows: Sequence[tuple[float, float]] = PAPER_WINDOWS,
) -> np.ndarray:
    """A scan's slices (slices, rows, columns) in HU to the model's (slices, size, size, 3)."""
    return resize(window_slices(hu, windows), size)


def resample_to_thickness(
    hu: np.ndarray, z_mm: np.ndarray, slice_labels: np.ndarray, target_mm: float = 5.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A thin-slice series (slices, rows, columns) resampled along z to slabs of `target_mm`.

    The paper trained on 5 mm slices; thinner series (median spacing < 0.8 x target) would give
    the RNN several times more, and different-looking, steps. Each target slab averages the source
    slices whose centres fall in it; its z is their mean position and its labels are the OR of
    theirs, so a bleed seen on one thin slice still marks the slab. Thicker or equal series, and
    series of one slice, come back unchanged. Slices must be sorted along z (either direction).
    """
    z = np.asarray(z_mm, dtype=np.float64)
    labels = np.asarray(slice_labels)
    if len(z) != len(hu) or len(labels) != len(hu):
        raise ValueError(
            f"hu, z_mm and slice_labels disagree on the number of slices: "
            f"{len(hu)}, {len(z)}, {len(labels)}"
        )
    if len(z) < 2:
        return hu, z, labels
    spacing = float(np.median(np.abs(np.diff(z))))
    if spacing >= 0.8 * target_mm:
        return hu, z, labels
    # each source slice occupies [z - spacing/2, z + spacing/2); slabs start at the first edge
    offset = np.abs(z - z[0]) + spacing / 2.0
    slab = np.floor(offset / target_mm).astype(np.int64)
    # slabs are contiguous runs of sorted slices; empty slabs (uneven gaps) simply do not occur
    starts = np.flatnonzero(np.r_[True, np.diff(slab) != 0])
    count = np.diff(np.r_[starts, len(z)]).astype(np.float32)
    out = np.add.reduceat(hu.astype(np.float32, copy=False), starts, axis=0)
    out /= count.reshape(-1, *([1] * (hu.ndim - 1)))
    z_out = np.add.reduceat(z, starts) / count
    labels_out = np.maximum.reduceat(labels, starts, axis=0)
    return out, z_out, labels_out

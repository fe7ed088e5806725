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

PAPER_WINDOWS: tuple[tuple[float, float], ...] = ((50.0, 100.0), (50.0, 130.0), (150.0, 300.0))
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

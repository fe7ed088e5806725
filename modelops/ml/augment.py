"""On-the-fly augmentation as in the paper: cropping, rotation, flipping, elastic deformation.

NumPy and scipy.ndimage on CPU batches, driven by a seeded np.random.Generator so a training run
is reproducible. Each image gets one geometric map (crop-and-resize, rotation, optional
horizontal flip, plus a smooth random displacement field) applied to all three window channels;
`augment_scan` applies one map to every slice of a scan, so the RNN still sees a coherent volume.
Areas mapped from outside the image are filled with 0, which is air in every window.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

CROP_SCALE = (0.85, 1.0)
MAX_ROTATION_DEG = 15.0
FLIP_PROBABILITY = 0.5
# elastic field: peak displacement and smoothness as fractions of the image side
ELASTIC_MAGNITUDE = 0.02
ELASTIC_SMOOTHNESS = 0.08


@dataclass(frozen=True)
class Transform:
    scale: float  # side of the crop as a fraction of the image
    shift: tuple[float, float]  # crop centre offset in pixels (rows, columns)
    angle: float  # radians
    flip: bool
    field: np.ndarray  # (2, h, w) displacement in pixels


def random_transform(rng: np.random.Generator, size: tuple[int, int]) -> Transform:
    """One random geometric map for images of `size` (rows, columns)."""
    rows, columns = size
    scale = float(rng.uniform(*CROP_SCALE))
    slack = (1.0 - scale) / 2.0
    shift = (
        float(rng.uniform(-slack, slack) * rows),
        float(rng.uniform(-slack, slack) * columns),
    )
    angle = float(np.deg2rad(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG)))
    flip = bool(rng.random() < FLIP_PROBABILITY)
    return Transform(scale, shift, angle, flip, _elastic_field(rng, rows, columns))


def _elastic_field(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    sigma = max(1.0, ELASTIC_SMOOTHNESS * min(rows, columns))
    field = ndimage.gaussian_filter(rng.uniform(-1, 1, (2, rows, columns)), (0, sigma, sigma))
    peak = np.abs(field).max()
    if peak > 0:  # normalise: the smoothing shrinks the noise by an amount that depends on sigma
        field *= ELASTIC_MAGNITUDE * min(rows, columns) / peak
    return field.astype(np.float32)


def _coordinates(transform: Transform, rows: int, columns: int) -> np.ndarray:
    """Source coordinates (2, rows, columns) of every output pixel."""
    cy, cx = (rows - 1) / 2.0, (columns - 1) / 2.0
    y, x = np.mgrid[:rows, :columns].astype(np.float32)
    y, x = y - cy, x - cx
    if transform.flip:
        x = -x
    cos, sin = np.cos(transform.angle), np.sin(transform.angle)
    source_y = transform.scale * (cos * y - sin * x) + cy + transform.shift[0]
    source_x = transform.scale * (sin * y + cos * x) + cx + transform.shift[1]
    return np.stack([source_y, source_x]) + transform.field


def apply_transform(images: np.ndarray, transform: Transform) -> np.ndarray:
    """One map applied to images (n, rows, columns, channels) -> same shape, float32."""
    n, rows, columns, channels = images.shape
    coordinates = _coordinates(transform, rows, columns)
    out = np.empty(images.shape, dtype=np.float32)
    for index in range(n):
        for channel in range(channels):
            ndimage.map_coordinates(
                images[index, :, :, channel],
                coordinates,
                output=out[index, :, :, channel],
                order=1,
                mode="constant",
                cval=0.0,
            )
    return out


def augment_batch(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Slices (batch, rows, columns, channels) in 0-1, each with its own random map."""
    size = images.shape[1:3]
    if len(images) == 0:
        return images.astype(np.float32)
    return np.concatenate(
        [
            apply_transform(images[i : i + 1], random_transform(rng, size))
            for i in range(len(images))
        ]
    )


def augment_scan(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A scan's slices (slices, rows, columns, channels), all under the same random map."""
    return apply_transform(images, random_transform(rng, images.shape[1:3]))

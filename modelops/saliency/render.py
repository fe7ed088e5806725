"""How a saliency map is stored and shown: the raw map as float16, the overlay as a PNG.

Both methods' overlays go through the same colour map and the same opacity, so a reader who
scores them cannot tell the method by its colours. The colour map runs from dark purple through
red to pale yellow (perceptually ordered, readable on grey CT); the overlay's alpha grows with
the map's value, so where the map is zero the slice shows through untouched.
"""

import io
from pathlib import Path

import numpy as np

# Anchor colours of the ramp (value 0, 0.25, 0.5, 0.75, 1), interpolated linearly.
_ANCHORS = np.array(
    [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float32
)
OVERLAY_OPACITY = 0.6  # alpha of the map's maximum; the page's opacity slider scales it


def colour_map(values: np.ndarray) -> np.ndarray:
    """Values in 0-1 (h, w) -> RGBA uint8 (h, w, 4)."""
    v = np.clip(np.nan_to_num(values.astype(np.float32)), 0.0, 1.0)
    position = v * (len(_ANCHORS) - 1)
    low = np.minimum(position.astype(np.int64), len(_ANCHORS) - 2)
    weight = (position - low)[..., None]
    rgb = _ANCHORS[low] * (1 - weight) + _ANCHORS[low + 1] * weight
    alpha = v * OVERLAY_OPACITY * 255.0
    return np.round(np.concatenate([rgb, alpha[..., None]], axis=-1)).astype(np.uint8)


def overlay_png(values: np.ndarray) -> bytes:
    """The map as a PNG overlay, with no metadata beyond what PNG requires."""
    from PIL import Image  # local: only the saliency job renders

    buffer = io.BytesIO()
    Image.fromarray(colour_map(values)).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def save_map(values: np.ndarray, directory: Path, token: str) -> None:
    """``<token>.npy`` (float16) and ``<token>.png`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    write_whole(directory / f"{token}.npy", npy_bytes(values))
    write_whole(directory / f"{token}.png", overlay_png(values))


def npy_bytes(values: np.ndarray) -> bytes:
    """The map(s) as a float16 ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, values.astype(np.float16))
    return buffer.getvalue()


def write_whole(path: Path, data: bytes) -> None:
    """Write ``path`` so that a reader finds the whole file or none (a dying worker leaves only
    a ``.partial``)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)

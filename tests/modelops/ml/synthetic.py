"""Synthetic head CTs small enough to train on in seconds.

A phantom slice is air around a bright skull ring around brain (30 HU); a bleed is a 70 HU blob,
central for IPH and against the skull for SDH, on a few consecutive slices of a positive scan.
"""

from pathlib import Path

import numpy as np

from modelops.ml.config import LABELS
from modelops.ml.snapshot_format import SnapshotWriter

IPH, SDH = LABELS.index("iph"), LABELS.index("sdh")


def phantom_scan(
    rng: np.random.Generator, *, slices: int, positive: bool, pixels: int = 24, mm: float = 5.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """hu (slices, pixels, pixels), z_mm, slice_labels (slices, 6), scan_labels (6,)."""
    yy, xx = np.mgrid[:pixels, :pixels].astype(np.float32)
    centre = (pixels - 1) / 2
    radius = np.hypot(yy - centre, xx - centre)
    head = np.where(radius < 0.45 * pixels, 30.0, -1000.0)
    head = np.where((radius >= 0.38 * pixels) & (radius < 0.45 * pixels), 1000.0, head)
    hu = np.repeat(head[None], slices, axis=0).astype(np.float32)
    hu += rng.normal(0, 4, hu.shape).astype(np.float32)
    labels = np.zeros((slices, len(LABELS)), np.uint8)
    if positive:
        kind = IPH if rng.random() < 0.5 else SDH
        first = int(rng.integers(0, max(1, slices - 2)))
        cy, cx = (centre, centre) if kind == IPH else (centre, 0.25 * pixels)
        blob = np.hypot(yy - cy, xx - cx) < 0.12 * pixels + 1
        for index in range(first, min(slices, first + 3)):
            hu[index][blob] = 70.0 + rng.normal(0, 2)
            labels[index, 0] = labels[index, kind] = 1
    z = np.arange(slices, dtype=np.float64) * mm
    return hu, z, labels, labels.max(axis=0)


def build_snapshot(
    directory: Path,
    *,
    counts: dict[str, int],
    image_size: int = 32,
    seed: int = 0,
    slices: tuple[int, int] = (4, 8),
) -> dict:
    """Every other scan positive, scan lengths drawn from `slices` (inclusive)."""
    rng = np.random.default_rng(seed)
    writer = SnapshotWriter(directory, image_size=image_size)
    scan_id = 0
    for split, n in counts.items():
        for index in range(n):
            count = int(rng.integers(slices[0], slices[1] + 1))
            hu, z, slice_labels, scan_labels = phantom_scan(
                rng, slices=count, positive=index % 2 == 0
            )
            writer.add_scan(
                split,
                scan_id=scan_id,
                series_instance_uid=f"1.2.3.{scan_id}",
                center=f"center-{scan_id % 2}",
                hu=hu,
                z_mm=z,
                slice_labels=slice_labels,
                scan_labels=scan_labels,
            )
            scan_id += 1
    return writer.close(extra={"seed": seed})

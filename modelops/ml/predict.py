"""Predictions of a trained scan model: on a snapshot split, or on one scan of raw HU.

Scans are predicted whole: the model's time axis is open, so a scan longer than the training
crop (`max_slices`) is not cut; it only goes through the model on its own rather than batched
with others, which bounds memory. Raw HU goes through exactly the snapshot's preprocessing
(resampling of thin series to 5 mm, windows, resize, 8-bit quantisation), so the edge agent sees
what training saw.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

import modelops.ml.model  # noqa: F401 - registers the custom layers before loading
from modelops.ml.config import LABELS
from modelops.ml.data import pad_steps, padded_length
from modelops.ml.preprocess import PAPER_WINDOWS, preprocess_slices, resample_to_thickness
from modelops.ml.snapshot_format import SnapshotSplit, quantise


@dataclass
class PredictionSet:
    scan_scores: np.ndarray  # (n_scans, 6) float32, columns in LABELS order
    slice_scores: list[np.ndarray]  # per scan (count, 6)
    scan_ids: list[int]


def load_model(path: Path) -> keras.Model:
    """A saved scan model, without its training configuration."""
    return keras.saving.load_model(Path(path), compile=False)


def predict_padded(model: keras.Model, scans: list[np.ndarray]) -> tuple[np.ndarray, list]:
    """Scan scores (scans, classes) and each scan's slice scores, the scans in one padded batch."""
    x, _ = pad_steps(scans, padded_length(max(len(s) for s in scans), None))
    out = model.predict_on_batch(x)
    slices = np.asarray(out["slice"], dtype=np.float32)
    return np.asarray(out["scan"], dtype=np.float32), [
        slices[row, : len(scan)] for row, scan in enumerate(scans)
    ]


def _batches(split: SnapshotSplit, max_slices: int, batch_scans: int) -> list[list[int]]:
    """Scans grouped in order; a scan longer than max_slices forms a batch of its own."""
    groups: list[list[int]] = []
    current: list[int] = []
    for i in range(len(split)):
        if int(split.scan_index[i, 1]) > max_slices:
            groups.append([i])
            continue
        current.append(i)
        if len(current) == batch_scans:
            groups.append(current)
            current = []
    return groups + ([current] if current else [])


def predict_split(
    model: keras.Model, split: SnapshotSplit, *, max_slices: int, batch_scans: int = 2
) -> PredictionSet:
    """Scores of every scan of a split, in the split's order."""
    scan_scores = np.zeros((len(split), len(LABELS)), dtype=np.float32)
    slice_scores: list[np.ndarray] = [np.empty((0, len(LABELS)), np.float32)] * len(split)
    for group in _batches(split, max_slices, batch_scans):
        scans, slices = predict_padded(model, [split.scan_images(i) for i in group])
        for row, i in enumerate(group):
            scan_scores[i] = scans[row]
            slice_scores[i] = slices[row]
    return PredictionSet(
        scan_scores=scan_scores,
        slice_scores=slice_scores,
        scan_ids=[int(scan["scan_id"]) for scan in split.scans],
    )


def prepare_scan(
    hu: np.ndarray,
    z_mm: np.ndarray,
    *,
    image_size: int,
    windows: Sequence[tuple[float, float]] = PAPER_WINDOWS,
    slice_mm: float = 5.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw HU (slices, rows, columns), inferior to superior -> model input (slices, size,
    size, 3) in 0-1 exactly as a snapshot stores it, and the slices' z positions."""
    dummy = np.zeros((len(hu), len(LABELS)), np.uint8)
    hu, z, _ = resample_to_thickness(hu, z_mm, dummy, slice_mm)
    images = quantise(preprocess_slices(hu, size=image_size, windows=windows))
    return images.astype(np.float32) / np.float32(255.0), np.asarray(z, dtype=np.float64)


def predict_scan(
    model: keras.Model,
    hu: np.ndarray,
    z_mm: np.ndarray,
    *,
    image_size: int,
    windows: Sequence[tuple[float, float]] = PAPER_WINDOWS,
    slice_mm: float = 5.0,
) -> dict:
    """One scan of raw HU -> {"labels", "scan": {label: score}, "slices": [[6 scores], ...],
    "z_mm": [...]} (slices after resampling, inferior to superior)."""
    images, z = prepare_scan(hu, z_mm, image_size=image_size, windows=windows, slice_mm=slice_mm)
    scans, slices = predict_padded(model, [images])
    return {
        "labels": list(LABELS),
        "scan": {label: float(score) for label, score in zip(LABELS, scans[0], strict=True)},
        "slices": slices[0].astype(float).tolist(),
        "z_mm": z.tolist(),
    }

"""A build's health check: its model, on this node's runtime, gives the scores the manifest
recorded for the build's own test scan.

The signature proves where a build came from; only running it proves this node computes what
the app computed (a broken runtime, a provider that rounds differently, a model the node's
onnxruntime reads another way). So a build serves only after its test scan, run here as a real
scan would be, lands within the manifest's tolerance of the recorded scan and slice scores.

The check trusts only files the manifest lists (and so were checksummed); the manifest itself
must have been verified first (``modelops.builds.manifest.verify_build``).
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ichlabel_edge.runtime import open_session, predict_scan
from modelops.builds.manifest import BuildRefused


@dataclass(frozen=True)
class HealthCheck:
    """A passed check: the largest score difference found, and what it took."""

    max_abs_diff: float
    tolerance: float
    slices: int
    inference_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_abs_diff": self.max_abs_diff,
            "tolerance": self.tolerance,
            "slices": self.slices,
            "inference_ms": round(self.inference_ms, 1),
        }


def health_check(directory: Path, manifest: dict[str, Any]) -> HealthCheck:
    """Runs the build in ``directory`` on its test scan; ``BuildRefused`` with the reason when
    it cannot run or its scores differ from the manifest's beyond the tolerance."""
    number = manifest.get("build")
    try:
        runtime, check = manifest["runtime"], manifest["health_check"]
        model_file, scan_file = runtime["file"], check["file"]
        tolerance = float(check["tolerance"])
        expected_scan = np.asarray(check["scan_scores"], np.float32)
        expected_slices = np.asarray(check["slice_scores"], np.float32)
        size = int(manifest["preprocessing"]["image_size"])
        channels = len(manifest["preprocessing"]["windows"])
    except (KeyError, TypeError, ValueError) as error:
        raise BuildRefused(
            f"build {number}: the manifest's health check is incomplete: {error!r}"
        ) from error
    if runtime.get("format") != "onnx":
        raise BuildRefused(f"build {number}: runtime {runtime.get('format')!r} is not onnx")
    for name in (model_file, scan_file):
        if name not in manifest["files"]:
            raise BuildRefused(f"build {number}: {name!r} is not among the manifest's files")

    images = _test_scan(directory / scan_file, size, channels, number)
    try:
        session = open_session(directory / model_file)
        started = time.perf_counter()
        scores = predict_scan(session, images)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
    except Exception as error:  # onnxruntime raises its own, unexported, error types
        raise BuildRefused(f"build {number}: the model does not run: {error}") from error

    if scores.scan.shape != expected_scan.shape or scores.slices.shape != expected_slices.shape:
        raise BuildRefused(
            f"build {number}: health check failed: the model gives scores of shape "
            f"{scores.scan.shape} and {scores.slices.shape}, the manifest "
            f"{expected_scan.shape} and {expected_slices.shape}"
        )
    diff = max(
        float(np.abs(scores.scan - expected_scan).max(initial=0.0)),
        float(np.abs(scores.slices - expected_slices).max(initial=0.0)),
    )
    if not diff <= tolerance:  # also refuses NaN
        raise BuildRefused(
            f"build {number}: health check failed: scores differ from the manifest's by "
            f"{diff:.2e} (tolerance {tolerance:.0e})"
        )
    return HealthCheck(
        max_abs_diff=diff, tolerance=tolerance, slices=len(images), inference_ms=elapsed_ms
    )


def _test_scan(path: Path, size: int, channels: int, number: Any) -> np.ndarray:
    """The test scan as the model takes it: uint8 (slices, size, size, channels) to 0-1."""
    try:
        scan = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise BuildRefused(f"build {number}: the test scan cannot be read: {error}") from error
    if scan.dtype != np.uint8 or scan.ndim != 4 or scan.shape[1:] != (size, size, channels):
        raise BuildRefused(
            f"build {number}: the test scan is {scan.dtype} {scan.shape}, not uint8 "
            f"(slices, {size}, {size}, {channels})"
        )
    return scan.astype(np.float32) / np.float32(255.0)

"""The build's ONNX model under onnxruntime: one session per model file, one scan per run.

The node runs what the app exported and checked against Keras (``modelops/builds/export.py``):
input ``images`` (scans, slices, size, size, 3) in 0-1, outputs ``scan`` (scans, classes) and
``slice`` (scans, slices, classes). A node reads one scan at a time, so nothing is padded: the
padded batches of the app's check have already been held to the unpadded result there.

Only the CPU provider for now; a TensorRT or CUDA provider on a Jetson comes with the runner and
must pass the same health check before it serves.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PROVIDERS = ["CPUExecutionProvider"]


@dataclass(frozen=True)
class ScanScores:
    scan: np.ndarray  # (classes,)
    slices: np.ndarray  # (slices, classes)


def open_session(model_file: Path) -> Any:
    """An onnxruntime session on ``model_file`` (imported here: ``status`` never needs it)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: a refused model is reported by our reason
    return onnxruntime.InferenceSession(str(model_file), options, providers=PROVIDERS)


def predict_scan(session: Any, images: np.ndarray) -> ScanScores:
    """Scores of one scan's images (slices, size, size, 3) in 0-1."""
    outputs = [output.name for output in session.get_outputs()]
    feed = {session.get_inputs()[0].name: np.asarray(images, np.float32)[None]}
    result = dict(zip(outputs, session.run(outputs, feed), strict=True))
    return ScanScores(
        scan=np.asarray(result["scan"], np.float32)[0],
        slices=np.asarray(result["slice"], np.float32)[0],
    )

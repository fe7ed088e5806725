"""The build's ONNX model under onnxruntime: one session per model file, one scan per run.

The node runs what the app exported and checked against Keras (``modelops/builds/export.py``):
input ``images`` (scans, slices, size, size, 3) in 0-1, outputs ``scan`` (scans, classes) and
``slice`` (scans, slices, classes). A node reads one scan at a time, so nothing is padded: the
padded batches of the app's check have already been held to the unpadded result there.

Execution providers: the best that this node's onnxruntime has, CPU last. On a node with
TensorRT (a Jetson's onnxruntime-gpu), the engine is built on the node from the ONNX file, as
engines are not portable, and cached beside the model in ``engines/``: one folder per build,
and onnxruntime names each engine after the GPU's compute capability, so a cached engine is
only taken up on the device kind that built it. The health check opens its session the same
way, so an engine is built, and checked against the manifest's scores, before the build
serves; the switch keeps the folder with the build.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
ENGINES = "engines"


def execution_providers(available: list[str], engine_cache: Path) -> list[Any]:
    """onnxruntime's providers for a session, best first, from those ``available``."""
    chosen: list[Any] = []
    if TENSORRT in available:
        options = {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(engine_cache)}
        chosen.append((TENSORRT, options))
    if CUDA in available:
        chosen.append(CUDA)
    return [*chosen, CPU]


@dataclass(frozen=True)
class ScanScores:
    scan: np.ndarray  # (classes,)
    slices: np.ndarray  # (slices, classes)


def open_session(model_file: Path) -> Any:
    """An onnxruntime session on ``model_file`` (imported here: ``status`` never needs it)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: a refused model is reported by our reason
    engines = Path(model_file).parent / ENGINES
    providers = execution_providers(onnxruntime.get_available_providers(), engines)
    if providers[0] != CPU:
        engines.mkdir(exist_ok=True)
    return onnxruntime.InferenceSession(str(model_file), options, providers=providers)


def predict_scan(session: Any, images: np.ndarray) -> ScanScores:
    """Scores of one scan's images (slices, size, size, 3) in 0-1."""
    outputs = [output.name for output in session.get_outputs()]
    feed = {session.get_inputs()[0].name: np.asarray(images, np.float32)[None]}
    result = dict(zip(outputs, session.run(outputs, feed), strict=True))
    return ScanScores(
        scan=np.asarray(result["scan"], np.float32)[0],
        slices=np.asarray(result["slice"], np.float32)[0],
    )

"""The scan model as ONNX, checked against Keras. Plain Python, Keras 3 and onnxruntime (no
Django).

Keras exports the model with tf2onnx (TensorFlow backend): one input ``images`` of shape
(scans, slices, size, size, 3), both dimensions free, and the outputs ``scan`` (scans, classes)
and ``slice`` (scans, slices, classes). The check runs the exported file with onnxruntime on the
CPU and Keras on the same inputs, scan by scan and as one padded batch of scans of different
lengths, so the bidirectional RNNs and the masking of padded slices are held to Keras's result.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from modelops.ml.data import pad_steps, padded_length
from modelops.ml.predict import predict_padded

# Largest difference of any score (probabilities) between Keras and onnxruntime that a build
# accepts: float32 arithmetic in a different order, far below any threshold's resolution.
TOLERANCE = 1e-4
OPSET = 17


@dataclass(frozen=True)
class ExportCheck:
    scans: int
    slices: int
    max_abs_diff: float
    tolerance: float = TOLERANCE

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def as_dict(self) -> dict:
        return {
            "scans": self.scans,
            "slices": self.slices,
            "max_abs_diff": self.max_abs_diff,
            "tolerance": self.tolerance,
            "batched_with_padding": self.scans > 1,
        }


def export_onnx(model: keras.Model, path: Path) -> None:
    """Write the model as ONNX at ``path``."""
    model.predict_on_batch(np.zeros((1, 2, *model.input_shape[2:]), np.float32))  # built
    model.export(str(path), format="onnx", verbose=False, opset_version=OPSET)


def onnx_session(path: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_predict(session, scans: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Scan scores (scans, classes) and each scan's slice scores, as ``predict`` gives them."""
    x, _ = pad_steps(list(scans), padded_length(max(len(s) for s in scans), None))
    names = [output.name for output in session.get_outputs()]
    out = dict(zip(names, session.run(names, {session.get_inputs()[0].name: x}), strict=True))
    slices = np.asarray(out["slice"], dtype=np.float32)
    return np.asarray(out["scan"], np.float32), [
        s[: len(scan)] for s, scan in zip(slices, scans, strict=True)
    ]


def check_export(model: keras.Model, path: Path, scans: Sequence[np.ndarray]) -> ExportCheck:
    """The largest score difference between Keras and the ONNX file over ``scans`` (each
    (slices, size, size, 3) in 0-1), each alone and all in one padded batch."""
    session = onnx_session(path)
    worst = 0.0
    batches = [[scan] for scan in scans] + ([list(scans)] if len(scans) > 1 else [])
    for batch in batches:
        keras_scan, keras_slices = predict_padded(model, batch)
        onnx_scan, onnx_slices = onnx_predict(session, batch)
        worst = max(worst, float(np.abs(keras_scan - onnx_scan).max()))
        for ours, theirs in zip(keras_slices, onnx_slices, strict=True):
            worst = max(worst, float(np.abs(ours - theirs).max()))
    return ExportCheck(scans=len(scans), slices=sum(len(s) for s in scans), max_abs_diff=worst)


# The scan model in its two parts, for the node's occlusion maps of key slices: a slice's
# features change when part of it is hidden, the sequence head turns every slice's features
# into scores. Inputs: images (slices, size, size, 3); features (scans, slices, F).


def export_parts(model: keras.Model, backbone_path: Path, head_path: Path) -> None:
    """Write the model's backbone and sequence head as ONNX files."""
    from modelops.ml.saliency import split_scan_model

    backbone, head = split_scan_model(model)
    size = backbone.input_shape[1]
    backbone.predict_on_batch(np.zeros((1, size, size, 3), np.float32))  # built
    head.predict_on_batch(np.zeros((1, 2, head.input_shape[-1]), np.float32))
    for part, path in ((backbone, backbone_path), (head, head_path)):
        part.export(str(path), format="onnx", verbose=False, opset_version=OPSET)


def check_parts(
    model: keras.Model, backbone_path: Path, head_path: Path, scans: Sequence[np.ndarray]
) -> float:
    """The largest difference between Keras's scores of whole scans and those of the two ONNX
    parts run one after the other, as the node runs them."""
    backbone, head = onnx_session(backbone_path), onnx_session(head_path)
    worst = 0.0
    for scan in scans:
        keras_scan, keras_slices = predict_padded(model, [scan])
        features = backbone.run(None, {backbone.get_inputs()[0].name: scan.astype(np.float32)})
        names = [output.name for output in head.get_outputs()]
        out = head.run(names, {head.get_inputs()[0].name: features[0][None]})
        scores = dict(zip(names, out, strict=True))
        worst = max(
            worst,
            float(np.abs(keras_scan - scores["scan"]).max()),
            float(np.abs(keras_slices[0] - scores["slice"][0]).max()),
        )
    return worst

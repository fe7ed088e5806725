"""Builds as ICHLabel makes them (``modelops/builds/services.py``), without its database: a
small Keras scan model exported to ONNX with the app's own export, a test scan windowed with the
app's preprocessing, the scores onnxruntime gives it, and a manifest signed with a test key."""

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelops.builds.manifest import (
    FORMAT,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    canonical_bytes,
    file_entry,
    key_id,
    sign,
)
from modelops.ml.config import LABELS
from modelops.ml.preprocess import PAPER_WINDOWS, preprocess_slices

IMAGE_SIZE = 32
BUILD_FILES = ("model.onnx", "test_scan.npy", "backbone.onnx", "head.onnx")
TOLERANCE = 1e-4


@dataclass(frozen=True)
class ModelFiles:
    model: Path
    backbone: Path
    head: Path
    test_scan: Path
    scan_scores: list[float]
    slice_scores: list[list[float]]


def make_model_files(directory: Path) -> ModelFiles:
    import keras

    from modelops.builds.export import export_onnx, export_parts, onnx_predict, onnx_session
    from modelops.ml.model import build_backbone, build_scan_model, build_sequence_head

    keras.utils.set_random_seed(0)
    model = build_scan_model(
        build_backbone("small", IMAGE_SIZE),
        build_sequence_head(256, rnn_units=8, attention_units=8),
    )
    export_onnx(model, directory / "model.onnx")
    export_parts(model, directory / "backbone.onnx", directory / "head.onnx")
    hu = np.random.default_rng(3).normal(40.0, 60.0, (6, 48, 48)).astype(np.float32)
    scan = np.round(preprocess_slices(hu, size=IMAGE_SIZE) * 255.0).astype(np.uint8)
    np.save(directory / "test_scan.npy", scan)
    scores, slices = onnx_predict(
        onnx_session(directory / "model.onnx"), [scan.astype(np.float32) / np.float32(255.0)]
    )
    return ModelFiles(
        model=directory / "model.onnx",
        backbone=directory / "backbone.onnx",
        head=directory / "head.onnx",
        test_scan=directory / "test_scan.npy",
        scan_scores=[round(float(v), 7) for v in scores[0]],
        slice_scores=[[round(float(v), 7) for v in row] for row in slices[0]],
    )


def write_build(
    directory: Path,
    files: ModelFiles,
    key: Ed25519PrivateKey,
    *,
    number: int,
    expires_at: datetime | None = None,
    scan_scores: list[float] | None = None,
    model_bytes: bytes | None = None,
    test_scan: np.ndarray | None = None,
) -> dict[str, Any]:
    """A build folder as a node downloads it; the options make the bad ones, signed all the
    same (what only the signature would catch is made by editing the folder afterwards)."""
    directory.mkdir(parents=True)
    if model_bytes is None:
        shutil.copyfile(files.model, directory / "model.onnx")
    else:
        (directory / "model.onnx").write_bytes(model_bytes)
    shutil.copyfile(files.backbone, directory / "backbone.onnx")
    shutil.copyfile(files.head, directory / "head.onnx")
    if test_scan is None:
        shutil.copyfile(files.test_scan, directory / "test_scan.npy")
    else:
        np.save(directory / "test_scan.npy", test_scan)
    now = datetime.now(UTC)
    manifest = {
        "format": FORMAT,
        "build": number,
        "created_at": now.isoformat(),
        "expires_at": (expires_at or now + timedelta(days=30)).isoformat(),
        "model": {"id": 1, "name": f"edge-test-{number}", "artifact_sha256": "0" * 64},
        "classes": list(LABELS),
        "preprocessing": {
            "image_size": IMAGE_SIZE,
            "windows": [list(w) for w in PAPER_WINDOWS],
            "slice_mm": 5.0,
            "pad_value": -1.0,
        },
        "thresholds": dict.fromkeys(LABELS, 0.5),
        "input": {
            "name": "images",
            "shape": [None, None, IMAGE_SIZE, IMAGE_SIZE, 3],
            "dtype": "float32",
        },
        "runtime": {"format": "onnx", "file": "model.onnx", "opset": 17, "check": {}},
        "saliency": {"method": "occlusion", "backbone": "backbone.onnx", "head": "head.onnx"},
        "health_check": {
            "file": "test_scan.npy",
            "scan_scores": files.scan_scores if scan_scores is None else scan_scores,
            "slice_scores": files.slice_scores,
            "tolerance": TOLERANCE,
        },
        "files": {n: file_entry(directory / n) for n in BUILD_FILES},
    }
    _sign(directory, manifest, key)
    return manifest


def resign(directory: Path, key: Ed25519PrivateKey, change: Callable[[dict], None]) -> None:
    """The build's manifest changed by ``change`` and signed again with ``key``."""
    manifest = json.loads((directory / MANIFEST_NAME).read_bytes())
    change(manifest)
    _sign(directory, manifest, key)


def _sign(directory: Path, manifest: dict[str, Any], key: Ed25519PrivateKey) -> None:
    manifest["key_id"] = key_id(key.public_key())
    (directory / MANIFEST_NAME).write_bytes(canonical_bytes(manifest))
    (directory / SIGNATURE_NAME).write_text(sign(manifest, key))


def tree(directory: Path) -> dict[str, str]:
    """Each file of a folder, by name, with its SHA-256: what "unchanged" is checked against."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }

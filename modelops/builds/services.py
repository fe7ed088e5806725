"""Builds: request one from an approved model version, make it on a ``train`` worker.

``model_build_request`` gives the build the next number (numbers only grow: a node refuses a
number at or below the one it runs) and queues it. The worker exports the model to ONNX, checks
onnxruntime's scores against Keras's on up to ``CHECK_SCANS`` scans of the snapshot (each alone
and all in one padded batch), keeps the first as the build's test scan with the scores the ONNX
file gives it (a node's health check), writes the manifest and signs it with the installation's
Ed25519 key. A build whose export differs from Keras beyond the tolerance fails and is not
signed. Files: ``selectors.build_dir``.
"""

import shutil
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from annotations.models import JobStatus
from ichlabel import jobs
from ichlabel.errors import Conflict, InvalidInput
from modelops.builds.manifest import FORMAT, MANIFEST_NAME, SIGNATURE_NAME, canonical_bytes
from modelops.builds.selectors import build_dir
from modelops.models import ModelBuild, ModelStatus, ModelVersion
from modelops.paths import data_path, snapshot_dir

CHECK_SCANS = 3
MAX_VALID_DAYS = 3650
MODEL_FILE = "model.onnx"
TEST_SCAN_FILE = "test_scan.npy"
# Every file of a build but its manifest and signature; the manifest names each with its sha256.
BACKBONE_FILE = "backbone.onnx"  # the model's two parts, for the node's occlusion maps
HEAD_FILE = "head.onnx"
BUILD_FILES = (MODEL_FILE, TEST_SCAN_FILE, BACKBONE_FILE, HEAD_FILE)


def model_build_request(
    *, model_version: ModelVersion, created_by, valid_days: int | None = None
) -> ModelBuild:
    """A new build of an approved model, queued; ``valid_days`` until it expires."""
    if model_version.status != ModelStatus.APPROVED:
        raise Conflict(
            f"{model_version.name} is {model_version.get_status_display().lower()}: only an "
            "approved model is built for the nodes."
        )
    days = settings.BUILD_VALID_DAYS if valid_days is None else valid_days
    if not 1 <= days <= MAX_VALID_DAYS:
        raise InvalidInput(f"valid_days must be 1 to {MAX_VALID_DAYS}.")
    for _ in range(5):  # two requests at once may draw the same number: the second draws again
        try:
            with transaction.atomic():
                top = ModelBuild.objects.aggregate(top=Max("number"))["top"] or 0
                build = ModelBuild.objects.create(
                    model_version=model_version,
                    number=top + 1,
                    expires_at=timezone.now() + timedelta(days=days),
                    created_by=created_by,
                )
            break
        except IntegrityError:
            continue
    else:
        raise Conflict("Could not number the build; try again.")
    jobs.enqueue(ModelBuild, build.pk)
    return build


def model_build_execute(*, build_id: int) -> ModelBuild | None:
    return jobs.run(ModelBuild, build_id, _execute)


def _execute(build: ModelBuild, lease: jobs.Lease) -> ModelBuild:
    from modelops.builds.export import (
        check_export,
        check_parts,
        export_onnx,
        export_parts,
        onnx_predict,
        onnx_session,
    )
    from modelops.ml.predict import load_model

    version = build.model_version
    directory = build_dir(build.number)
    shutil.rmtree(directory, ignore_errors=True)  # what a dead worker left
    directory.mkdir(parents=True)
    model = load_model(data_path(version.artifact))
    lease.progress(1, 4)
    export_onnx(model, directory / MODEL_FILE)
    lease.check("Canceled after the export.")
    lease.progress(2, 4)
    scans = _check_scans(version)
    check = check_export(model, directory / MODEL_FILE, scans)
    if not check.passed:
        return lease.fail(
            f"The ONNX export differs from Keras by {check.max_abs_diff:.2e} "
            f"(tolerance {check.tolerance:.0e}) on {check.scans} scans: not signed."
        )
    export_parts(model, directory / BACKBONE_FILE, directory / HEAD_FILE)
    parts = check_parts(model, directory / BACKBONE_FILE, directory / HEAD_FILE, scans)
    if parts > check.tolerance:
        return lease.fail(
            f"The ONNX backbone and head differ from Keras by {parts:.2e} (tolerance "
            f"{check.tolerance:.0e}): not signed."
        )
    lease.progress(3, 4)
    test_scan = np.round(scans[0] * 255.0).astype(np.uint8)
    np.save(directory / TEST_SCAN_FILE, test_scan)
    scan_scores, slice_scores = onnx_predict(
        onnx_session(directory / MODEL_FILE), [test_scan.astype(np.float32) / np.float32(255.0)]
    )
    checked = {**check.as_dict(), "parts_max_abs_diff": parts}
    manifest = _manifest(build, checked, scan_scores[0], slice_scores[0], directory)
    return _sign_and_finish(build, lease, manifest, directory)


def _check_scans(version: ModelVersion) -> list[np.ndarray]:
    """Up to ``CHECK_SCANS`` scans of the snapshot, the validation split's first."""
    from modelops.ml.snapshot_format import open_snapshot

    snapshot = open_snapshot(snapshot_dir(version.snapshot.key_sha256))
    scans: list[np.ndarray] = []
    for name in ("validation", "test", "train"):
        if name in snapshot.splits:
            split = snapshot.split(name)
            scans += [split.scan_images(i) for i in range(min(len(split), CHECK_SCANS))]
    if not scans:
        raise ValueError("the model's snapshot has no scans to check the export on")
    return scans[:CHECK_SCANS]


def _manifest(build, check: dict, scan_scores, slice_scores, directory) -> dict:
    from modelops.builds.export import OPSET, TOLERANCE
    from modelops.builds.manifest import file_entry
    from modelops.ml.config import LABELS
    from modelops.ml.model import PAD_VALUE

    version = build.model_version
    snapshot = version.snapshot
    truth = snapshot.ground_truth
    evaluation = version.evaluation or {}
    size = snapshot.image_size
    return {
        "format": FORMAT,
        "build": build.number,
        "created_at": timezone.now().isoformat(),
        "expires_at": build.expires_at.isoformat(),
        "model": {
            "id": version.pk,
            "name": version.name,
            "artifact_sha256": version.artifact_sha256,
        },
        "snapshot": {
            "id": snapshot.pk,
            "key_sha256": snapshot.key_sha256,
            "files_sha256": snapshot.files_sha256,
        },
        "ground_truth": {"id": truth.pk, "name": truth.name, "sha256": truth.content_sha256},
        "classes": list(LABELS),
        "preprocessing": {
            "image_size": size,
            "windows": [list(w) for w in snapshot.windows],
            "slice_mm": snapshot.slice_mm,
            "pad_value": PAD_VALUE,
        },
        "thresholds": {
            cls: entry.get("value") for cls, entry in (evaluation.get("thresholds") or {}).items()
        },
        "threshold_split": evaluation.get("threshold_split"),
        "input": {"name": "images", "shape": [None, None, size, size, 3], "dtype": "float32"},
        "runtime": {"format": "onnx", "file": MODEL_FILE, "opset": OPSET, "check": check},
        # Occlusion maps of the key slices on the node (ichlabel_edge.saliency).
        "saliency": {"method": "occlusion", "backbone": BACKBONE_FILE, "head": HEAD_FILE},
        "health_check": {
            "file": TEST_SCAN_FILE,
            "scan_scores": [round(float(v), 7) for v in scan_scores],
            "slice_scores": [[round(float(v), 7) for v in row] for row in slice_scores],
            "tolerance": TOLERANCE,
        },
        "files": {name: file_entry(directory / name) for name in BUILD_FILES},
    }


def _sign_and_finish(build, lease, manifest: dict, directory) -> ModelBuild:
    from modelops.builds.manifest import key_id, sign
    from modelops.builds.signing import signing_key

    key = signing_key()
    manifest["key_id"] = key_id(key.public_key())
    signature = sign(manifest, key)
    (directory / MANIFEST_NAME).write_bytes(canonical_bytes(manifest))
    (directory / SIGNATURE_NAME).write_text(signature)
    return lease.finish(
        JobStatus.SUCCEEDED,
        f"Build {build.number}: ONNX within {manifest['runtime']['check']['max_abs_diff']:.1e} "
        f"of Keras on {manifest['runtime']['check']['scans']} scans; signed.",
        progress=1.0,
        manifest=manifest,
        signature=signature,
        key_id=manifest["key_id"],
    )

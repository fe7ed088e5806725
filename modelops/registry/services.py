"""The model registry: evaluate a trained run, store its artifact, and manage its status."""

import hashlib
import shutil
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from ichlabel.errors import Conflict, InvalidInput
from modelops.disagreements.services import model_scan_scores_store
from modelops.models import ModelStatus, ModelVersion, TrainingRun
from modelops.paths import data_path, model_artifact_path, relative_to_data
from modelops.registry.evaluation import evaluation_report, headline_metrics

# Which status may follow which: a retired model stays retired.
TRANSITIONS = {
    ModelStatus.CANDIDATE: {ModelStatus.APPROVED, ModelStatus.RETIRED},
    ModelStatus.APPROVED: {ModelStatus.RETIRED},
    ModelStatus.RETIRED: set(),
}


def model_version_register(*, run: TrainingRun, model_path: Path) -> ModelVersion:
    """Evaluate the run's final model on every split of its snapshot and register it, with
    its score of every scan there (``ModelScanScore``, by split)."""
    from modelops.ml.config import TrainingConfig
    from modelops.ml.predict import load_model, predict_split
    from modelops.ml.snapshot_format import open_snapshot

    config = TrainingConfig.from_dict(run.config)
    snapshot = open_snapshot(data_path(run.snapshot.directory))
    model = load_model(model_path)
    splits = {}
    scored = {}
    for name in snapshot.splits:
        split = snapshot.split(name)
        predictions = predict_split(model, split, max_slices=config.max_slices)
        splits[name] = (split.scan_labels, predictions.scan_scores)
        scored[name] = (predictions.scan_ids, predictions.scan_scores)
    report = evaluation_report(
        splits,
        criterion=config.threshold_criterion,
        target_sensitivity=config.target_sensitivity,
        seed=config.seed,
    )
    # Unique and within the field's 100 characters; the file is named by the run's id, never
    # by anything a user typed.
    name = f"{run.name[:91]}-{str(run.pk)[:8]}"
    artifact = model_artifact_path(run.pk)
    artifact.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path, artifact)
    with transaction.atomic():
        version, _ = ModelVersion.objects.update_or_create(
            run=run,
            defaults={
                "name": name,
                "snapshot": run.snapshot,
                "artifact": relative_to_data(artifact),
                "artifact_sha256": file_sha256(artifact),
                "artifact_bytes": artifact.stat().st_size,
                "config": run.config,
                "metrics": headline_metrics(report),
                "evaluation": report,
            },
        )
        for split_name, (scan_ids, scores) in scored.items():
            model_scan_scores_store(
                model_version=version, split=split_name, scan_ids=scan_ids, scores=scores
            )
    return version


def model_version_set_status(*, version: ModelVersion, status: str, user) -> ModelVersion:
    """Approve or retire a version. Approving one retires no other: several may serve."""
    if status not in ModelStatus.values:
        raise InvalidInput(f"Unknown status {status!r}.", extra={"field": "status"})
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if status == locked.status:
            return locked
        if status not in TRANSITIONS[ModelStatus(locked.status)]:
            raise Conflict(f"A {locked.status} model cannot become {status}.")
        locked.status = status
        locked.status_changed_by = user
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_changed_by", "status_changed_at"])
    return locked


def model_version_verify(version: ModelVersion) -> bool:
    """Whether the stored artifact still has the checksum it was registered with."""
    path = data_path(version.artifact)
    return path.is_file() and file_sha256(path) == version.artifact_sha256


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

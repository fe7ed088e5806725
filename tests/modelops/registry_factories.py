"""Modelops rows straight in the database, for the page and browser tests: a frozen
ground-truth version (through the real freeze), a built snapshot, runs with curves, and model
versions whose evaluation report is computed from seeded random scores (no training)."""

import hashlib

import numpy as np
from django.conf import settings
from django.utils import timezone

from annotations.ground_truth.services import ground_truth_freeze
from annotations.models import JobStatus
from annotations.reading.services import read_assign
from modelops.metrics import HEMORRHAGE_CLASSES
from modelops.ml.preprocess import PAPER_WINDOWS
from modelops.models import DatasetSnapshot, ModelVersion, TrainingRun
from modelops.paths import model_artifact_path, relative_to_data
from modelops.registry.evaluation import evaluation_report, headline_metrics
from modelops.snapshots.services import snapshot_key
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role

# Prevalence of any ICH and each subtype in the seeded cohorts.
PREVALENCE = (0.45, 0.2, 0.15, 0.2, 0.2, 0.08)
SPLIT_SIZES = (("train", 240), ("validation", 160), ("test", 120))


def frozen_version(*, coordinator, readers, name: str = "gt-v1"):
    """A ground-truth version frozen from one validation scan read by three readers."""
    scan = make_scan(split="validation", slices=3)
    for reader in readers:
        label_and_complete(read_assign(scan=scan, reader=reader), {1: {"iph": True}})
    return ground_truth_freeze(name=name, created_by=coordinator)


def seeded_splits(seed: int = 0, separation: float = 1.6) -> dict:
    """Per split (labels, scores), (scans, 6) in HEMORRHAGE_CLASSES order: any = any subtype,
    scores a noisy function of the labels (a higher separation, a better model)."""
    rng = np.random.default_rng(seed)
    splits = {}
    for name, n in SPLIT_SIZES:
        labels = (rng.random((n, len(HEMORRHAGE_CLASSES))) < PREVALENCE).astype(int)
        labels[:, 0] = labels[:, 1:].max(axis=1)
        logits = separation * (2 * labels - 1) + rng.normal(0, 1, labels.shape)
        splits[name] = (labels, 1 / (1 + np.exp(-logits)))
    return splits


def seeded_report(seed: int = 0, separation: float = 1.6) -> dict:
    return evaluation_report(seeded_splits(seed, separation))


def make_snapshot(
    *, version, user, name: str = "gt-v1-128px", image_size: int = 128, status=JobStatus.SUCCEEDED
) -> DatasetSnapshot:
    done = status == JobStatus.SUCCEEDED
    return DatasetSnapshot.objects.create(
        ground_truth=version,
        name=name,
        image_size=image_size,
        slice_mm=5.0,
        windows=[list(w) for w in PAPER_WINDOWS],
        key_sha256=snapshot_key(version=version, image_size=image_size, slice_mm=5.0),
        status=status,
        message="train: 240 scans, 7200 slices; validation: 160 scans, 4800 slices" if done else "",
        scans_done=400 if done else 120,
        scans_total=400,
        manifest={
            "splits": {
                "train": {"scans": 240, "slices": 7200, "positive_scans": 108},
                "validation": {"scans": 160, "slices": 4800, "positive_scans": 70},
            }
        }
        if done
        else {},
        files_sha256=hashlib.sha256(b"files of " + name.encode()).hexdigest() if done else "",
        size_bytes=123_456_789 if done else 0,
        created_by=user,
        finished_at=timezone.now() if done else None,
    )


def curves(epochs: int = 3, steps: int = 5) -> tuple[list, list]:
    """A run's history and step losses: two stages, losses falling, AUROC rising."""
    history, step_losses = [], []
    for stage in ("cnn", "sequence"):
        for epoch in range(1, epochs + 1):
            for step in range(1, steps + 1):
                step_losses.append([stage, epoch, step, round(0.7 / (epoch + step / steps), 4)])
            history.append(
                {
                    "stage": stage,
                    "epoch": epoch,
                    "loss": round(0.6 / epoch, 4),
                    "val_loss": round(0.65 / epoch, 4),
                    "val_auroc_any": round(0.7 + 0.08 * epoch, 4),
                    "lr": 1e-3 * 0.96 ** (epoch - 1),
                }
            )
    return history, step_losses


def make_run(
    *, snapshot, user, name: str = "small-128px", status=JobStatus.SUCCEEDED, config=None
) -> TrainingRun:
    from modelops.ml.config import TrainingConfig

    history, step_losses = curves()
    now = timezone.now()
    return TrainingRun.objects.create(
        name=name,
        snapshot=snapshot,
        config=config or TrainingConfig(image_size=snapshot.image_size).as_dict(),
        status=status,
        message="Trained; registered." if status == JobStatus.SUCCEEDED else "",
        stage="sequence",
        epoch=3,
        epochs=3,
        step=5,
        steps=5,
        progress=1.0 if status == JobStatus.SUCCEEDED else 0.5,
        history=history,
        step_losses=step_losses,
        attempts=1,
        worker="train@test",
        created_by=user,
        started_at=now,
        finished_at=now if status == JobStatus.SUCCEEDED else None,
    )


def make_version(*, run, name: str, seed: int = 0, separation: float = 1.6) -> ModelVersion:
    report = seeded_report(seed, separation)
    artifact = model_artifact_path(name)
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(f"not really keras: {name}".encode())
    assert str(artifact).startswith(str(settings.DATA_DIR))
    return ModelVersion.objects.create(
        name=name,
        run=run,
        snapshot=run.snapshot,
        artifact=relative_to_data(artifact),
        artifact_sha256=hashlib.sha256(artifact.read_bytes()).hexdigest(),
        artifact_bytes=artifact.stat().st_size,
        config=run.config,
        metrics=headline_metrics(report),
        evaluation=report,
    )


def seed_registry() -> dict:
    """Users (coordinator, mlengineer, neuro1-3, passwords "pw-<name>"), a frozen version, a
    built snapshot and one still building, two succeeded runs with registered models whose
    configurations differ, and a queued run."""
    coordinator = user_with_role("coordinator", "coordinator")
    engineer = user_with_role("mlengineer", "ml_engineer")
    readers = [user_with_role(f"neuro{n}", "neuroradiologist") for n in (1, 2, 3)]
    version = frozen_version(coordinator=coordinator, readers=readers)
    snapshot = make_snapshot(version=version, user=engineer)
    building = make_snapshot(
        version=version, user=engineer, name="gt-v1-256px", image_size=256, status="running"
    )
    run_a = make_run(snapshot=snapshot, user=engineer, name="baseline")
    run_b = make_run(
        snapshot=snapshot,
        user=engineer,
        name="wider",
        config={**run_a.config, "rnn_units": 128, "augment": False},
    )
    pending = make_run(snapshot=snapshot, user=engineer, name="queued", status=JobStatus.PENDING)
    return {
        "coordinator": coordinator,
        "engineer": engineer,
        "reader": readers[0],
        "version": version,
        "snapshot": snapshot,
        "building": building,
        "runs": (run_a, run_b, pending),
        "models": (
            make_version(run=run_a, name="baseline-1", seed=1),
            make_version(run=run_b, name="wider-1", seed=2, separation=2.2),
        ),
    }

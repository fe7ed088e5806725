"""Training runs: start, execute on a ``train`` worker, cancel.

A run is a job of ``ichlabel.jobs``, its resumable kind: claimed by a worker with a fresh lease
(an atomic UPDATE), so a task delivered twice never trains twice. While it trains, the lease's
heartbeat thread stamps the run every few seconds, also inside a long step; the training loop
reports at most once a second. A run whose heartbeats stop (the worker was killed or its
machine lost) is put back in the queue by the jobs recovery and resumes from its last epoch
checkpoint; after ``JOBS_MAX_ATTEMPTS`` tries it fails, so no run stays "running" with nobody
training it.
"""

import logging
import math
from contextlib import contextmanager

from annotations.models import JobStatus
from ichlabel import jobs
from ichlabel.errors import Conflict, InvalidInput, NotFound
from modelops.ml.config import ConfigError, TrainingConfig
from modelops.models import DatasetSnapshot, ModelStatus, ModelVersion, TrainingRun
from modelops.paths import data_path, run_dir

logger = logging.getLogger(__name__)


# Step losses kept for the run's curve: enough for a smooth plot, small enough for one row.
MAX_STEP_POINTS = 2000


def training_run_start(
    *,
    snapshot_id: int,
    config: dict,
    name: str = "",
    initial_model_id: int | None = None,
    created_by,
) -> TrainingRun:
    """Validate the configuration, record the run and queue it on the ``train`` queue."""
    snapshot = DatasetSnapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound(f"Snapshot {snapshot_id} does not exist.")
    if snapshot.status != JobStatus.SUCCEEDED:
        raise Conflict(f"Snapshot {snapshot.name} is {snapshot.status}, not built.")
    for split in ("train", "validation"):
        if split not in snapshot.manifest.get("splits", {}):
            raise InvalidInput(
                f"Snapshot {snapshot.name} has no {split} scans: training needs both."
            )
    scan_level = set(snapshot.manifest.get("scan_level_splits", [])) & {"train", "validation"}
    if scan_level:
        raise InvalidInput(
            f"Snapshot {snapshot.name} has scans read at scan level in its "
            f"{' and '.join(sorted(scan_level))} split: they have no slice labels to train on. "
            "Move those scans to the test split, or read them slice by slice."
        )
    try:
        validated = TrainingConfig.from_dict(config)
    except ConfigError as error:
        raise InvalidInput(str(error), extra={"field": "config"}) from error
    if validated.image_size != snapshot.image_size:
        raise InvalidInput(
            f"image_size {validated.image_size} differs from the snapshot's "
            f"{snapshot.image_size} px.",
            extra={"field": "config"},
        )
    initial_model = _initial_model(initial_model_id, validated)
    default_name = f"{validated.backbone}-{snapshot.image_size}px"
    if initial_model is not None:
        default_name = f"{initial_model.name[:80]}-finetune"
    run = TrainingRun.objects.create(
        name=name.strip() or default_name,
        snapshot=snapshot,
        config=validated.as_dict(),
        initial_model=initial_model,
        created_by=created_by,
    )
    jobs.enqueue(TrainingRun, run.pk)
    return run


# What a model's weights depend on: a fine-tuning run must match its starting model in these.
ARCHITECTURE_FIELDS = ("backbone", "image_size", "rnn", "rnn_units", "attention_units")


def _initial_model(version_id: int | None, config: TrainingConfig) -> ModelVersion | None:
    """The model a fine-tuning run starts from, checked against the run's configuration."""
    if version_id is None:
        return None
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"Model version {version_id} does not exist.")
    if version.status == ModelStatus.RETIRED:
        raise InvalidInput(f"Model {version.name} is retired.", extra={"field": "initial_model"})
    if config.mode != "end_to_end":
        raise InvalidInput(
            "Fine-tuning from a model trains end to end: set mode to end_to_end.",
            extra={"field": "config"},
        )
    differs = [f for f in ARCHITECTURE_FIELDS if version.config.get(f) != getattr(config, f)]
    if differs:
        raise InvalidInput(
            f"{', '.join(differs)} must match model {version.name} "
            f"({', '.join(f'{f}={version.config.get(f)}' for f in differs)}).",
            extra={"field": "config"},
        )
    return version


def training_run_cancel(*, run: TrainingRun) -> TrainingRun:
    """A queued run is canceled at once; a running one stops after its current step."""
    return jobs.cancel(run, running_message="Cancel requested; stopping after the current step.")


def training_run_execute(*, run_id: str) -> TrainingRun | None:
    """The worker's side (through ``ichlabel.jobs.run``). Returns None when another worker
    holds the run or it is finished."""
    return jobs.run(TrainingRun, run_id, _execute)


def _execute(run: TrainingRun, lease: jobs.Lease) -> TrainingRun:
    run = TrainingRun.objects.select_related("snapshot", "initial_model").get(pk=run.pk)
    reporter = RunReporter(run, lease)
    directory = run_dir(run.pk)
    with _run_log(directory):
        logger.info("run %s: attempt %d on %s", run.pk, run.attempts, run.worker)
        return _train_and_register(run, reporter, directory)


def _train_and_register(run: TrainingRun, reporter: "RunReporter", directory) -> TrainingRun:
    from modelops.ml.train import TrainingCancelled, train
    from modelops.registry.services import model_version_register

    try:
        result = train(
            TrainingConfig.from_dict(run.config),
            data_path(run.snapshot.directory),
            directory,
            reporter,
            initial_model=_initial_model_path(run),
        )
        if reporter.should_stop():
            raise TrainingCancelled("cancel requested after the last epoch")
        # The checkpoints' history is the whole truth, also for an epoch whose report was lost
        # when a worker died between its checkpoint and its report.
        reporter.write(
            stage="evaluate",
            message="Evaluating on every split of the snapshot.",
            history=[{k: _number(v) for k, v in entry.items()} for entry in result.history],
        )
        if reporter.lost:
            raise TrainingCancelled("taken over by another worker before evaluation")
        version = model_version_register(run=run, model_path=result.model_path)
    except TrainingCancelled as stop:
        if reporter.lost:
            raise jobs.JobLost(f"run {run.pk}: taken over by another worker") from stop
        raise jobs.JobCanceled("Canceled; the last checkpoint is kept.") from stop
    except Exception:
        logger.exception("run %s failed", run.pk)  # into the run's log; the jobs framework
        raise  # records the reason on the run (or tries again after a retriable error)
    resumed = f" (resumed after {result.resumed_from} epochs)" if result.resumed_from else ""
    # A cancel that came while the model was being evaluated is too late: the run succeeds.
    return reporter.lease.finish(
        JobStatus.SUCCEEDED, f"Trained{resumed}; registered as {version.name}."
    )


def _initial_model_path(run: TrainingRun):
    """The starting model's artifact, refused if it no longer has its registered checksum."""
    if run.initial_model is None:
        return None
    from modelops.registry.services import model_version_verify

    if not model_version_verify(run.initial_model):
        raise ValueError(f"the artifact of {run.initial_model.name} is missing or altered")
    return data_path(run.initial_model.artifact)


@contextmanager
def _run_log(directory):
    """Everything modelops logs while the run trains also goes to the run's own log file."""
    directory.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(directory / "train.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("modelops")
    previous = root.level
    root.addHandler(handler)
    root.setLevel(min(previous or logging.INFO, logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()


class RunReporter:
    """The training loop's window on the database: throttled progress, the heartbeat, and the
    cancel flag (or a run taken over by another worker) read back as ``should_stop``.

    Epochs are numbered from 1: ``step`` reports a step of epoch ``epoch`` (in progress),
    ``epoch_end`` the end of it."""

    def __init__(self, run: TrainingRun, lease: jobs.Lease | None = None) -> None:
        self.run_id = run.pk
        self.lease = lease or jobs.Lease(run)
        self.config = run.config
        # A resumed run keeps the curve of its finished epochs; the steps of the epoch the last
        # worker died in are trained again and drawn once.
        finished = {(entry["stage"], entry["epoch"]) for entry in run.history}
        self.step_points: list = [p for p in run.step_losses if (p[0], p[1]) in finished]

    @property
    def lost(self) -> bool:
        return self.lease.lost

    def write(self, **fields) -> None:
        """Update the run if this worker still holds it; read the cancel flag back."""
        self.lease.write(**fields)

    def step(self, *, stage: str, epoch: int, step: int, steps: int, logs: dict) -> None:
        self.lease.touch()
        # The training loop reports at most once a second (and each epoch's first and last
        # step), so every report is written.
        if "loss" in logs and (loss := _number(logs["loss"])) is not None:
            self.step_points.append([stage, epoch, step, loss])
        self._thin_points()
        self.write(
            stage=stage,
            epoch=epoch,
            epochs=self._stage_epochs(stage),
            step=step,
            steps=steps,
            progress=self._progress(stage, epoch - 1 + step / max(steps, 1)),
            step_losses=self.step_points,
        )

    def epoch_end(self, *, stage: str, epoch: int, epochs: int, logs: dict) -> None:
        entry = {"stage": stage, "epoch": epoch, **{k: _number(v) for k, v in logs.items()}}
        figures = ", ".join(
            f"{k} {v:.4g}"
            for k, v in entry.items()
            if k not in ("stage", "epoch") and _is_number(v)
        )
        logger.info("run %s: %s epoch %d/%d done: %s", self.run_id, stage, epoch, epochs, figures)
        history = [
            h
            for h in TrainingRun.objects.get(pk=self.run_id).history
            if (h["stage"], h["epoch"]) != (stage, epoch)
        ]
        self.write(
            stage=stage,
            epoch=epoch,
            epochs=epochs,
            progress=self._progress(stage, epoch),
            history=[*history, entry],
        )

    def should_stop(self) -> bool:
        return self.lease.should_stop()

    def _stage_epochs(self, stage: str) -> int:
        return self.config.get("cnn_epochs", 0) if stage == "cnn" else self.config.get("epochs", 1)

    def _progress(self, stage: str, epochs_done: float) -> float:
        """Share of all epochs done: stage-one epochs first, then the sequence (or end-to-end)
        epochs."""
        cnn = self.config.get("cnn_epochs", 0) if self.config.get("mode") == "two_stage" else 0
        total = cnn + self.config.get("epochs", 1)
        done = epochs_done if stage == "cnn" else cnn + epochs_done
        return max(0.0, min(1.0, done / max(total, 1)))

    def _thin_points(self) -> None:
        if len(self.step_points) > MAX_STEP_POINTS:
            self.step_points = self.step_points[::2]


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value):
    """A JSON-safe figure: rounded, and None for NaN or infinity (a diverging loss), which
    PostgreSQL's jsonb refuses."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return round(number, 6) if math.isfinite(number) else None

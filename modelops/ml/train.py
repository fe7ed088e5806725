"""Training of the CNN-RNN with attention on a snapshot, resumable epoch by epoch.

Two modes (TrainingConfig.mode):

- two_stage: stage "cnn" trains backbone + six sigmoids on single slices; the backbone's features
  of every slice of every split are then cached in run_dir/embeddings/<split>.npy; stage
  "sequence" trains the RNN-attention head on those features, scan by scan.
- end_to_end: stage "end_to_end" trains backbone and head together on image sequences.

Both save the end-to-end scan model to run_dir/model.keras, so prediction is the same for both.
Loss: binary cross-entropy per class (slice loss over real slices only, plus scan loss in the
sequence stages); optimiser Adam with learning_rate x lr_decay ** epoch, as in the paper.

After every epoch the model (with its optimiser state) is checkpointed to run_dir/checkpoints/
and state.json records the stage, epochs done and history; calling train() again with the same
run_dir resumes there. Randomness is a function of (seed, stage, epoch) and models are seeded
per stage, so a resumed run ends where an uninterrupted one would.
"""

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import keras
import numpy as np

from modelops.metrics import auroc_point
from modelops.ml.config import TrainingConfig
from modelops.ml.data import (
    Batch,
    n_batches,
    prefetch,
    scan_feature_batches,
    scan_image_batches,
    slice_batches,
)
from modelops.ml.model import (
    build_backbone,
    build_scan_model,
    build_sequence_head,
    build_slice_classifier,
)
from modelops.ml.snapshot_format import Snapshot, SnapshotSplit, open_snapshot

STAGES = {"two_stage": ("cnn", "sequence"), "end_to_end": ("end_to_end",)}
# Seeds derive from a stage's place here: never reorder.
STAGE_ORDER = ("cnn", "sequence", "end_to_end")
REPORT_INTERVAL_S = 1.0
_EPS = 1e-7


class TrainingReporter(Protocol):
    def step(
        self, *, stage: str, epoch: int, step: int, steps: int, logs: dict[str, float]
    ) -> None: ...

    def epoch_end(self, *, stage: str, epoch: int, epochs: int, logs: dict[str, float]) -> None: ...

    def should_stop(self) -> bool: ...


class NullReporter:
    """A reporter that reports nothing and never stops."""

    def step(self, **_: Any) -> None:
        pass

    def epoch_end(self, **_: Any) -> None:
        pass

    def should_stop(self) -> bool:
        return False


class TrainingCancelled(Exception):
    """The reporter asked to stop; the last finished epoch's checkpoint remains."""


@dataclass
class TrainingResult:
    stages: list[str]
    history: list[dict[str, Any]]
    model_path: Path
    resumed_from: int | None = None  # epochs already done (all stages) when this call resumed
    resumed_stage: str | None = None
    embeddings: dict[str, Path] = field(default_factory=dict)


def train(
    config: TrainingConfig,
    snapshot_dir: Path,
    run_dir: Path,
    reporter: TrainingReporter | None = None,
    *,
    initial_model: Path | None = None,
) -> TrainingResult:
    """Train on `snapshot_dir`'s train split, validating on its validation split each epoch.

    `initial_model` (a saved scan model of the same architecture, end_to_end mode only) starts
    the run from that model's weights: end-to-end fine-tuning of a two-stage model.

    Raises TrainingCancelled when the reporter asks to stop, ValueError when `run_dir` holds a
    run of another configuration or snapshot, when the snapshot lacks a train split, or when
    `initial_model` does not fit the configuration.
    """
    if initial_model is not None and config.mode != "end_to_end":
        raise ValueError("fine-tuning from a model needs mode 'end_to_end'")
    snapshot = open_snapshot(snapshot_dir)
    run = _Run(config, snapshot, Path(run_dir), reporter or NullReporter(), initial_model)
    return run.execute()


def seed_everything(seed: int) -> None:
    """Python, NumPy and backend seeds; deterministic kernels on TensorFlow."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # only on this backend: JAX workers must not import it

        tf.config.experimental.enable_op_determinism()


def _bce(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), _EPS, 1 - _EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=-1)


def _compile(model: keras.Model, config: TrainingConfig, *, sequence: bool) -> None:
    bce = keras.losses.BinaryCrossentropy
    # padded steps carry weight 0; the slice loss is the mean over real slices only
    sequence_loss = {"slice": bce(reduction="mean_with_sample_weight"), "scan": bce()}
    loss = sequence_loss if sequence else bce()
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=loss)


class _ThrottledReporter:
    def __init__(self, reporter: TrainingReporter) -> None:
        self.reporter = reporter
        self.last = -math.inf

    def step(self, *, stage: str, epoch: int, step: int, steps: int, logs: dict) -> None:
        now = time.monotonic()
        if step in (1, steps) or now - self.last >= REPORT_INTERVAL_S:
            self.last = now
            self.reporter.step(stage=stage, epoch=epoch, step=step, steps=steps, logs=logs)


class _Run:
    def __init__(
        self,
        config: TrainingConfig,
        snapshot: Snapshot,
        run_dir: Path,
        reporter: TrainingReporter,
        initial_model: Path | None = None,
    ) -> None:
        if "train" not in snapshot.splits:
            raise ValueError(f"snapshot {snapshot.directory} has no train split")
        if snapshot.image_size != config.image_size:
            raise ValueError(
                f"snapshot image_size {snapshot.image_size} differs from the configuration's "
                f"{config.image_size}"
            )
        self.config = config
        self.snapshot = snapshot
        self.run_dir = run_dir
        self.reporter = reporter
        self.throttle = _ThrottledReporter(reporter)
        self.checkpoints = run_dir / "checkpoints"
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        self.state = self._load_state()
        self.initial_model = initial_model
        self.tensorboard = _TensorBoard(run_dir / "tensorboard")

    # -- state ------------------------------------------------------------------------------

    def _fingerprint(self) -> str:
        manifest = (self.snapshot.directory / "manifest.json").read_bytes()
        return hashlib.sha256(manifest).hexdigest()

    def _load_state(self) -> dict[str, Any]:
        path = self.checkpoints / "state.json"
        fresh = {
            "config": self.config.as_dict(),
            "snapshot": self._fingerprint(),
            "done": {},
            "checkpoints": {},
            "history": [],
            "embeddings": False,
        }
        if not path.exists():
            return fresh
        state = json.loads(path.read_text())
        if state["config"] != fresh["config"]:
            raise ValueError(f"{self.run_dir} holds a run with another configuration")
        if state["snapshot"] != fresh["snapshot"]:
            raise ValueError(f"{self.run_dir} holds a run on another snapshot")
        return state

    def _save_state(self) -> None:
        _atomic_text(self.checkpoints / "state.json", json.dumps(self.state, indent=2))
        lines = "".join(json.dumps(entry) + "\n" for entry in self.state["history"])
        _atomic_text(self.run_dir / "history.jsonl", lines)

    # -- the run ----------------------------------------------------------------------------

    def execute(self) -> TrainingResult:
        seed_everything(self.config.seed)
        history = self.state["history"]
        resumed_from = len(history) if history else None
        resumed_stage = history[-1]["stage"] if history else None
        model = self._two_stage() if self.config.mode == "two_stage" else self._end_to_end()
        model_path = self.run_dir / "model.keras"
        _atomic_save(model, model_path)
        self.tensorboard.close()
        return TrainingResult(
            stages=list(STAGES[self.config.mode]),
            history=list(self.state["history"]),
            model_path=model_path,
            resumed_from=resumed_from,
            resumed_stage=resumed_stage,
            embeddings=self._embedding_paths() if self.config.mode == "two_stage" else {},
        )

    def _two_stage(self) -> keras.Model:
        config = self.config
        classifier = self._resume_or_build("cnn", self._new_classifier)
        train = self.snapshot.split("train")
        classifier = self._fit(
            "cnn",
            classifier,
            epochs=config.cnn_epochs,
            steps=n_batches(train.n_slices, config.batch_size),
            batches=lambda rng: slice_batches(
                train, batch_size=config.batch_size, rng=rng, augment=config.augment
            ),
            validate=self._validate_slices,
        )
        backbone = classifier.layers[1]
        features = self._embeddings(backbone)
        head = self._resume_or_build("sequence", lambda: self._new_head(backbone))
        head = self._fit(
            "sequence",
            head,
            epochs=config.epochs,
            steps=n_batches(len(train), config.scans_per_batch),
            batches=lambda rng: scan_feature_batches(
                train,
                features["train"],
                scans_per_batch=config.scans_per_batch,
                max_slices=config.max_slices,
                rng=rng,
            ),
            validate=lambda model: self._validate_scans(
                model,
                lambda split: scan_feature_batches(
                    split,
                    features[split.name],
                    scans_per_batch=config.scans_per_batch,
                    max_slices=config.max_slices,
                ),
            ),
        )
        return build_scan_model(backbone, head, config.max_slices, config.image_size)

    def _end_to_end(self) -> keras.Model:
        config = self.config
        train = self.snapshot.split("train")

        def image_batches(split: SnapshotSplit, rng=None, augment=False) -> Iterator[Batch]:
            return scan_image_batches(
                split,
                scans_per_batch=config.scans_per_batch,
                max_slices=config.max_slices,
                rng=rng,
                augment=augment,
            )

        model = self._resume_or_build("end_to_end", self._new_scan_model)
        return self._fit(
            "end_to_end",
            model,
            epochs=config.epochs,
            steps=n_batches(len(train), config.scans_per_batch),
            batches=lambda rng: image_batches(train, rng, config.augment),
            validate=lambda model: self._validate_scans(model, image_batches),
        )

    # -- models -----------------------------------------------------------------------------

    def _stage_seed(self, stage: str) -> None:
        """Seed before building a stage's model, so its initial weights do not depend on
        whether earlier stages were trained in this process or loaded from checkpoints."""
        keras.utils.set_random_seed(self.config.seed * 1000 + STAGE_ORDER.index(stage))

    def _new_classifier(self) -> keras.Model:
        self._stage_seed("cnn")
        model = build_slice_classifier(build_backbone(self.config.backbone, self.config.image_size))
        _compile(model, self.config, sequence=False)
        return model

    def _head(self, backbone: keras.Model) -> keras.Model:
        config = self.config
        return build_sequence_head(
            backbone.output_shape[-1],
            rnn=config.rnn,
            rnn_units=config.rnn_units,
            attention_units=config.attention_units,
        )

    def _new_head(self, backbone: keras.Model) -> keras.Model:
        self._stage_seed("sequence")
        head = self._head(backbone)
        _compile(head, self.config, sequence=True)
        return head

    def _new_scan_model(self) -> keras.Model:
        self._stage_seed("end_to_end")
        config = self.config
        backbone = build_backbone(config.backbone, config.image_size)
        model = build_scan_model(
            backbone, self._head(backbone), config.max_slices, config.image_size
        )
        if self.initial_model is not None:
            _load_weights(model, Path(self.initial_model))
        _compile(model, config, sequence=True)
        return model

    def _resume_or_build(self, stage: str, build: Callable[[], keras.Model]) -> keras.Model:
        name = self.state["checkpoints"].get(stage)
        if name is None:
            return build()
        return keras.saving.load_model(self.checkpoints / name)

    # -- the epoch loop ---------------------------------------------------------------------

    def _fit(
        self,
        stage: str,
        model: keras.Model,
        *,
        epochs: int,
        steps: int,
        batches: Callable[[np.random.Generator], Iterator],
        validate: Callable[[keras.Model], dict[str, float | None]],
    ) -> keras.Model:
        stage_index = STAGE_ORDER.index(stage)
        for epoch in range(self.state["done"].get(stage, 0), epochs):
            lr = self.config.learning_rate * self.config.lr_decay**epoch
            model.optimizer.learning_rate = lr
            rng = np.random.default_rng([self.config.seed, stage_index, epoch])
            started = time.monotonic()
            with closing(prefetch(batches(rng))) as stream:
                loss = self._train_epoch(stage, model, epoch + 1, steps, stream, lr)
            entry = {
                "stage": stage,
                "epoch": epoch + 1,
                "loss": loss,
                **validate(model),
                "lr": lr,
                "seconds": round(time.monotonic() - started, 3),
            }
            self._checkpoint(stage, model, epoch + 1, entry)
            self.reporter.epoch_end(stage=stage, epoch=epoch + 1, epochs=epochs, logs=entry)
        return model

    def _train_epoch(
        self, stage: str, model: keras.Model, epoch: int, steps: int, batches: Iterator, lr: float
    ) -> float:
        total, seen = 0.0, 0
        for step, batch in enumerate(batches, 1):
            x, y = batch[0], batch[1]
            sample_weight = batch[2] if len(batch) > 2 else None
            logs = model.train_on_batch(x, y, sample_weight=sample_weight, return_dict=True)
            total += float(logs["loss"]) * len(x)
            seen += len(x)
            self.throttle.step(
                stage=stage,
                epoch=epoch,
                step=step,
                steps=steps,
                logs={"loss": total / seen, "lr": lr},
            )
            if self.reporter.should_stop():
                raise TrainingCancelled(f"cancelled in {stage} epoch {epoch}, step {step}")
        return total / max(seen, 1)

    def _checkpoint(self, stage: str, model: keras.Model, epoch: int, entry: dict) -> None:
        name = f"{stage}-{epoch:03d}.keras"
        _atomic_save(model, self.checkpoints / name)
        previous = self.state["checkpoints"].get(stage)
        self.state["checkpoints"][stage] = name
        self.state["done"][stage] = epoch
        self.state["history"].append(entry)
        self._save_state()
        # the old file goes only once state.json points at the new one
        if previous and previous != name:
            (self.checkpoints / previous).unlink(missing_ok=True)
        self.tensorboard.write(stage, len(self.state["history"]), entry)

    # -- validation -------------------------------------------------------------------------

    def _validation(self) -> SnapshotSplit | None:
        return self.snapshot.split("validation") if "validation" in self.snapshot.splits else None

    def _validate_slices(self, model: keras.Model) -> dict[str, float | None]:
        split = self._validation()
        if split is None:
            return {"val_loss": None, "val_auroc_any": None}
        losses, any_scores = [], []
        for images, labels in slice_batches(split, batch_size=self.config.batch_size * 2):
            scores = np.asarray(model.predict_on_batch(images))
            losses.append(_bce(labels, scores))
            any_scores.append(scores[:, 0])
        slice_any = np.concatenate(any_scores)
        scan_any = [slice_any[split.scan_slices(i)].max() for i in range(len(split))]
        return {
            "val_loss": float(np.concatenate(losses).mean()),
            "val_auroc_any": auroc_point(split.scan_labels[:, 0], np.array(scan_any)),
        }

    def _validate_scans(
        self, model: keras.Model, batches: Callable[[SnapshotSplit], Iterator[Batch]]
    ) -> dict[str, float | None]:
        split = self._validation()
        if split is None:
            return {"val_loss": None, "val_auroc_any": None}
        slice_loss, slice_weight, scan_losses, scan_any = 0.0, 0.0, [], []
        for x, y, weights in batches(split):
            out = model.predict_on_batch(x)
            mask = weights["slice"]
            slice_loss += float((_bce(y["slice"], np.asarray(out["slice"])) * mask).sum())
            slice_weight += float(mask.sum())
            scan_losses.append(_bce(y["scan"], np.asarray(out["scan"])))
            scan_any.append(np.asarray(out["scan"])[:, 0])
        val_loss = slice_loss / max(slice_weight, 1.0) + float(np.concatenate(scan_losses).mean())
        return {
            "val_loss": val_loss,
            "val_auroc_any": auroc_point(split.scan_labels[:, 0], np.concatenate(scan_any)),
        }

    # -- embeddings -------------------------------------------------------------------------

    def _embedding_paths(self) -> dict[str, Path]:
        return {name: self.run_dir / "embeddings" / f"{name}.npy" for name in self.snapshot.splits}

    def _embeddings(self, backbone: keras.Model) -> dict[str, np.ndarray]:
        """Backbone features of every slice of every split, computed once per run."""
        paths = self._embedding_paths()
        if not self.state["embeddings"]:
            for name, path in paths.items():
                self._write_embeddings(backbone, self.snapshot.split(name), path)
            self.state["embeddings"] = True
            self._save_state()
        return {name: np.load(path, mmap_mode="r") for name, path in paths.items()}

    def _write_embeddings(self, backbone: keras.Model, split: SnapshotSplit, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npy")
        shape = (split.n_slices, backbone.output_shape[-1])
        out = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=shape)
        start = 0
        for images, _ in slice_batches(split, batch_size=self.config.batch_size * 2):
            out[start : start + len(images)] = np.asarray(backbone.predict_on_batch(images))
            start += len(images)
            if self.reporter.should_stop():
                raise TrainingCancelled("cancelled while caching embeddings")
        out.flush()
        del out
        os.replace(partial, path)


class _TensorBoard:
    """Epoch scalars in TensorBoard's event format on the TensorFlow backend; nothing on others.

    Written with the generic tf.summary.write and the "scalars" plugin's metadata, because
    tf.summary.scalar needs the tensorboard package, which tensorflow-cpu does not bring.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.writer = None

    def write(self, stage: str, step: int, entry: dict[str, Any]) -> None:
        if keras.backend.backend() != "tensorflow":
            return
        import tensorflow as tf  # lazily: only where the backend already loaded it
        from tensorflow.core.framework import summary_pb2

        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
            data_class=summary_pb2.DATA_CLASS_SCALAR,
        )
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(str(self.directory))
        with self.writer.as_default():
            for key in ("loss", "val_loss", "val_auroc_any", "lr"):
                if entry.get(key) is not None:
                    value = tf.constant(entry[key], dtype=tf.float32)
                    tf.summary.write(f"{stage}/{key}", value, step=step, metadata=metadata)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _load_weights(model: keras.Model, path: Path) -> None:
    """The weights of a saved scan model into `model`, which must have the same architecture."""
    source = keras.saving.load_model(path)
    shapes = [tuple(w.shape) for w in source.weights]
    if shapes != [tuple(w.shape) for w in model.weights]:
        raise ValueError(
            f"{path.name} does not fit this configuration (backbone, image size, RNN and "
            "attention units must match the model it starts from)"
        )
    model.set_weights(source.get_weights())


def _atomic_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def _atomic_save(model: keras.Model, path: Path) -> None:
    partial = path.with_name(path.stem + ".partial.keras")
    model.save(partial)
    os.replace(partial, path)

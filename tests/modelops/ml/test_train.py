"""Training: both modes run, history and TensorBoard logs, resume after a kill, cancel, seeds."""

import json
from dataclasses import replace

import keras
import pytest

from modelops.metrics import auroc_point as auroc
from modelops.ml.config import TrainingConfig
from modelops.ml.train import TrainingCancelled, train

CONFIG = TrainingConfig(
    image_size=32,
    rnn_units=8,
    attention_units=8,
    epochs=2,
    cnn_epochs=2,
    batch_size=16,
    scans_per_batch=4,
    max_slices=16,
)


class Recorder:
    """Records what training reports; can die after some epoch or ask to stop at some step."""

    def __init__(self, *, die_after: tuple[str, int] | None = None, stop_at_step: int = 0):
        self.steps: list[dict] = []
        self.epochs: list[dict] = []
        self.die_after = die_after
        self.stop_at_step = stop_at_step

    def step(self, **report) -> None:
        self.steps.append(report)

    def epoch_end(self, **report) -> None:
        self.epochs.append(report)
        if self.die_after == (report["stage"], report["epoch"]):
            raise KeyboardInterrupt("simulated kill")

    def should_stop(self) -> bool:
        return bool(self.stop_at_step) and len(self.steps) >= self.stop_at_step


def _assert_same_losses(history: list[dict], reference: list[dict]) -> None:
    assert [(e["stage"], e["epoch"]) for e in history] == [
        (e["stage"], e["epoch"]) for e in reference
    ]
    for key in ("loss", "val_loss"):
        assert [e[key] for e in history] == pytest.approx([e[key] for e in reference], abs=1e-6)


@pytest.fixture(scope="module")
def reference_run(tiny_snapshot, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("reference")
    recorder = Recorder()
    return train(CONFIG, tiny_snapshot, run_dir, recorder), run_dir, recorder


def test_two_stage_run_reports_and_writes_its_files(reference_run):
    result, run_dir, recorder = reference_run
    assert result.stages == ["cnn", "sequence"] and result.resumed_from is None
    assert [(e["stage"], e["epoch"]) for e in result.history] == [
        ("cnn", 1),
        ("cnn", 2),
        ("sequence", 1),
        ("sequence", 2),
    ]
    assert result.history[1]["lr"] == pytest.approx(CONFIG.learning_rate * 0.96)
    assert all(e["val_auroc_any"] is not None for e in result.history)
    assert [(r["stage"], r["epoch"], r["epochs"]) for r in recorder.epochs][0] == ("cnn", 1, 2)
    assert recorder.steps[0]["steps"] >= recorder.steps[0]["step"] == 1
    assert result.model_path == run_dir / "model.keras" and result.model_path.exists()
    lines = (run_dir / "history.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == result.history
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert sorted(p.name for p in (run_dir / "embeddings").glob("*.npy")) == [
        "test.npy",
        "train.npy",
        "validation.npy",
    ]
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("*.keras")) == [
        "cnn-002.keras",
        "sequence-002.keras",
    ]


def test_the_same_seed_gives_the_same_losses(reference_run, tiny_snapshot, tmp_path):
    result = train(CONFIG, tiny_snapshot, tmp_path / "again", Recorder())
    _assert_same_losses(result.history, reference_run[0].history)


def test_a_run_killed_between_epochs_resumes_and_ends_the_same(
    reference_run, tiny_snapshot, tmp_path
):
    with pytest.raises(KeyboardInterrupt):
        train(CONFIG, tiny_snapshot, tmp_path, Recorder(die_after=("sequence", 1)))
    recorder = Recorder()
    result = train(CONFIG, tiny_snapshot, tmp_path, recorder)
    assert result.resumed_from == 3 and result.resumed_stage == "sequence"
    assert [(r["stage"], r["epoch"]) for r in recorder.epochs] == [("sequence", 2)]
    _assert_same_losses(result.history, reference_run[0].history)


def test_should_stop_cancels_after_the_current_step(tiny_snapshot, tmp_path):
    recorder = Recorder(stop_at_step=1)
    with pytest.raises(TrainingCancelled):
        train(CONFIG, tiny_snapshot, tmp_path, recorder)
    assert len(recorder.steps) == 1 and recorder.epochs == []
    assert not (tmp_path / "model.keras").exists()


def test_a_run_dir_refuses_another_configuration(reference_run, tiny_snapshot):
    with pytest.raises(ValueError, match="another configuration"):
        train(replace(CONFIG, seed=1), tiny_snapshot, reference_run[1], Recorder())


def test_end_to_end_mode_trains_the_scan_model(tiny_snapshot, tmp_path):
    config = replace(CONFIG, mode="end_to_end", epochs=1, rnn="lstm")
    result = train(config, tiny_snapshot, tmp_path, Recorder())
    assert [e["stage"] for e in result.history] == ["end_to_end"]
    model = keras.saving.load_model(result.model_path, compile=False)
    assert set(model.output) == {"slice", "scan"}


def test_auroc_rank_formula():
    assert auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert auroc([1, 1], [0.2, 0.3]) is None


def test_fine_tuning_starts_from_the_given_model(reference_run, tiny_snapshot, tmp_path):
    from modelops.ml.predict import load_model

    base = reference_run[0].model_path
    # A learning rate too small to move the weights: the result still holds the start's.
    config = replace(CONFIG, mode="end_to_end", epochs=1, learning_rate=1e-9, augment=False)
    tuned = train(config, tiny_snapshot, tmp_path / "tuned", Recorder(), initial_model=base)
    before = [w.numpy() for w in load_model(base).trainable_weights]
    after = [w.numpy() for w in load_model(tuned.model_path).trainable_weights]
    assert len(before) == len(after)
    for start, end in zip(before, after, strict=True):
        assert end == pytest.approx(start, abs=1e-5)
    with pytest.raises(ValueError, match="does not fit"):
        train(replace(config, rnn_units=4), tiny_snapshot, tmp_path / "x", initial_model=base)
    with pytest.raises(ValueError, match="end_to_end"):
        train(CONFIG, tiny_snapshot, tmp_path / "y", initial_model=base)

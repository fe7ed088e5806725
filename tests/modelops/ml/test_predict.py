"""Prediction on a snapshot split and on one scan of raw HU."""

import numpy as np
import pytest

from modelops.ml.config import LABELS
from modelops.ml.predict import load_model, predict_scan, predict_split
from modelops.ml.snapshot_format import open_snapshot
from modelops.ml.train import train
from tests.modelops.ml.synthetic import phantom_scan
from tests.modelops.ml.test_train import CONFIG, Recorder


@pytest.fixture(scope="module")
def model(tiny_snapshot, tmp_path_factory):
    config = CONFIG.__class__(**{**CONFIG.as_dict(), "epochs": 1, "cnn_epochs": 1})
    result = train(config, tiny_snapshot, tmp_path_factory.mktemp("predict"), Recorder())
    return load_model(result.model_path)


def test_predict_split_shapes_and_order(model, tiny_snapshot):
    split = open_snapshot(tiny_snapshot).split("test")
    predictions = predict_split(model, split, max_slices=16, batch_scans=3)
    assert predictions.scan_scores.shape == (len(split), 6)
    assert predictions.scan_ids == [scan["scan_id"] for scan in split.scans]
    assert [len(s) for s in predictions.slice_scores] == split.scan_index[:, 1].tolist()
    assert ((predictions.scan_scores > 0) & (predictions.scan_scores < 1)).all()


def test_batching_and_long_scans_do_not_change_scores(model, tiny_snapshot):
    split = open_snapshot(tiny_snapshot).split("test")
    alone = predict_split(model, split, max_slices=16, batch_scans=1)
    batched = predict_split(model, split, max_slices=16, batch_scans=4)
    cropped = predict_split(model, split, max_slices=2, batch_scans=4)  # every scan on its own
    np.testing.assert_allclose(alone.scan_scores, batched.scan_scores, atol=1e-5)
    np.testing.assert_allclose(alone.scan_scores, cropped.scan_scores, atol=1e-5)
    for a, b in zip(alone.slice_scores, batched.slice_scores, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_predict_scan_from_raw_hu(model):
    hu, _, _, _ = phantom_scan(np.random.default_rng(3), slices=10, positive=True)
    result = predict_scan(model, hu, np.arange(10) * 2.5, image_size=32)
    assert result["labels"] == list(LABELS) and set(result["scan"]) == set(LABELS)
    assert len(result["slices"]) == len(result["z_mm"]) == 5  # 2.5 mm resampled to 5 mm
    assert all(len(row) == 6 for row in result["slices"])

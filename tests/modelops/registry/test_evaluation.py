"""The evaluation report: thresholds chosen on validation, applied unchanged elsewhere."""

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from modelops.metrics import HEMORRHAGE_CLASSES
from modelops.registry.evaluation import FALLBACK_THRESHOLD, evaluation_report, headline_metrics


def _split(rng, n, shift=2.0):
    labels = (rng.random((n, 6)) < 0.3).astype(int)
    labels[:, 0] = labels[:, 1:].max(axis=1)
    scores = 1 / (1 + np.exp(-(rng.normal(size=(n, 6)) + shift * (labels - 0.5))))
    return labels, scores


def test_report_has_every_split_and_class_with_named_methods():
    rng = np.random.default_rng(3)
    splits = {"test": _split(rng, 80), "validation": _split(rng, 120), "train": _split(rng, 60)}
    report = evaluation_report(splits)
    assert list(report["splits"]) == ["train", "validation", "test"]
    assert report["methods"]["proportions"] == "wilson"
    assert report["methods"]["auroc"] == "delong"
    for name, (labels, scores) in splits.items():
        rows = report["splits"][name]["rows"]
        assert [row["hemorrhage_class"] for row in rows] == list(HEMORRHAGE_CLASSES)
        for column, row in enumerate(rows):
            assert row["auroc"]["value"] == pytest.approx(
                roc_auc_score(labels[:, column], scores[:, column])
            )
            assert row["auroc"]["lower"] < row["auroc"]["value"] < row["auroc"]["upper"]
            assert row["tp"] + row["fn"] == labels[:, column].sum()
            roc = report["splits"][name]["roc"][row["hemorrhage_class"]]
            assert roc["fpr"][0] == 0 and roc["tpr"][-1] == 1


def test_thresholds_come_from_validation_and_are_applied_to_test_unchanged():
    rng = np.random.default_rng(4)
    validation, test = _split(rng, 150), _split(rng, 90)
    report = evaluation_report({"validation": validation, "test": test})
    for column, name in enumerate(HEMORRHAGE_CLASSES):
        cut = report["thresholds"][name]["value"]
        row = report["splits"]["test"]["rows"][column]
        assert row["threshold"] == cut
        predicted = test[1][:, column] >= cut
        assert row["tp"] == int((predicted & (test[0][:, column] == 1)).sum())
        assert row["fp"] == int((predicted & (test[0][:, column] == 0)).sum())


def test_a_class_missing_on_validation_gets_the_fixed_threshold():
    rng = np.random.default_rng(5)
    labels, scores = _split(rng, 60)
    labels[:, 5] = 0
    report = evaluation_report({"validation": (labels, scores)})
    assert report["thresholds"]["edh"]["value"] == FALLBACK_THRESHOLD
    assert "fixed" in report["thresholds"]["edh"]["criterion"]
    assert report["splits"]["validation"]["roc"]["edh"] is None
    assert headline_metrics(report)["validation"]["edh"]["auroc"] is None


def test_target_sensitivity_criterion_reaches_its_target_on_validation():
    rng = np.random.default_rng(6)
    validation = _split(rng, 200, shift=1.0)
    report = evaluation_report(
        {"validation": validation}, criterion="target-sensitivity", target_sensitivity=0.9
    )
    for row in report["splits"]["validation"]["rows"]:
        assert row["sensitivity"]["value"] >= 0.9


def test_no_validation_split_is_an_error():
    rng = np.random.default_rng(7)
    with pytest.raises(ValueError, match="validation"):
        evaluation_report({"train": _split(rng, 20)})


def test_a_class_positive_in_every_scan_has_no_curve_and_no_nan():
    rng = np.random.default_rng(8)
    labels, scores = _split(rng, 40)
    labels[:, 0] = 1
    report = evaluation_report({"validation": (labels, scores), "test": (labels[:1], scores[:1])})
    assert report["splits"]["validation"]["roc"]["any"] is None
    assert report["splits"]["test"]["roc"]["iph"] is None
    json.dumps(report, allow_nan=False)

"""Per-class metrics with CIs: the paper's Table 2 from its confusion matrices, reference
implementations, DeLong against its O(n^2) definition, degenerate inputs."""

import json
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sklearn_roc_curve
from statsmodels.stats.proportion import proportion_confint

from modelops.metrics import (
    HEMORRHAGE_CLASSES,
    ClassReportRow,
    ConfusionMatrix,
    Estimate,
    auroc_ci,
    binary_metrics,
    choose_threshold,
    choose_thresholds,
    class_report,
    delong_auc_variance,
    f1_ci,
    proportion_ci,
    report_row,
    roc_curve,
)


@pytest.fixture(autouse=True)
def data_dir():
    """Overrides the project-wide fixture: metrics need no Django settings or database."""
    return None


## The paper's Table 2

# Alis et al. 2022, Table 2 ("Diagnostic performance of the unified CNN-RNN model on the training,
# validation, and testing sets"), transcribed from /work/shared/reference/alis-2022-ich-cnn-rnn-
# attention.txt. Its confusion matrix has the reference test in rows (Pos, Neg) and predictions in
# columns (Pos, Neg): row Pos is (TP, FN), row Neg is (FP, TN). Reported figures are percentages
# with two decimals, except testing EDH sensitivity (71.4, one decimal) and testing SAH precision
# (44, exact).
# (set, class): (tp, fn, fp, tn, sensitivity, specificity, precision, accuracy)
PAPER_TABLE_2 = {
    ("training", "any"): (14406, 336, 531, 34695, "97.72", "98.49", "96.45", "98.26"),
    ("training", "iph"): (8780, 642, 296, 40250, "93.19", "99.27", "96.74", "98.12"),
    ("training", "ivh"): (5083, 452, 204, 44229, "91.83", "99.54", "96.14", "98.69"),
    ("training", "sah"): (7287, 1668, 588, 40425, "81.37", "98.57", "92.53", "95.49"),
    ("training", "sdh"): (6134, 888, 455, 42491, "87.35", "98.94", "93.09", "97.31"),
    ("training", "edh"): (915, 251, 531, 48271, "78.47", "98.94", "63.28", "98.43"),
    ("validation", "any"): (988, 3, 28, 4192, "99.70", "99.34", "97.24", "99.41"),
    ("validation", "iph"): (631, 27, 33, 4520, "95.90", "99.28", "95.03", "98.85"),
    ("validation", "ivh"): (398, 20, 21, 4772, "95.22", "99.56", "94.99", "99.21"),
    ("validation", "sah"): (507, 93, 42, 4569, "84.50", "99.09", "92.35", "97.41"),
    ("validation", "sdh"): (411, 40, 32, 4728, "91.13", "99.33", "92.78", "98.62"),
    ("validation", "edh"): (53, 18, 50, 5090, "74.61", "98.83", "51.56", "98.50"),
    ("testing", "any"): (161, 6, 12, 273, "96.41", "95.79", "93.06", "96.02"),
    ("testing", "iph"): (71, 15, 9, 357, "82.56", "97.54", "88.75", "94.69"),
    ("testing", "ivh"): (33, 5, 7, 407, "86.84", "98.31", "82.50", "97.35"),
    ("testing", "sah"): (44, 4, 56, 348, "91.67", "86.14", "44", "86.73"),
    ("testing", "sdh"): (67, 9, 37, 339, "88.16", "90.16", "64.42", "89.82"),
    ("testing", "edh"): (10, 4, 1, 437, "71.4", "99.98", "90.91", "98.89"),
}
FIGURES = ("sensitivity", "specificity", "precision", "accuracy")

# Printed figures that no rounding of the printed matrix gives (the matrix's own value in brackets):
# training EDH specificity (98.91; the printed 98.94 is SDH's), validation EDH all four
# (74.65, 99.03, 51.46, 98.69), testing EDH specificity (99.77). Every other figure, 66 of 72,
# matches.
PAPER_INCONSISTENT = {
    ("training", "edh", "specificity"),
    ("validation", "edh", "sensitivity"),
    ("validation", "edh", "specificity"),
    ("validation", "edh", "precision"),
    ("validation", "edh", "accuracy"),
    ("testing", "edh", "specificity"),
}


def _printed(value: float, printed: str) -> bool:
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return f"{100 * value:.{decimals}f}" == printed


@pytest.mark.parametrize("key", list(PAPER_TABLE_2), ids=lambda key: "-".join(key))
def test_paper_table_2_point_estimates_follow_from_its_confusion_matrices(key):
    tp, fn, fp, tn, *printed = PAPER_TABLE_2[key]
    row = report_row(key[1], ConfusionMatrix(tp=tp, fp=fp, tn=tn, fn=fn), resamples=10)

    for figure, text in zip(FIGURES, printed, strict=True):
        value = getattr(row, figure).value
        if (*key, figure) in PAPER_INCONSISTENT:
            assert not _printed(value, text), f"{key} {figure} now matches; update the list"
        else:
            assert _printed(value, text), f"{key} {figure}: {100 * value:.3f} vs printed {text}"


def test_paper_table_2_counts_agree_with_the_results_text():
    # Results section: 14,742 of 49,968 training scans ICH-positive, 49,101 correct; validation 991
    # of 5211 positive, 5180 correct; testing 167 of 452 with ICH, 434 correct.
    for split, positives, total, correct in (
        ("training", 14742, 49968, 49101),
        ("validation", 991, 5211, 5180),
        ("testing", 167, 452, 434),
    ):
        tp, fn, fp, tn = PAPER_TABLE_2[(split, "any")][:4]
        cm = ConfusionMatrix(tp=tp, fp=fp, tn=tn, fn=fn)
        assert (cm.n_positive, cm.n, cm.tp + cm.tn) == (positives, total, correct)
        for name in HEMORRHAGE_CLASSES:
            assert sum(PAPER_TABLE_2[(split, name)][:4]) == total


## Proportions against statsmodels


@pytest.mark.parametrize("method, reference", [("wilson", "wilson"), ("clopper-pearson", "beta")])
@pytest.mark.parametrize("successes, total", [(0, 10), (1, 10), (7, 10), (10, 10), (988, 991)])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_proportion_interval_matches_statsmodels(method, reference, successes, total, confidence):
    estimate = proportion_ci(successes, total, method=method, confidence=confidence)
    lower, upper = proportion_confint(successes, total, alpha=1 - confidence, method=reference)

    assert estimate.value == successes / total
    assert (estimate.lower, estimate.upper) == pytest.approx((lower, upper), abs=1e-10)
    assert (estimate.method, estimate.confidence) == (method, confidence)


def test_proportion_without_cases_is_nan_and_bad_counts_are_refused():
    empty = proportion_ci(0, 0)
    assert math.isnan(empty.value) and math.isnan(empty.lower) and math.isnan(empty.upper)
    with pytest.raises(ValueError, match="successes <= total"):
        proportion_ci(5, 3)
    with pytest.raises(ValueError, match="unknown proportion method"):
        proportion_ci(1, 3, method="wald")
    with pytest.raises(ValueError, match="confidence"):
        proportion_ci(1, 3, confidence=95)


def test_confusion_matrix_refuses_negative_or_fractional_counts():
    with pytest.raises(ValueError, match="fn must be a non-negative integer"):
        ConfusionMatrix(tp=1, fp=1, tn=1, fn=-1)
    with pytest.raises(ValueError, match="tp must be a non-negative integer"):
        ConfusionMatrix(tp=1.5, fp=1, tn=1, fn=1)


def test_confusion_matrix_from_predictions():
    cm = ConfusionMatrix.from_predictions([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0])
    assert cm.as_dict() == {"tp": 2, "fp": 1, "tn": 3, "fn": 1}
    with pytest.raises(ValueError, match="only 0 and 1"):
        ConfusionMatrix.from_predictions([0, 2], [0, 1])
    with pytest.raises(ValueError, match="differ in length"):
        ConfusionMatrix.from_predictions([0, 1], [0])


def test_binary_metrics_name_their_methods_and_f1_is_seeded():
    cm = ConfusionMatrix(tp=161, fp=12, tn=273, fn=6)
    first = binary_metrics(cm, method="clopper-pearson", seed=3)
    again = binary_metrics(cm, method="clopper-pearson", seed=3)

    assert first == again
    assert first.npv.value == 273 / 279
    assert first.f1.value == pytest.approx(2 * 161 / (2 * 161 + 12 + 6))
    assert first.f1.lower < first.f1.value < first.f1.upper
    assert first.sensitivity.method == "clopper-pearson"
    assert first.f1.method.startswith("bootstrap-percentile") and "seed=3" in first.f1.method
    assert binary_metrics(cm).sensitivity.method == "wilson"


def test_f1_without_positive_cases_or_predictions_is_nan():
    f1 = f1_ci(ConfusionMatrix(tp=0, fp=0, tn=20, fn=0))
    assert math.isnan(f1.value) and math.isnan(f1.lower)
    metrics = binary_metrics(ConfusionMatrix(tp=0, fp=0, tn=20, fn=0))
    assert math.isnan(metrics.sensitivity.value) and math.isnan(metrics.precision.value)
    assert metrics.specificity.value == 1.0


## AUROC, DeLong and the ROC curve


def _delong_direct(y_true, scores):
    """DeLong's variance from its definition: the O(m n) kernel psi(x, y) = 1, 1/2, 0."""
    y_true, scores = np.asarray(y_true, bool), np.asarray(scores, float)
    x, y = scores[y_true], scores[~y_true]
    psi = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return psi.mean(), v10.var(ddof=1) / x.size + v01.var(ddof=1) / y.size


@pytest.mark.parametrize("seed", range(6))
def test_delong_matches_the_direct_definition_and_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 60))
    y_true = rng.integers(0, 2, n)
    y_true[:2] = (0, 1)
    y_true[2:4] = (0, 1)
    # rounded scores so that ties occur within and across classes
    scores = np.round(rng.normal(size=n) + y_true, 1 if seed % 2 else 3)

    auc, variance = delong_auc_variance(y_true, scores)
    direct_auc, direct_variance = _delong_direct(y_true, scores)

    assert auc == pytest.approx(direct_auc, abs=1e-12)
    assert auc == pytest.approx(roc_auc_score(y_true, scores), abs=1e-12)
    assert variance == pytest.approx(direct_variance, rel=1e-9, abs=1e-15)


def test_auroc_interval_delong_and_bootstrap():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 2, 400)
    scores = rng.normal(size=400) + 1.5 * y_true

    delong = auroc_ci(y_true, scores)
    boot = auroc_ci(y_true, scores, method="bootstrap", resamples=500, seed=1)

    assert delong.method == "delong"
    assert boot.method == "bootstrap-percentile(stratified, resamples=500, seed=1)"
    assert delong.value == pytest.approx(roc_auc_score(y_true, scores), abs=1e-12)
    assert boot.value == pytest.approx(delong.value, abs=1e-12)
    assert delong.lower < delong.value < delong.upper
    assert boot.lower < boot.value < boot.upper
    # the two intervals describe the same uncertainty
    assert boot.upper - boot.lower == pytest.approx(delong.upper - delong.lower, rel=0.25)
    assert boot == auroc_ci(y_true, scores, method="bootstrap", resamples=500, seed=1)


def test_auroc_degenerate_inputs():
    no_positives = auroc_ci([0, 0, 0], [0.1, 0.5, 0.9])
    assert math.isnan(no_positives.value) and math.isnan(no_positives.lower)
    assert math.isnan(auroc_ci([1, 1], [0.1, 0.2], method="bootstrap").value)

    perfect = auroc_ci([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert (perfect.value, perfect.lower, perfect.upper) == (1.0, 1.0, 1.0)

    all_tied = auroc_ci([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])
    assert all_tied.value == 0.5 and all_tied.lower == all_tied.upper == 0.5

    single_positive = auroc_ci([0, 0, 1], [0.1, 0.2, 0.9])
    assert single_positive.value == 1.0 and math.isnan(single_positive.lower)

    with pytest.raises(ValueError, match="finite"):
        auroc_ci([0, 1], [0.1, float("nan")])
    with pytest.raises(ValueError, match="differ in length"):
        auroc_ci([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="unknown AUROC method"):
        auroc_ci([0, 1], [0.1, 0.2], method="hanley")


@pytest.mark.parametrize("seed", range(3))
def test_roc_curve_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, 50)
    scores = np.round(rng.random(50), 1)

    curve = roc_curve(y_true, scores)
    fpr, tpr, thresholds = sklearn_roc_curve(y_true, scores, drop_intermediate=False)

    assert curve.fpr == pytest.approx(fpr)
    assert curve.tpr == pytest.approx(tpr)
    assert curve.thresholds[1:] == pytest.approx(thresholds[1:])
    assert curve.thresholds[0] == math.inf
    json.dumps(curve.as_dict())


## Thresholds: chosen on validation, frozen for test


def test_youden_threshold_is_chosen_on_validation_and_applied_unchanged():
    validation_truth = [0, 0, 0, 0, 1, 1, 1, 1]
    validation_scores = [0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9]

    threshold = choose_threshold(validation_truth, validation_scores)

    # J is 0.75 at 0.7 (sens 3/4, spec 1) and at 0.4 (sens 1, spec 3/4): the higher one wins
    assert threshold.value == 0.7
    assert threshold.criterion == "youden"
    assert (threshold.validation_sensitivity, threshold.validation_specificity) == (0.75, 1.0)
    test_scores = [0.05, 0.69, 0.7, 0.99]
    assert threshold.apply(test_scores).tolist() == [0, 0, 1, 1]


def test_target_sensitivity_threshold():
    truth = [0, 0, 0, 0, 1, 1, 1, 1]
    scores = [0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9]

    threshold = choose_threshold(
        truth, scores, criterion="target-sensitivity", target_sensitivity=1
    )

    assert threshold.value == 0.4
    assert threshold.criterion == "target-sensitivity(1)"
    assert threshold.validation_specificity == 0.75
    with pytest.raises(ValueError, match="target_sensitivity"):
        choose_threshold(truth, scores, criterion="target-sensitivity")
    with pytest.raises(ValueError, match="both positive and negative"):
        choose_threshold([0, 0], [0.1, 0.2])


## The per-class report


def _scans(rng, n):
    subtypes = rng.random((n, 5)) < [0.15, 0.1, 0.12, 0.1, 0.03]
    truth = np.column_stack([subtypes.any(axis=1), subtypes]).astype(int)
    scores = np.clip(0.3 * truth + 0.7 * rng.random(truth.shape), 0, 1)
    return truth, scores


def test_class_report_rows_follow_table_2_with_validation_thresholds():
    rng = np.random.default_rng(11)
    validation_truth, validation_scores = _scans(rng, 300)
    test_truth, test_scores = _scans(rng, 200)

    thresholds = choose_thresholds(validation_truth, validation_scores)
    rows = class_report(test_truth, test_scores, thresholds, resamples=200)

    assert [row.hemorrhage_class for row in rows] == list(HEMORRHAGE_CLASSES)
    for column, row in enumerate(rows):
        assert isinstance(row, ClassReportRow)
        frozen = thresholds[row.hemorrhage_class].value
        assert row.threshold == frozen
        predicted = (test_scores[:, column] >= frozen).astype(int)
        expected = ConfusionMatrix.from_predictions(test_truth[:, column], predicted)
        assert (row.tp, row.fp, row.tn, row.fn) == (
            expected.tp,
            expected.fp,
            expected.tn,
            expected.fn,
        )
        assert row.n_positive == test_truth[:, column].sum()
        assert row.n_positive + row.n_negative == 200
        assert row.auroc.value == pytest.approx(
            roc_auc_score(test_truth[:, column], test_scores[:, column])
        )
        assert row.auroc.method == "delong"
        assert row.sensitivity.method == "wilson"

    record = rows[0].as_dict()
    assert list(record)[:7] == [
        "hemorrhage_class",
        "n_positive",
        "n_negative",
        "tp",
        "fp",
        "tn",
        "fn",
    ]
    assert set(record["sensitivity"]) == {"value", "lower", "upper", "method", "confidence"}
    json.dumps([row.as_dict() for row in rows], allow_nan=False)


def test_class_report_with_a_class_absent_from_test_gives_nan_not_a_crash():
    truth = np.zeros((6, 6), dtype=int)
    truth[:3, 0] = truth[:3, 1] = 1  # no IVH, SAH, SDH or EDH among these scans
    scores = np.linspace(0.1, 0.9, 36).reshape(6, 6)

    rows = class_report(truth, scores, 0.5, resamples=50)

    edh = rows[-1].as_dict()
    assert edh["n_positive"] == 0
    assert edh["sensitivity"]["value"] is None
    assert edh["auroc"]["value"] is None
    assert rows[-1].specificity.value == pytest.approx(rows[-1].tn / 6)
    json.dumps([row.as_dict() for row in rows], allow_nan=False)
    with pytest.raises(ValueError, match="no threshold given for class 'edh'"):
        class_report(truth, scores, {name: 0.5 for name in HEMORRHAGE_CLASSES[:-1]})
    with pytest.raises(ValueError, match="expected 6 columns"):
        class_report(truth[:, :2], scores[:, :2], 0.5)


def test_results_are_frozen():
    estimate = Estimate(0.5, 0.4, 0.6, "wilson")
    with pytest.raises(AttributeError):
        estimate.value = 1.0  # type: ignore[misc]

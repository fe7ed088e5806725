"""Likert study statistics on tables small enough to check by hand: summaries and counts, the
Mann-Whitney U and Wilcoxon tests against SciPy called directly, Krippendorff's ordinal alpha
against a hand computation, validation, and the JSON form of the results."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from modelops.metrics import (
    LikertResults,
    LikertScore,
    likert_results,
    mean_ci,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def data_dir():
    """Overrides the project-wide fixture: metrics need no Django settings or database."""
    return None


def table(rows):
    """LikertScore records from (reader, case, method, score) tuples."""
    return [LikertScore(reader, case, method, score) for reader, case, method, score in rows]


# Two readers, four cases; reader "b" did not score case c4 under gradcam.
SMALL = table(
    [
        ("a", "c1", "normgrad", 4),
        ("a", "c2", "normgrad", 3),
        ("a", "c3", "normgrad", 3),
        ("a", "c4", "normgrad", 2),
        ("a", "c1", "gradcam", 2),
        ("a", "c2", "gradcam", 1),
        ("a", "c3", "gradcam", 3),
        ("a", "c4", "gradcam", 2),
        ("b", "c1", "normgrad", 4),
        ("b", "c2", "normgrad", 4),
        ("b", "c3", "normgrad", 2),
        ("b", "c4", "normgrad", 3),
        ("b", "c1", "gradcam", 1),
        ("b", "c2", "gradcam", 2),
        ("b", "c3", "gradcam", 2),
    ]
)


def scores_of(rows, method, reader=None):
    return [r.score for r in rows if r.method == method and reader in (None, r.reader)]


## Summaries


def test_summaries_per_reader_and_method_on_a_hand_made_table():
    results = likert_results(SMALL, methods=("normgrad", "gradcam"))
    assert results.methods == ("normgrad", "gradcam")
    assert results.readers == ("a", "b")

    a_normgrad = results.summary("normgrad", "a")  # 4, 3, 3, 2
    assert a_normgrad.n == 4
    assert a_normgrad.mean.value == pytest.approx(3.0)
    assert a_normgrad.sd == pytest.approx(math.sqrt(2 / 3))  # squares 1, 0, 0, 1 over 3
    assert a_normgrad.median == 3.0
    assert a_normgrad.counts == (0, 1, 2, 1)

    b_gradcam = results.summary("gradcam", "b")  # 1, 2, 2
    assert b_gradcam.n == 3
    assert b_gradcam.mean.value == pytest.approx(5 / 3)
    assert b_gradcam.sd == pytest.approx(math.sqrt(1 / 3))  # (4/9 + 1/9 + 1/9) / 2
    assert b_gradcam.median == 2.0
    assert b_gradcam.counts == (1, 2, 0, 0)

    pooled = results.summary("gradcam")  # 2, 1, 3, 2, 1, 2, 2
    assert pooled.reader is None
    assert pooled.n == 7
    assert pooled.mean.value == pytest.approx(13 / 7)
    assert pooled.sd == pytest.approx(np.std([2, 1, 3, 2, 1, 2, 2], ddof=1))
    assert pooled.median == 2.0
    assert pooled.counts == (2, 4, 1, 0)
    assert sum(results.summary("normgrad").counts) == results.summary("normgrad").n == 8


def test_rows_come_per_reader_then_pooled_in_the_methods_order():
    results = likert_results(SMALL, methods=("normgrad", "gradcam"))
    assert [(row.reader, row.method) for row in results.summaries] == [
        ("a", "normgrad"),
        ("a", "gradcam"),
        ("b", "normgrad"),
        ("b", "gradcam"),
        (None, "normgrad"),
        (None, "gradcam"),
    ]
    assert [row.reader for row in results.mann_whitney] == ["a", "b", None]
    assert [row.reader for row in results.wilcoxon] == ["a", "b", None]
    assert [row.method for row in results.agreement] == ["normgrad", "gradcam", None]


def test_the_mean_has_a_t_interval_bounded_to_the_scale():
    results = likert_results(SMALL, methods=("normgrad", "gradcam"), confidence=0.9)
    row = results.summary("gradcam", "b")
    expected = mean_ci([1, 2, 2], confidence=0.9, clip=(1.0, 4.0))
    assert row.mean == expected
    assert row.mean.method == "t" and row.mean.confidence == 0.9
    assert row.mean.lower == 1.0  # the t interval reaches below 1; the scale does not
    assert 1.0 <= row.mean.lower <= row.mean.value <= row.mean.upper <= 4.0


def test_one_score_has_no_sd_and_no_interval():
    results = likert_results(
        table([("a", "c1", "normgrad", 4), ("a", "c1", "gradcam", 2)]),
        methods=("normgrad", "gradcam"),
    )
    row = results.summary("normgrad", "a")
    assert row.n == 1 and row.mean.value == 4.0 and row.median == 4.0
    assert math.isnan(row.sd) and math.isnan(row.mean.lower) and math.isnan(row.mean.upper)


def test_methods_default_to_the_sorted_names():
    assert likert_results(SMALL).methods == ("gradcam", "normgrad")


## Mann-Whitney U


def test_mann_whitney_matches_scipy_per_reader_and_pooled():
    results = likert_results(SMALL, methods=("normgrad", "gradcam"))
    for reader in ("a", "b", None):
        first = scores_of(SMALL, "normgrad", reader)
        second = scores_of(SMALL, "gradcam", reader)
        expected = stats.mannwhitneyu(first, second, alternative="two-sided")
        row = results.mann_whitney_of(reader)
        assert (row.n_first, row.n_second) == (len(first), len(second))
        assert row.u == pytest.approx(expected.statistic)
        assert row.p == pytest.approx(expected.pvalue)
        assert row.rank_biserial == pytest.approx(
            2 * expected.statistic / (len(first) * len(second)) - 1
        )


def test_all_fours_against_all_ones_give_the_largest_u():
    rows = [("a", f"c{i}", "normgrad", 4) for i in range(10)]
    rows += [("a", f"c{i}", "gradcam", 1) for i in range(10)]
    results = likert_results(table(rows), methods=("normgrad", "gradcam"))
    row = results.mann_whitney_of("a")
    assert row.u == 10 * 10  # every NormGrad score beats every Grad-CAM score
    assert row.rank_biserial == 1.0
    assert row.p < 1e-4
    # The other order: U of Grad-CAM is 0 and the effect size flips sign; p is the same.
    swapped = likert_results(table(rows), methods=("gradcam", "normgrad")).mann_whitney_of("a")
    assert swapped.u == 0 and swapped.rank_biserial == -1.0
    assert swapped.p == pytest.approx(row.p)


def test_mann_whitney_without_scores_of_one_method_is_nan():
    rows = table([("a", "c1", "normgrad", 4), ("b", "c1", "gradcam", 1)])
    row = likert_results(rows, methods=("normgrad", "gradcam")).mann_whitney_of("a")
    assert (row.n_first, row.n_second) == (1, 0)
    assert math.isnan(row.u) and math.isnan(row.p) and math.isnan(row.rank_biserial)


## Wilcoxon signed-rank


def test_wilcoxon_matches_scipy_on_the_paired_cases():
    results = likert_results(SMALL, methods=("normgrad", "gradcam"))
    # Reader a: all four cases pair up; differences 2, 2, 0, 0 (two zeros, Pratt keeps them).
    a = results.wilcoxon_of("a")
    expected = stats.wilcoxon([4, 3, 3, 2], [2, 1, 3, 2], zero_method="pratt")
    assert (a.n_pairs, a.n_nonzero) == (4, 2)
    assert a.statistic == pytest.approx(expected.statistic)
    assert a.p == pytest.approx(expected.pvalue)
    assert a.median_difference == 1.0
    # Reader b: case c4 has no Grad-CAM score, so three pairs; differences 3, 2, 0.
    b = results.wilcoxon_of("b")
    expected = stats.wilcoxon([4, 4, 2], [1, 2, 2], zero_method="pratt")
    assert (b.n_pairs, b.n_nonzero) == (3, 2)
    assert b.p == pytest.approx(expected.pvalue)
    assert b.median_difference == 2.0
    # Pooled: the seven pairs of both readers.
    pooled = results.wilcoxon_of(None)
    expected = stats.wilcoxon([4, 3, 3, 2, 4, 4, 2], [2, 1, 3, 2, 1, 2, 2], zero_method="pratt")
    assert (pooled.n_pairs, pooled.n_nonzero) == (7, 4)
    assert pooled.statistic == pytest.approx(expected.statistic)
    assert pooled.p == pytest.approx(expected.pvalue)
    assert pooled.median_difference == 2.0


def test_wilcoxon_on_ten_equal_differences_is_the_two_extreme_sign_patterns():
    rows = [("a", f"c{i}", "normgrad", 4) for i in range(10)]
    rows += [("a", f"c{i}", "gradcam", 1) for i in range(10)]
    row = likert_results(table(rows), methods=("normgrad", "gradcam")).wilcoxon_of("a")
    # All differences +3: no negative rank sum; of the 2^10 sign patterns only all-plus and
    # all-minus are as extreme, so the two-sided p is 2 / 1024.
    assert row.statistic == 0
    assert row.p == pytest.approx(2 / 2**10)
    assert row.median_difference == 3.0
    assert (row.n_pairs, row.n_nonzero) == (10, 10)


def test_wilcoxon_without_a_nonzero_difference_is_nan_not_an_error():
    same = table([("a", c, m, 3) for c in ("c1", "c2", "c3") for m in ("normgrad", "gradcam")])
    row = likert_results(same).wilcoxon_of("a")
    assert (row.n_pairs, row.n_nonzero) == (3, 0)
    assert math.isnan(row.statistic) and math.isnan(row.p)
    assert row.median_difference == 0.0
    unpaired = table([("a", "c1", "normgrad", 3), ("a", "c2", "gradcam", 2)])
    row = likert_results(unpaired).wilcoxon_of("a")
    assert row.n_pairs == 0
    assert math.isnan(row.statistic) and math.isnan(row.p) and math.isnan(row.median_difference)


## Krippendorff's alpha

# Krippendorff's reliability data with 3 coders (rows) and 15 units (columns), values 1..4 and
# missing values: the example in the docstring of the `krippendorff` package's `alpha` (version
# 0.9.0), which publishes nominal alpha 0.691358 and interval alpha 0.810845 for it.
KRIPPENDORFF_EXAMPLE = [
    [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
    [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
    [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
]
# Its ordinal alpha by hand (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"):
# the coincidence matrix over the 12 units with two or more values (10 with two, 2 with three)
# has o_11 = 6, o_22 = 4, o_33 = 7, o_44 = 3, o_13 = o_31 = 1, o_34 = o_43 = 2, so
# n_c = (7, 4, 10, 5) and n = 26.
# Ordinal distances d_ck = (sum of n_g for g from c to k - (n_c + n_k) / 2)^2:
# d_12 = 5.5^2, d_13 = 12.5^2, d_14 = 20^2, d_23 = 7^2, d_24 = 14.5^2, d_34 = 7.5^2.
# Observed: sum o_ck d_ck = 2 (1 * 156.25 + 2 * 56.25) = 537.5.
# Expected: sum n_c n_k d_ck = 2 (28 * 30.25 + 70 * 156.25 + 35 * 400 + 40 * 49 + 20 * 210.25
#           + 50 * 56.25) = 69524.
# alpha = 1 - (n - 1) * 537.5 / 69524.
KRIPPENDORFF_ORDINAL = 1 - 25 * 537.5 / 69524  # 0.80672...


def example_scores(method, data=KRIPPENDORFF_EXAMPLE):
    return [
        LikertScore(f"r{i}", f"u{j:02d}", method, value)
        for i, row in enumerate(data)
        for j, value in enumerate(row)
        if value is not None
    ]


def test_alpha_is_one_for_perfect_agreement():
    rows = [
        (reader, f"c{i}", method, score)
        for reader in ("a", "b", "c")
        for i, score in enumerate([4, 3, 1, 2, 4])
        for method in ("normgrad", "gradcam")
    ]
    results = likert_results(table(rows))
    for row in results.agreement:
        assert row.alpha == pytest.approx(1.0)
        assert row.n_readers == 3
    assert results.agreement_of("normgrad").n_items == 5
    assert results.agreement_of(None).n_items == 10


def test_alpha_matches_the_hand_computed_ordinal_example():
    # Grad-CAM maps scored in perfect agreement, NormGrad maps as in the example.
    gradcam = [[1, 2, 3, 4, 4]] * 3
    scores = example_scores("normgrad") + example_scores("gradcam", gradcam)
    results = likert_results(scores, methods=("normgrad", "gradcam"))
    normgrad = results.agreement_of("normgrad")
    assert normgrad.alpha == pytest.approx(KRIPPENDORFF_ORDINAL)
    assert round(normgrad.alpha, 5) == 0.80672
    assert normgrad.n_readers == 3
    assert normgrad.n_items == 13  # units 2 and 14 have no value: not in the data at all
    assert normgrad.n_pairable_items == 12  # unit 1 has one value only
    assert results.agreement_of("gradcam").alpha == pytest.approx(1.0)
    # Over all maps: the reader x (case, method) matrix, NormGrad's columns then Grad-CAM's.
    import krippendorff

    matrix = np.array(
        [
            [np.nan if v is None else v for v in row] + list(other)
            for row, other in zip(KRIPPENDORFF_EXAMPLE, gradcam, strict=True)
        ]
    )
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal")
    assert results.agreement_of(None).alpha == pytest.approx(expected)


def test_alpha_is_nan_without_two_readers_on_one_map_or_without_variation():
    one_reader = table([("a", "c1", "normgrad", 4), ("a", "c1", "gradcam", 2)])
    row = likert_results(one_reader).agreement_of(None)
    assert math.isnan(row.alpha) and row.n_pairable_items == 0
    apart = table([("a", "c1", "normgrad", 4), ("b", "c2", "normgrad", 2)])
    row = likert_results(apart, methods=("normgrad", "gradcam")).agreement_of("normgrad")
    assert math.isnan(row.alpha) and (row.n_readers, row.n_items) == (2, 2)
    all_fours = table([(r, c, "normgrad", 4) for r in ("a", "b") for c in ("c1", "c2")])
    row = likert_results(all_fours, methods=("normgrad", "gradcam")).agreement_of("normgrad")
    assert math.isnan(row.alpha) and row.n_pairable_items == 2  # 1 - 0/0
    empty = likert_results(all_fours, methods=("normgrad", "gradcam")).agreement_of("gradcam")
    assert math.isnan(empty.alpha) and empty.n_items == 0


## Input and validation


def test_mappings_give_the_same_results_as_records():
    mappings = [
        {"reader": r.reader, "case": r.case, "method": r.method, "score": r.score, "note": "x"}
        for r in SMALL
    ]
    assert likert_results(mappings) == likert_results(SMALL)


@pytest.mark.parametrize("score", [5, 0, -1, 3.5, 4.0, "4", True, None])
def test_a_score_outside_the_integers_1_to_4_is_refused(score):
    with pytest.raises(ValueError, match=r"score must be an integer from 1 to 4.*reader 'a'"):
        likert_results([{"reader": "a", "case": "c1", "method": "normgrad", "score": score}])


def test_numpy_integers_are_scores():
    rows = [LikertScore("a", "c1", m, np.int64(3)) for m in ("normgrad", "gradcam")]
    assert rows[0].score == 3 and type(rows[0].score) is int
    assert likert_results(rows).summary("normgrad").mean.value == 3.0


def test_a_second_score_for_the_same_reader_case_and_method_is_refused():
    rows = [*SMALL, LikertScore("a", "c2", "gradcam", 4)]
    with pytest.raises(
        ValueError, match="reader 'a' scored case 'c2' under method 'gradcam' more than once"
    ):
        likert_results(rows)


def test_malformed_records_are_refused():
    with pytest.raises(ValueError, match="lacks method"):
        likert_results([{"reader": "a", "case": "c1", "score": 3}])
    with pytest.raises(ValueError, match="case must be a non-empty string"):
        likert_results([{"reader": "a", "case": 7, "method": "normgrad", "score": 3}])
    with pytest.raises(ValueError, match="reader must be a non-empty string"):
        LikertScore("", "c1", "normgrad", 3)
    with pytest.raises(ValueError, match="LikertScore or a mapping"):
        likert_results([("a", "c1", "normgrad", 3)])


def test_the_methods_must_be_two():
    three = [*SMALL, LikertScore("a", "c1", "gradcam++", 3)]
    with pytest.raises(ValueError, match="exactly two methods"):
        likert_results(three)
    with pytest.raises(ValueError, match=r"outside methods.*gradcam\+\+"):
        likert_results(three, methods=("normgrad", "gradcam"))
    with pytest.raises(ValueError, match="two different method names"):
        likert_results(SMALL, methods=("normgrad", "normgrad"))
    with pytest.raises(ValueError, match="exactly two methods"):
        likert_results([])
    with pytest.raises(ValueError, match="confidence"):
        likert_results(SMALL, confidence=1.0)


def test_an_empty_study_with_named_methods_is_all_nan():
    results = likert_results([], methods=("normgrad", "gradcam"))
    assert results.readers == ()
    row = results.summary("normgrad")
    assert row.n == 0 and math.isnan(row.mean.value) and row.counts == (0, 0, 0, 0)
    assert math.isnan(results.mann_whitney_of().p)
    assert math.isnan(results.agreement_of().alpha)


def test_a_row_that_does_not_exist_is_a_key_error():
    with pytest.raises(KeyError, match="reader 'z'"):
        likert_results(SMALL).wilcoxon_of("z")


## JSON


def test_as_dict_survives_a_json_round_trip_with_nan_as_none():
    one_reader = table([("a", "c1", "normgrad", 4), ("a", "c1", "gradcam", 4)])
    results = likert_results(one_reader, methods=("normgrad", "gradcam"))
    assert isinstance(results, LikertResults)
    data = results.as_dict()
    text = json.dumps(data, allow_nan=False)  # fails on a NaN left behind
    assert json.loads(text) == data
    assert data["methods"] == ["normgrad", "gradcam"]
    assert data["readers"] == ["a"]
    summary = data["summaries"][0]
    assert summary["reader"] == "a" and summary["method"] == "normgrad"
    assert summary["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1}
    assert summary["sd"] is None  # one score
    assert summary["mean"]["value"] == 4.0 and summary["mean"]["lower"] is None
    wilcoxon = data["wilcoxon"][0]
    assert wilcoxon["p"] is None and wilcoxon["statistic"] is None  # no non-zero difference
    assert wilcoxon["median_difference"] == 0.0 and wilcoxon["zero_method"] == "pratt"
    assert data["agreement"][-1] == {
        "method": None,
        "level": "ordinal",
        "alpha": None,
        "n_readers": 1,
        "n_items": 2,
        "n_pairable_items": 0,
    }


def test_as_dict_of_a_full_study_is_json():
    data = likert_results(SMALL).as_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert set(data) == {
        "methods",
        "readers",
        "confidence",
        "summaries",
        "mann_whitney",
        "wilcoxon",
        "agreement",
    }
    assert set(data["mann_whitney"][0]) == {
        "reader",
        "n_first",
        "n_second",
        "u",
        "p",
        "rank_biserial",
    }


## Start-up cost


def test_importing_the_module_loads_neither_scipy_stats_nor_krippendorff():
    probe = (
        "import sys, modelops.metrics.likert; "
        "print(','.join(m for m in ('scipy.stats', 'krippendorff') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""

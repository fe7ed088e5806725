"""Reader agreement: figures match sklearn, statsmodels and krippendorff; the bootstrap resamples
scans, is seeded and vectorised; undefined statistics are NaN and empty input is refused."""

import json
import warnings

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from annotations.agreement.statistics import (
    agreement_statistics,
    agreement_table,
    as_ratings,
    fleiss_kappa,
    krippendorff_alpha,
    mean_cohen_kappa,
    pairwise_cohen_kappa,
    pairwise_percent_agreement,
    percent_agreement,
    prevalence,
    scan_ratings,
    scan_resamples,
    statistic_replicates,
)

# Three readers, four items; worked by hand in the tests below.
HAND = np.array([[1, 1, 1], [0, 0, 0], [1, 1, 0], [0, 0, 0]], dtype=float)


def random_ratings(seed: int, n_items=400, n_readers=3, prevalence=0.3, missing=0.2):
    """Correlated readers: each copies a latent truth with 85% probability."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n_items) < prevalence
    own = rng.random((n_items, n_readers)) < prevalence
    copies = rng.random((n_items, n_readers)) < 0.85
    ratings = np.where(copies, truth[:, None], own).astype(float)
    ratings[rng.random(ratings.shape) < missing] = np.nan
    return ratings


def reference_kappa(ratings, a, b):
    both = ~np.isnan(ratings[:, a]) & ~np.isnan(ratings[:, b])
    return cohen_kappa_score(ratings[both, a], ratings[both, b])


def reference_fleiss(ratings):
    complete = ratings[~np.isnan(ratings).any(axis=1)].astype(int)
    return sm_fleiss_kappa(aggregate_raters(complete, n_cat=2)[0])


def reference_alpha(ratings):
    return krippendorff.alpha(reliability_data=ratings.T, level_of_measurement="nominal")


# Point estimates against the reference libraries


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_readers", [2, 3, 5])
def test_pairwise_kappa_matches_sklearn_on_items_both_read(seed, n_readers):
    ratings = random_ratings(seed, n_readers=n_readers)

    kappa = pairwise_cohen_kappa(ratings)

    for a in range(n_readers):
        for b in range(n_readers):
            assert kappa[a, b] == pytest.approx(reference_kappa(ratings, a, b), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_fleiss_kappa_matches_statsmodels_on_complete_items(seed):
    ratings = random_ratings(seed, n_readers=4, missing=0.1)

    assert fleiss_kappa(ratings) == pytest.approx(reference_fleiss(ratings), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("missing", [0.0, 0.3, 0.6])
def test_krippendorff_alpha_matches_the_reference_with_missing_ratings(seed, missing):
    ratings = random_ratings(seed, n_readers=4, missing=missing)

    assert krippendorff_alpha(ratings) == pytest.approx(reference_alpha(ratings), abs=1e-12)


def test_mean_cohen_kappa_is_the_mean_over_reader_pairs():
    ratings = random_ratings(7, n_readers=4)
    pairs = [(a, b) for a in range(4) for b in range(a + 1, 4)]

    expected = np.mean([reference_kappa(ratings, a, b) for a, b in pairs])

    assert mean_cohen_kappa(ratings) == pytest.approx(expected, abs=1e-12)


def test_pairwise_percent_agreement_counts_items_both_read():
    ratings = random_ratings(3)

    agree = pairwise_percent_agreement(ratings)

    both = ~np.isnan(ratings[:, 0]) & ~np.isnan(ratings[:, 2])
    assert agree[0, 2] == pytest.approx(np.mean(ratings[both, 0] == ratings[both, 2]))
    assert np.diag(agree) == pytest.approx(np.ones(3))


def test_hand_worked_example():
    # Fleiss: P_bar = 10/12, p1 = 5/12, P_e = 74/144, kappa = (120 - 74) / 70 = 23/35.
    assert fleiss_kappa(HAND) == pytest.approx(23 / 35)
    assert reference_fleiss(HAND) == pytest.approx(23 / 35)
    # Krippendorff: n = 12, n0 = 7, n1 = 5, o01 = 1 (item 3: 1 * 2 / 2), alpha = 1 - 11/35.
    assert krippendorff_alpha(HAND) == pytest.approx(24 / 35)
    assert reference_alpha(HAND) == pytest.approx(24 / 35)
    assert percent_agreement(HAND) == pytest.approx(3 / 4)
    assert prevalence(HAND) == pytest.approx(5 / 12)
    # Readers 1 and 3: [[2, 0], [1, 1]], p_o = 3/4, p_e = 1/2 * 3/4 + 1/2 * 1/4 = 1/2.
    assert pairwise_cohen_kappa(HAND)[0, 2] == pytest.approx(1 / 2)


def test_two_reader_textbook_table():
    # [[4, 1], [1, 4]]: p_o = 0.8, p_e = 0.5, kappa = 0.6.
    pairs = [(0, 0)] * 4 + [(0, 1)] + [(1, 0)] + [(1, 1)] * 4

    assert pairwise_cohen_kappa(np.array(pairs))[0, 1] == pytest.approx(0.6)


def test_percent_agreement_and_prevalence_skip_missing_ratings():
    ratings = np.array([[1, 1, np.nan], [0, 1, 1], [1, np.nan, np.nan], [0, 0, 0]])

    # The third item has one rating: nothing to agree with.
    assert percent_agreement(ratings) == pytest.approx(2 / 3)
    assert prevalence(ratings) == pytest.approx(5 / 9)
    # Fleiss uses only items every reader rated: rows 2 and 4.
    assert fleiss_kappa(ratings) == pytest.approx(reference_fleiss(ratings))


def test_nan_minus_one_and_a_mask_all_mean_not_read():
    with_nan = random_ratings(11)
    with_minus_one = np.where(np.isnan(with_nan), -1, with_nan).astype(int)
    masked = np.ma.masked_array(np.nan_to_num(with_nan), mask=np.isnan(with_nan))

    for other in (with_minus_one, masked):
        np.testing.assert_array_equal(as_ratings(other), as_ratings(with_nan))
        assert krippendorff_alpha(other) == krippendorff_alpha(with_nan)


# Degenerate and empty input


def test_a_label_nobody_used_gives_nan_kappas_without_warnings():
    never = np.zeros((50, 3))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = agreement_statistics(never, np.arange(50) // 5, n_boot=50)
        kappa = pairwise_cohen_kappa(never)

    assert np.isnan(kappa).all()
    assert np.isnan(stats.fleiss_kappa.estimate) and np.isnan(stats.fleiss_kappa.ci_low)
    assert np.isnan(stats.krippendorff_alpha.estimate)
    assert np.isnan(stats.mean_cohen_kappa.estimate)
    assert stats.fleiss_kappa.n_undefined == 50
    assert stats.percent_agreement.estimate == 1.0
    assert stats.prevalence.estimate == 0.0
    assert stats.as_dict()["fleiss_kappa"]["estimate"] is None


def test_all_positive_is_undefined_too():
    always = np.ones((20, 3))

    assert np.isnan(fleiss_kappa(always))
    assert np.isnan(krippendorff_alpha(always))
    assert np.isnan(pairwise_cohen_kappa(always)[0, 1])


def test_one_reader_who_never_says_yes_gives_kappa_zero_as_sklearn():
    ratings = np.column_stack([np.zeros(10), [0, 1] * 5])

    assert pairwise_cohen_kappa(ratings)[0, 1] == 0.0 == reference_kappa(ratings, 0, 1)
    # The diagonal is undefined for the reader who used one value only.
    assert np.isnan(pairwise_cohen_kappa(ratings)[0, 0])
    assert pairwise_cohen_kappa(ratings)[1, 1] == 1.0


def test_readers_who_share_no_item_have_no_kappa():
    ratings = np.array([[1, np.nan], [0, np.nan], [np.nan, 1], [np.nan, 0]])

    assert np.isnan(pairwise_cohen_kappa(ratings)[0, 1])
    assert np.isnan(percent_agreement(ratings))
    assert np.isnan(krippendorff_alpha(ratings))
    assert prevalence(ratings) == 0.5


@pytest.mark.parametrize(
    ("ratings", "message"),
    [
        (np.zeros((0, 3)), "no items"),
        (np.full((4, 3), np.nan), "no item has a rating"),
        (np.zeros((4, 1)), "2 to 10 readers"),
        (np.zeros(4), "2-D"),
        (np.array([[0, 2], [1, 1]]), "0, 1 or missing"),
    ],
)
def test_empty_or_malformed_ratings_are_refused(ratings, message):
    with pytest.raises(ValueError, match=message):
        agreement_statistics(ratings, n_boot=10)


def test_no_bootstrap_gives_point_estimates_with_nan_intervals():
    stats = agreement_statistics(HAND, n_boot=0)

    assert stats.fleiss_kappa.estimate == pytest.approx(23 / 35)
    assert np.isnan(stats.fleiss_kappa.ci_low) and np.isnan(stats.fleiss_kappa.ci_high)


def test_the_confidence_level_must_lie_between_zero_and_one():
    with pytest.raises(ValueError, match="ci_level"):
        agreement_statistics(HAND, n_boot=10, ci_level=95)


def test_groups_must_name_one_scan_per_item():
    with pytest.raises(ValueError, match="one scan id per item"):
        agreement_statistics(np.zeros((4, 2)), np.array([1, 2, 3]), n_boot=10)


def test_agreement_table_refuses_no_labels_and_mismatched_shapes():
    with pytest.raises(ValueError, match="no labels"):
        agreement_table({}, np.arange(3), ["a", "b"])
    with pytest.raises(ValueError, match="label 'iph'"):
        agreement_table(
            {"any": np.zeros((3, 2)), "iph": np.zeros((4, 2))}, np.arange(3), ["a", "b"]
        )
    with pytest.raises(ValueError, match="3 reader names for 2"):
        agreement_table({"any": np.zeros((3, 2))}, np.arange(3), ["a", "b", "c"])


# Scan level


def test_a_scan_is_positive_for_a_reader_if_any_slice_is():
    slices = np.array(
        [
            [0, 0, np.nan],  # scan "b"
            [1, 0, np.nan],  # scan "a"
            [0, 0, np.nan],  # scan "b"
            [0, np.nan, np.nan],  # scan "a": reader 2 skipped this slice
            [0, 1, np.nan],  # scan "b"
        ]
    )

    ratings, ids = scan_ratings(slices, np.array(["b", "a", "b", "a", "b"]))

    assert ids.tolist() == ["a", "b"]
    # Reader 3 read neither scan: missing, not negative.
    np.testing.assert_array_equal(ratings, [[1, 0, np.nan], [0, 1, np.nan]])


def test_scan_ratings_match_a_loop_on_random_slices():
    rng = np.random.default_rng(5)
    slices = random_ratings(5, n_items=600, prevalence=0.05)
    groups = rng.integers(100, 160, size=600)

    ratings, ids = scan_ratings(slices, groups)

    for row, scan in zip(ratings, ids, strict=True):
        of_scan = slices[groups == scan]
        for reader in range(3):
            given = of_scan[:, reader][~np.isnan(of_scan[:, reader])]
            expected = given.max() if given.size else np.nan
            np.testing.assert_equal(row[reader], expected)


# Bootstrap


def clustered(seed: int, n_scans=120):
    """Slices of a scan share their ratings, as neighbouring slices tend to."""
    per_scan = random_ratings(seed, n_items=n_scans, missing=0.05)
    sizes = np.random.default_rng(seed).integers(5, 30, size=n_scans)
    groups = np.repeat(np.arange(n_scans) * 7 + 3, sizes)
    return np.repeat(per_scan, sizes, axis=0), groups


def test_bootstrap_is_deterministic_for_a_seed():
    ratings, groups = clustered(1)

    first = agreement_statistics(ratings, groups, n_boot=200, seed=42).as_dict()
    again = agreement_statistics(ratings, groups, n_boot=200, seed=42).as_dict()
    other = agreement_statistics(ratings, groups, n_boot=200, seed=43).as_dict()

    assert first == again
    assert first["fleiss_kappa"]["ci_low"] != other["fleiss_kappa"]["ci_low"]
    assert first["fleiss_kappa"]["estimate"] == other["fleiss_kappa"]["estimate"]


def test_the_interval_contains_the_estimate():
    ratings, groups = clustered(2)

    stats = agreement_statistics(ratings, groups, n_boot=500, seed=0)

    estimates = [
        stats.fleiss_kappa,
        stats.krippendorff_alpha,
        stats.percent_agreement,
        stats.prevalence,
        stats.mean_cohen_kappa,
        *(pair.cohen_kappa for pair in stats.pairwise),
        *(pair.percent_agreement for pair in stats.pairwise),
    ]
    for estimate in estimates:
        assert estimate.ci_low < estimate.estimate < estimate.ci_high
        assert estimate.n_undefined == 0


def test_each_replicate_equals_the_statistic_on_the_resampled_scans():
    ratings, groups = clustered(3, n_scans=60)
    scan_ids = np.unique(groups)
    resamples = scan_resamples(len(scan_ids), n_boot=4, seed=9)

    replicates = statistic_replicates(ratings, groups, resamples)

    for i, drawn in enumerate(resamples):
        resampled = np.concatenate([ratings[groups == scan_ids[s]] for s in drawn])
        assert replicates["fleiss_kappa"][i] == pytest.approx(reference_fleiss(resampled))
        assert replicates["krippendorff_alpha"][i] == pytest.approx(reference_alpha(resampled))
        assert replicates["pairwise_kappa"][i, 0, 1] == pytest.approx(
            reference_kappa(resampled, 0, 1)
        )


def test_resampling_scans_widens_the_interval_over_resampling_slices():
    ratings, groups = clustered(4)

    by_scan = agreement_statistics(ratings, groups, n_boot=300, seed=0).fleiss_kappa
    by_slice = agreement_statistics(ratings, None, n_boot=300, seed=0).fleiss_kappa

    assert by_scan.estimate == pytest.approx(by_slice.estimate)
    assert by_scan.ci_high - by_scan.ci_low > 2 * (by_slice.ci_high - by_slice.ci_low)


# The table


def test_agreement_table_gives_every_label_at_both_levels():
    rng = np.random.default_rng(8)
    ratings, groups = clustered(5)
    labels = {
        "any": ratings,
        "iph": np.where(rng.random(ratings.shape) < 0.5, ratings, 0),
        "edh": np.zeros_like(ratings),  # nobody saw one
    }
    readers = ["primary", "cross_1", "cross_2"]

    rows = agreement_table(labels, groups, readers, n_boot=100, seed=6)

    assert [(row.label, row.level) for row in rows] == [
        (label, level) for label in labels for level in ("slice", "scan")
    ]
    slice_any, scan_any = rows[0].statistics, rows[1].statistics
    # The same scan resamples as one label on its own with the same seed.
    assert slice_any == agreement_statistics(ratings, groups, readers=readers, n_boot=100, seed=6)
    per_scan, _ = scan_ratings(ratings, groups)
    assert scan_any == agreement_statistics(per_scan, readers=readers, n_boot=100, seed=6)
    assert scan_any.n_scans == slice_any.n_scans == len(np.unique(groups))
    assert [(p.reader_a, p.reader_b) for p in slice_any.pairwise] == [
        ("primary", "cross_1"),
        ("primary", "cross_2"),
        ("cross_1", "cross_2"),
    ]
    matrix = slice_any.pairwise_kappa_matrix()
    np.testing.assert_allclose(matrix, matrix.T)
    assert matrix[0, 1] == slice_any.pairwise[0].cohen_kappa.estimate
    assert np.isnan(rows[4].statistics.fleiss_kappa.estimate)
    # JSON-ready: NaN became None.
    json.dumps([row.as_dict() for row in rows], allow_nan=False)

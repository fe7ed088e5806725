"""Localization scores of saliency maps against lesion masks, on cases small enough to work out by
hand: pointing game with a tolerance in millimetres, energy share, deletion curve and AUC, and the
summary per method and subtype with its intervals."""

import json
import math

import numpy as np
import pytest

from modelops.metrics import (
    Estimate,
    LocalizationScore,
    curve_auc,
    deletion_auc,
    deletion_curve,
    energy_pointing_game,
    localization_summary,
    mean_ci,
    pointing_game,
    proportion_ci,
)


@pytest.fixture(autouse=True)
def data_dir():
    """Overrides the project-wide fixture: metrics need no Django settings or database."""
    return None


def peak_at(shape, *peaks):
    """A map of zeros with value 1 at each given (row, column)."""
    saliency = np.zeros(shape)
    for row, column in peaks:
        saliency[row, column] = 1.0
    return saliency


def lesion_at(shape, *pixels):
    mask = np.zeros(shape, dtype=bool)
    for row, column in pixels:
        mask[row, column] = True
    return mask


## Pointing game


def test_a_peak_inside_the_mask_hits_even_without_tolerance():
    mask = np.zeros((20, 20), dtype=bool)
    mask[5:8, 5:8] = True
    saliency = peak_at((20, 20), (6, 6))
    assert pointing_game(saliency, mask, spacing_mm=0.5)
    assert pointing_game(saliency, mask, spacing_mm=0.5, tolerance_mm=0.0)


def test_a_peak_10_mm_away_hits_with_15_mm_tolerance_and_misses_with_5():
    mask = lesion_at((30, 30), (10, 10))
    saliency = peak_at((30, 30), (10, 20))  # 10 columns of 1 mm
    assert pointing_game(saliency, mask, spacing_mm=1.0)  # 15 mm by default
    assert pointing_game(saliency, mask, spacing_mm=1.0, tolerance_mm=15.0)
    assert not pointing_game(saliency, mask, spacing_mm=1.0, tolerance_mm=5.0)


def test_the_tolerance_is_in_millimetres_on_anisotropic_pixels():
    mask = lesion_at((40, 40), (10, 10))
    rows_away = peak_at((40, 40), (15, 10))  # 5 rows of 2 mm = 10 mm
    columns_away = peak_at((40, 40), (10, 30))  # 20 columns of 0.5 mm = 10 mm
    for saliency in (rows_away, columns_away):
        assert pointing_game(saliency, mask, spacing_mm=(2.0, 0.5), tolerance_mm=15.0)
        assert not pointing_game(saliency, mask, spacing_mm=(2.0, 0.5), tolerance_mm=5.0)
    # Ten pixels of 2 mm are 20 mm: a miss at 15 mm, though within Zhang et al.'s 15 pixels.
    assert not pointing_game(columns_away, mask, spacing_mm=(2.0, 2.0), tolerance_mm=15.0)
    # Diagonal: 2 rows of 3 mm and 2 columns of 4 mm are sqrt(6^2 + 8^2) = 10 mm; the bound counts.
    diagonal = peak_at((40, 40), (12, 12))
    assert pointing_game(diagonal, mask, spacing_mm=(3.0, 4.0), tolerance_mm=10.0)
    assert not pointing_game(diagonal, mask, spacing_mm=(3.0, 4.0), tolerance_mm=9.99)


def test_the_distance_is_to_the_nearest_lesion_pixel():
    mask = np.zeros((30, 30), dtype=bool)
    mask[5:25, 5:8] = True  # a long thin lesion: its nearest pixel, not its centre, counts
    saliency = peak_at((30, 30), (24, 17))  # 10 columns right of (24, 7)
    assert pointing_game(saliency, mask, spacing_mm=1.0, tolerance_mm=10.0)
    assert not pointing_game(saliency, mask, spacing_mm=1.0, tolerance_mm=9.0)


def test_every_maximal_pixel_must_be_within_the_tolerance():
    mask = lesion_at((30, 30), (10, 10))
    one_near_one_far = peak_at((30, 30), (10, 10), (10, 29))
    both_near = peak_at((30, 30), (10, 10), (10, 12))
    assert not pointing_game(one_near_one_far, mask, spacing_mm=1.0, tolerance_mm=15.0)
    assert pointing_game(both_near, mask, spacing_mm=1.0, tolerance_mm=15.0)
    flat = np.ones((30, 30))  # a flat map points nowhere, though its maximum includes the lesion
    assert not pointing_game(flat, mask, spacing_mm=1.0)


def test_an_empty_mask_is_a_miss():
    saliency = peak_at((10, 10), (5, 5))
    assert not pointing_game(saliency, np.zeros((10, 10), dtype=bool), spacing_mm=1.0)


@pytest.mark.parametrize(
    ("saliency", "mask", "spacing", "tolerance"),
    [
        (np.zeros((4, 4, 1)), np.zeros((4, 4, 1), dtype=bool), 1.0, 15.0),
        (np.zeros((4, 4)), np.zeros((4, 5), dtype=bool), 1.0, 15.0),
        (np.full((4, 4), np.nan), np.zeros((4, 4), dtype=bool), 1.0, 15.0),
        (np.zeros((4, 4)), np.full((4, 4), 2), 1.0, 15.0),
        (np.zeros((4, 4)), np.zeros((4, 4), dtype=bool), -1.0, 15.0),
        (np.zeros((4, 4)), np.zeros((4, 4), dtype=bool), (1.0, 1.0, 1.0), 15.0),
        (np.zeros((4, 4)), np.zeros((4, 4), dtype=bool), 1.0, -1.0),
    ],
)
def test_malformed_pointing_input_is_refused(saliency, mask, spacing, tolerance):
    with pytest.raises(ValueError):
        pointing_game(saliency, mask, spacing_mm=spacing, tolerance_mm=tolerance)


## Energy-based pointing game


def test_energy_share_is_the_mass_inside_the_mask():
    saliency = np.zeros((10, 10))
    mask = np.zeros((10, 10), dtype=bool)
    mask[2:4, 2:4] = True  # 4 pixels of 1 inside
    saliency[mask] = 1.0
    saliency[8, :] = 1.0  # 10 + 2 = 12 pixels of 1 outside
    saliency[6, 0:2] = 1.0
    assert energy_pointing_game(saliency, mask) == pytest.approx(4 / 16) == 0.25


def test_negative_values_count_as_zero_and_an_all_zero_map_has_no_share():
    mask = lesion_at((4, 4), (0, 0))
    saliency = np.full((4, 4), -3.0)
    saliency[0, 0], saliency[3, 3] = 2.0, 6.0
    assert energy_pointing_game(saliency, mask) == pytest.approx(0.25)
    assert math.isnan(energy_pointing_game(np.zeros((4, 4)), mask))
    assert energy_pointing_game(np.ones((4, 4)), np.zeros((4, 4), dtype=bool)) == 0.0


## Deletion


def test_deleting_a_uniform_image_with_the_mean_as_score_gives_half():
    image = np.ones((4, 5))
    saliency = np.arange(20.0).reshape(4, 5)
    curve = deletion_curve(np.mean, image, saliency, steps=4)
    assert curve.tolist() == [1.0, 0.75, 0.5, 0.25, 0.0]  # 5 of 20 pixels per step
    assert deletion_auc(np.mean, image, saliency, steps=4) == pytest.approx(0.5)


def test_the_most_salient_pixels_are_deleted_first():
    image = np.array([[4.0, 3.0], [2.0, 1.0]])
    # Means 10/4, 6/4, 3/4, 1/4, 0; trapezoids of width 1/4 give (1.25 + 1.5 + 0.75 + 0.25) / 4.
    curve = deletion_curve(np.mean, image, image, steps=4)
    assert curve.tolist() == [2.5, 1.5, 0.75, 0.25, 0.0]
    assert deletion_auc(np.mean, image, image, steps=4) == pytest.approx(0.9375)
    assert deletion_auc(np.mean, image, -image, steps=4) == pytest.approx(
        (1.25 + 2.25 + 1.75 + 1.0 + 0.0) / 4
    )


def test_chunks_differ_by_at_most_one_pixel_and_end_fully_deleted():
    image = np.ones((2, 5))

    def deleted(stage):
        return float((stage == 7.0).sum())

    curve = deletion_curve(deleted, image, np.zeros((2, 5)), steps=4, baseline=7.0)
    assert curve.tolist() == [0.0, 2.0, 5.0, 7.0, 10.0]


def test_every_channel_is_deleted_and_a_baseline_image_is_copied_in():
    image = np.ones((3, 3, 3))
    saliency = np.arange(9.0).reshape(3, 3)
    seen = []
    deletion_curve(lambda stage: seen.append(stage) or 0.0, image, saliency, steps=3)
    assert len(seen) == 4 and np.array_equal(seen[0], image) and not seen[-1].any()
    assert seen[1][2].sum() == 0 and seen[1][:2].sum() == 18  # the salient bottom row, 3 channels
    blurred = np.full((3, 3, 3), 0.5)
    last = []
    deletion_curve(lambda stage: last.append(stage) or 0.0, image, saliency, baseline=blurred)
    assert np.array_equal(last[-1], blurred)
    assert np.array_equal(image, np.ones((3, 3, 3)))  # the caller's image is untouched


def test_a_batched_score_sees_every_stage_at_once():
    rng = np.random.default_rng(1)
    image, saliency = rng.random((6, 6)), rng.random((6, 6))
    calls = []

    def batch_mean(stack):
        calls.append(stack.shape)
        return stack.mean(axis=(1, 2))

    batched = deletion_curve(batch_mean, image, saliency, steps=6, batched=True)
    assert calls == [(7, 6, 6)]
    assert np.allclose(batched, deletion_curve(np.mean, image, saliency, steps=6))
    with pytest.raises(ValueError, match="7 numbers"):
        deletion_curve(lambda stack: [0.0], image, saliency, steps=6, batched=True)


def test_a_map_that_ranks_the_lesion_first_has_the_lower_deletion_auc():
    rng = np.random.default_rng(0)
    image = rng.uniform(0.5, 1.0, (8, 8))
    lesion = np.zeros((8, 8), dtype=bool)
    lesion[2:6, 3:7] = True  # 16 of 64 pixels: exactly the first of 4 chunks

    def lesion_mean(stage):
        return float(stage[lesion].mean())

    m = lesion_mean(image)
    good = deletion_auc(lesion_mean, image, lesion.astype(float), steps=4)
    reversed_map = deletion_auc(lesion_mean, image, 1.0 - lesion, steps=4)
    assert good == pytest.approx(m / 8)  # curve m, 0, 0, 0, 0
    assert reversed_map == pytest.approx(3.5 * m / 4)  # curve m, m, m, m, 0
    assert good < reversed_map


def test_curve_auc_is_the_trapezoid_rule_on_equal_steps():
    assert curve_auc(np.array([1.0, 0.0])) == 0.5
    assert curve_auc(np.array([1.0, 1.0, 0.0])) == 0.75
    with pytest.raises(ValueError):
        curve_auc(np.array([1.0]))


@pytest.mark.parametrize(
    ("image", "saliency", "steps", "baseline"),
    [
        (np.ones((4, 4)), np.ones((4, 5)), 4, 0.0),
        (np.ones((4,)), np.ones((4, 4)), 4, 0.0),
        (np.ones((4, 4)), np.ones((4, 4)), 0, 0.0),
        (np.ones((4, 4)), np.ones((4, 4)), 2.5, 0.0),
        (np.ones((4, 4)), np.ones((4, 4)), 4, np.zeros((3, 3))),
    ],
)
def test_malformed_deletion_input_is_refused(image, saliency, steps, baseline):
    with pytest.raises(ValueError):
        deletion_curve(np.mean, image, saliency, steps=steps, baseline=baseline)


## Means with intervals


def test_mean_ci_t_interval_by_hand():
    estimate = mean_ci([0.2, 0.4, 0.6, 0.8])
    # mean 0.5, sd sqrt(0.2 / 3), t(0.975, 3 df) = 3.182446
    half = 3.182446 * math.sqrt(0.2 / 3) / 2
    assert estimate.value == pytest.approx(0.5)
    assert (estimate.lower, estimate.upper) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-6)
    assert estimate.method == "t" and estimate.confidence == 0.95
    clipped = mean_ci([0.0, 0.0, 1.0], clip=(0.0, 1.0))
    assert clipped.lower == 0.0 and clipped.upper == 1.0 and clipped.value == pytest.approx(1 / 3)


def test_mean_ci_degenerate_samples_and_the_seeded_bootstrap():
    assert math.isnan(mean_ci([]).value)
    single = mean_ci([0.3])
    assert single.value == 0.3 and math.isnan(single.lower) and math.isnan(single.upper)
    values = [0.1, 0.5, 0.2, 0.9, 0.4]
    boot = mean_ci(values, method="bootstrap", resamples=500, seed=3)
    assert boot == mean_ci(values, method="bootstrap", resamples=500, seed=3)
    assert min(values) <= boot.lower <= boot.value <= boot.upper <= max(values)
    assert boot.method == "bootstrap-percentile(resamples=500, seed=3)"
    with pytest.raises(ValueError):
        mean_ci([0.1, math.nan])
    with pytest.raises(ValueError):
        mean_ci([0.1], method="normal")


## Summary


def test_summary_counts_and_intervals_per_method_and_subtype():
    rows = [
        LocalizationScore("normgrad", "sdh", True, 0.2, 0.30),
        LocalizationScore("normgrad", "sdh", True, 0.4, 0.20),
        LocalizationScore("normgrad", "sdh", True, 0.6, 0.10),
        LocalizationScore("normgrad", "sdh", False, 0.8, math.nan),  # deletion not run
        {"method": "normgrad", "subtype": "iph", "pointing_hit": 1, "energy_share": None,
         "deletion_auc": 0.5, "slice": "a1"},  # all-zero map: no share; extra keys ignored
        LocalizationScore("gradcam", "iph", False, 0.1, 0.6),
    ]  # fmt: skip
    summary = localization_summary(rows)

    keys = [(row.method, row.subtype) for row in summary]
    assert keys == [
        ("gradcam", "iph"),
        ("gradcam", None),
        ("normgrad", "iph"),
        ("normgrad", "sdh"),
        ("normgrad", None),
    ]
    sdh = summary[3]
    assert (sdh.n, sdh.hits, sdh.n_energy, sdh.n_deletion) == (4, 3, 4, 3)
    assert sdh.pointing_game == proportion_ci(3, 4)
    assert (sdh.pointing_game.lower, sdh.pointing_game.upper) == pytest.approx(
        (0.3006418, 0.9544127), abs=1e-6
    )  # Wilson 95% for 3 of 4
    assert sdh.energy_share == mean_ci([0.2, 0.4, 0.6, 0.8], clip=(0.0, 1.0))
    assert sdh.deletion_auc.value == pytest.approx(0.2)
    overall = summary[4]
    assert (overall.n, overall.hits, overall.n_energy, overall.n_deletion) == (5, 4, 4, 4)
    assert overall.pointing_game.value == pytest.approx(0.8)
    assert overall.deletion_auc.value == pytest.approx(0.275)
    iph = summary[2]
    assert iph.n_energy == 0 and math.isnan(iph.energy_share.value)
    assert summary[0].pointing_game.value == 0.0


def test_summary_rows_are_json_ready():
    rows = [LocalizationScore("gradcam", "edh", True, 0.5, 0.4)]
    dumped = json.loads(
        json.dumps([r.as_dict() for r in localization_summary(rows)], allow_nan=False)
    )
    assert dumped[0]["method"] == "gradcam" and dumped[0]["subtype"] == "edh"
    assert dumped[1]["subtype"] is None and dumped[1]["n"] == 1
    assert dumped[0]["pointing_game"]["value"] == 1.0
    assert dumped[0]["energy_share"] == Estimate(0.5, math.nan, math.nan, "t").as_dict()
    assert dumped[0]["energy_share"]["lower"] is None  # one map: no t interval


def test_malformed_scores_are_refused():
    with pytest.raises(ValueError):
        LocalizationScore("gradcam", "iph", 2, 0.5, 0.5)
    with pytest.raises(ValueError):
        LocalizationScore("gradcam", "iph", True, 1.5, 0.5)
    with pytest.raises(ValueError):
        LocalizationScore("gradcam", "iph", True, 0.5, math.inf)
    assert localization_summary([]) == ()


def test_the_deletion_interval_is_bounded_by_the_score_range():
    rows = [
        {"method": "m", "subtype": "iph", "pointing_hit": True, "deletion_auc": auc}
        for auc in (0.01, 0.02, 0.6)
    ]

    free = localization_summary(rows)[0].deletion_auc
    bounded = localization_summary(rows, deletion_range=(0.0, 1.0))[0].deletion_auc

    assert free.lower < 0 and bounded.lower == 0.0 and bounded.value == free.value

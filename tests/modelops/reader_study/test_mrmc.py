"""The Obuchowski-Rockette MRMC analysis on the Van Dyke data, against published output.

Expected figures are those printed by OR-DBM MRMC 2.51 (Schartz, Hillis, Pesce, Berbaum; trapezoidal
AUC, jackknife covariances) for this data, as shipped in RJafroc (inst/Iowa/VanDyke.txt, "VanDyke
trap area jackknife anova"), and the longer digits MRMCaov prints for the same analyses (Smith &
Hillis, MRMCaov paper docs/jss/MRMCaov.tex: "Fixed readers", "Fixed cases" and the sensitivity
example). RJafroc's inst/obumrm2/ObuRoc.R gives the RRRC p-value 0.051665686. Figures without a
published value (more than two modalities, reading times) are checked against an independent
computation in the test (brute-force jackknife, SciPy's paired t-test).
"""

import csv
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from modelops.reader_study.mrmc import (
    FigureOfMerit,
    compare_reading_times,
    empirical_auc,
    jackknife_covariance,
    or_analysis,
    sensitivity,
    specificity,
)

DATA = Path(__file__).with_name("vandyke.csv")


@pytest.fixture(autouse=True)
def data_dir():
    """Overrides the project-wide fixture: these tests need no Django settings or database."""
    return None


@pytest.fixture(autouse=True)
def auth_failures_cleared():
    """Overrides the project-wide fixture: no cache is involved."""
    return None


@pytest.fixture(scope="module")
def vandyke() -> tuple[np.ndarray, np.ndarray]:
    ratings = np.zeros((2, 5, 114))
    truth = np.zeros(114, dtype=bool)
    with DATA.open() as f:
        for row in csv.DictReader(f):
            case = int(row["case"]) - 1
            ratings[int(row["treatment"]) - 1, int(row["reader"]) - 1, case] = float(row["rating"])
            truth[case] = row["truth"] == "1"
    return ratings, truth


@pytest.fixture(scope="module")
def result(vandyke):
    return or_analysis(*vandyke)


def test_reader_aucs_means_and_mean_squares(result):
    """OR-DBM MRMC: TREATMENT x READER AUC ESTIMATES, means, ANOVA table, reader ANOVAs."""
    published = [
        [0.91964573, 0.85877617, 0.90386473, 0.97310789, 0.82979066],
        [0.94782609, 0.90531401, 0.92173913, 0.99935588, 0.92995169],
    ]
    np.testing.assert_allclose(result.foms, published, atol=5e-9)
    np.testing.assert_allclose(result.means, [0.89703704, 0.94083736], atol=5e-9)
    assert result.means[0] - result.means[1] == pytest.approx(-0.04380032, abs=5e-9)
    ms = result.mean_squares
    assert (ms.t, ms.r, ms.tr) == pytest.approx((0.00479617, 0.00383620, 0.00055103), abs=5e-9)
    assert ms.r_by_modality == pytest.approx((0.00308263, 0.00130460), abs=5e-9)


def test_variance_components_and_covariances(result):
    """OR-DBM MRMC's OR components; MRMCaov (fixed readers, jackknife) for more digits."""
    c = result.covariances
    assert (c.var, c.cov1, c.cov2, c.cov3) == pytest.approx(
        (0.0008022883, 0.0003466137, 0.0003440748, 0.0002390284), abs=5e-11
    )
    assert result.var_reader == pytest.approx(0.0015349993, abs=5e-11)
    assert result.var_modality_reader == pytest.approx(0.0002004025, abs=5e-11)


def test_random_readers_random_cases(result):
    """OR-DBM MRMC Analysis 1: F 4.46, ddf 15.26, p .0517, CI (-0.08796, 0.00036); p to RJafroc's
    digits; single-treatment SE, df and CIs."""
    test = result.rrrc.test
    assert test.statistic == pytest.approx(4.46, abs=0.005)
    assert (test.df1, round(test.df2, 2)) == (1, 15.26)
    assert test.denominator == pytest.approx(0.00107626, abs=5e-9)
    assert test.p_value == pytest.approx(0.051665686, abs=5e-10)
    (diff,) = result.rrrc.differences
    assert diff.label == "1 - 2"
    assert diff.estimate == pytest.approx(-0.04380032, abs=5e-9)
    assert diff.std_err == pytest.approx(0.02075, abs=5e-6)
    assert diff.statistic == pytest.approx(-2.11, abs=0.005)
    assert (diff.ci_low, diff.ci_high) == pytest.approx((-0.08796, 0.00036), abs=5e-6)
    one, two = result.rrrc.means
    assert (one.std_err, round(one.df, 2)) == (pytest.approx(0.03317360, abs=5e-9), 12.74)
    assert (two.std_err, round(two.df, 2)) == (pytest.approx(0.02156637, abs=5e-9), 12.71)
    assert (one.ci_low, one.ci_high) == pytest.approx((0.82522360, 0.96885048), abs=5e-9)
    assert (two.ci_low, two.ci_high) == pytest.approx((0.89413783, 0.98753689), abs=5e-9)


def test_fixed_readers_random_cases(result):
    """MRMCaov "Fixed readers" (= OR-DBM MRMC Analysis 2): chi-square, z CIs, reader-specific."""
    test = result.frrc.test
    assert (test.statistic, test.df1, test.p_value) == pytest.approx(
        (5.475953, 1, 0.01927984), rel=1e-6
    )
    assert test.denominator == pytest.approx(0.0008758604, abs=5e-11)
    (diff,) = result.frrc.differences
    assert (diff.std_err, diff.ci_low, diff.ci_high) == pytest.approx(
        (0.01871748, -0.08048591, -0.00711473), abs=5e-9
    )
    assert diff.statistic == pytest.approx(-2.340075, abs=5e-7)
    assert [(m.std_err, m.ci_low, m.ci_high) for m in result.frrc.means] == [
        pytest.approx((0.02428971, 0.8494301, 0.9446440), abs=5e-8),
        pytest.approx((0.01677632, 0.9079564, 0.9737183), abs=5e-8),
    ]
    published = [  # estimate, StdErr, z, p-value per reader
        (-0.02818035, 0.02551213, -1.1045864, 0.26933885),
        (-0.04653784, 0.02630183, -1.7693768, 0.07683102),
        (-0.01787440, 0.03120965, -0.5727202, 0.56683414),
        (-0.02624799, 0.01729129, -1.5179891, 0.12901715),
        (-0.10016103, 0.04405746, -2.2734182, 0.02300099),
    ]
    got = [(d.estimate, d.std_err, d.statistic, d.p_value) for d in result.frrc.reader_differences]
    np.testing.assert_allclose(got, published, atol=5e-8)
    assert result.frrc.reader_differences[4].label == "reader 5: 1 - 2"


def test_random_readers_fixed_cases(result):
    """MRMCaov "Fixed cases" (= OR-DBM MRMC Analysis 3): F(1, 4) = 8.704, p .04195875."""
    test = result.rrfc.test
    assert (test.statistic, test.df1, test.df2) == (pytest.approx(8.704, abs=5e-4), 1, 4)
    assert test.p_value == pytest.approx(0.04195875, abs=5e-9)
    (diff,) = result.rrfc.differences
    assert (diff.df, diff.std_err, diff.ci_low, diff.ci_high) == (
        4,
        pytest.approx(0.01484629, abs=5e-9),
        pytest.approx(-0.08502022, abs=5e-9),
        pytest.approx(-0.00258042, abs=5e-9),
    )
    assert [(m.std_err, m.ci_low, m.ci_high) for m in result.rrfc.means] == [
        pytest.approx((0.02482994, 0.8280981, 0.9659760), abs=5e-8),
        pytest.approx((0.01615303, 0.8959894, 0.9856854), abs=5e-8),
    ]


def test_sensitivity_at_a_threshold_and_from_binary_calls(vandyke):
    """MRMCaov's binary_sens example (calls: rating >= 3). Reader sensitivities, means, MS(T),
    MS(T:R) and the fixed-case analysis are as printed. Its covariances were jackknifed over the
    45 positive cases only (a negative cannot change a sensitivity), ours over all 114 as for any
    FOM: the pseudo-values are the same, so the two differ by exactly (113/114) / (44/45)."""
    ratings, truth = vandyke
    published_foms = [[0.889, 0.778, 0.822, 0.933, 0.689], [0.978, 0.822, 0.911, 1, 0.889]]
    by_threshold = or_analysis(ratings, truth, sensitivity(3))
    from_calls = or_analysis(ratings >= 3, truth, sensitivity())
    for result in (by_threshold, from_calls):
        np.testing.assert_allclose(result.foms, published_foms, atol=5e-4)
        np.testing.assert_allclose(result.means, [0.8222222, 0.92], atol=5e-8)
        ms = result.mean_squares
        assert (ms.t, ms.tr) == pytest.approx((0.02390123, 0.001802469), abs=5e-9)
        c = result.covariances
        scale = (113 / 114) / (44 / 45)
        assert (c.var, c.cov1, c.cov2, c.cov3) == pytest.approx(
            tuple(scale * v for v in (0.0023681257, 0.0009943883, 0.0010145903, 0.0006604938)),
            abs=5e-11,
        )
    assert by_threshold.rrrc == from_calls.rrrc


def test_specificity_and_the_generic_jackknife(vandyke):
    """Specificity has no published analysis of this data: checked against its definition, and
    the closed-form AUC jackknife against recomputing the AUC without each case."""
    ratings, truth = vandyke
    spec = or_analysis(ratings, truth, specificity(3))
    expected = (ratings[..., ~truth] < 3).mean(axis=-1)
    np.testing.assert_allclose(spec.foms, expected)
    brute = FigureOfMerit("auc", empirical_auc.value)  # no closed form: recomputes per case
    np.testing.assert_allclose(
        jackknife_covariance(brute, ratings, truth),
        jackknife_covariance(empirical_auc, ratings, truth),
        atol=1e-15,
    )


def test_empirical_auc_is_the_mann_whitney_statistic():
    rng = np.random.default_rng(3)
    truth = rng.random(60) < 0.4
    ratings = rng.integers(1, 6, size=(3, 60)).astype(float)  # many ties
    pairs = ratings[:, truth][:, :, None] - ratings[:, ~truth][:, None, :]
    by_pairs = ((pairs > 0) + 0.5 * (pairs == 0)).mean(axis=(1, 2))
    np.testing.assert_allclose(empirical_auc.value(ratings, truth), by_pairs)


def test_three_modalities_against_a_direct_computation():
    """No published three-modality analysis: the RRRC F, ddf and pairwise CIs against the
    formulas of Hillis (2007) evaluated here from a brute-force jackknife."""
    rng = np.random.default_rng(7)
    truth = np.arange(80) < 30
    signal = np.where(truth, 1.0, 0.0)
    ratings = np.stack([signal * shift + rng.normal(size=(4, 80)) for shift in (0.8, 1.2, 1.4)])
    result = or_analysis(ratings, truth)
    t, r, c = 3, 4, 80
    auc = lambda x, y: empirical_auc.value(x, y)  # noqa: E731
    foms = auc(ratings, truth)
    pseudo = np.stack([auc(np.delete(ratings, k, axis=2), np.delete(truth, k)) for k in range(c)])
    dev = pseudo - pseudo.mean(axis=0)
    cov = np.einsum("kab,kcd->abcd", dev, dev) * (c - 1) / c
    cov2 = np.mean(
        [cov[i, j, i, k] for i in range(t) for j in range(r) for k in range(r) if j != k]
    )
    cov3 = np.mean(
        [
            cov[i, j, h, k]
            for i in range(t)
            for h in range(t)
            for j in range(r)
            for k in range(r)
            if i != h and j != k
        ]
    )
    means = foms.mean(axis=1)
    ms_t = r * means.var(ddof=1)
    inter = foms - means[:, None] - foms.mean(axis=0) + foms.mean()
    ms_tr = (inter**2).sum() / ((t - 1) * (r - 1))
    den = ms_tr + r * max(cov2 - cov3, 0)
    ddf = den**2 / (ms_tr**2 / ((t - 1) * (r - 1)))
    assert result.rrrc.test.statistic == pytest.approx(ms_t / den)
    assert (result.rrrc.test.df1, result.rrrc.test.df2) == (2, pytest.approx(ddf))
    assert result.rrrc.test.p_value == pytest.approx(stats.f.sf(ms_t / den, 2, ddf))
    for diff, (i, j) in zip(result.rrrc.differences, combinations(range(t), 2), strict=True):
        assert diff.label == f"{i + 1} - {j + 1}"
        half = stats.t.ppf(0.975, ddf) * math.sqrt(2 * den / r)
        d = means[i] - means[j]
        assert (diff.ci_low, diff.ci_high) == pytest.approx((d - half, d + half))


def test_reading_times_on_the_log_scale():
    """Paired t-test on per-reader mean log times (SciPy's ttest_rel) and the ratio of geometric
    means, exp of the mean log difference, with its t interval."""
    rng = np.random.default_rng(11)
    reader_speed = rng.normal(0, 0.3, size=6)[:, None]
    base = np.exp(4 + reader_speed + rng.normal(0, 0.5, size=(6, 40)))
    times = np.stack([base * 0.8 * np.exp(rng.normal(0, 0.2, size=(6, 40))), base])
    got = compare_reading_times(times)
    logs = np.log(times).mean(axis=-1)
    reference = stats.ttest_rel(logs[0], logs[1])
    assert (got.statistic, got.p_value, got.df) == pytest.approx(
        (reference.statistic, reference.pvalue, 5)
    )
    low, high = reference.confidence_interval()
    assert (got.ratio_ci_low, got.ratio, got.ratio_ci_high) == pytest.approx(
        (math.exp(low), math.exp((logs[0] - logs[1]).mean()), math.exp(high))
    )
    assert got.ratio_ci_low < got.ratio < got.ratio_ci_high < 1  # modality 1 is faster
    with pytest.raises(ValueError):
        compare_reading_times(np.zeros((2, 3, 4)))


def test_inputs_are_checked(vandyke):
    ratings, truth = vandyke
    with pytest.raises(ValueError, match="both positive and negative"):
        or_analysis(ratings, np.ones(114, dtype=bool))
    with pytest.raises(ValueError, match="modalities, readers, cases"):
        or_analysis(ratings[0], truth)
    with pytest.raises(ValueError, match="at least 2"):
        or_analysis(ratings[:, :1], truth)

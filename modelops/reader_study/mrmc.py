"""Multi-reader multi-case (MRMC) analysis of a reader study: Obuchowski-Rockette (OR) ANOVA.

Plain NumPy + SciPy, no Django import, so notebooks, workers and benchmarks can use it as is.

Ratings are an array shaped (modalities, readers, cases): every reader reads every case in every
modality (the factorial design). ``truth`` is (cases,) bool, True for a case with the finding.
A figure of merit (FOM: empirical AUC, sensitivity, specificity) turns a (..., cases) slice into
one value per reader and modality; the OR model compares the reader-averaged FOMs of the
modalities, with the error covariances between FOMs (same cases read) estimated by the jackknife
over cases, as the Iowa OR-DBM MRMC software does by default. Three generalisations are given:

* random readers and random cases (RRRC): F test with Hillis's (2007) denominator degrees of
  freedom, the usual primary analysis;
* fixed readers, random cases (FRRC): chi-square and z, for conclusions about these readers only;
* random readers, fixed cases (RRFC): the treatment x reader ANOVA of the FOMs alone.

Reading times are compared on the log scale: per-reader mean log time, a paired t-test over
readers and the ratio of geometric means with its CI.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from scipy import stats

Array = np.ndarray
# (..., cases) ratings and (cases,) truth -> (...) figure of merit.
FomFunction = Callable[[Array, Array], Array]


# ---------------------------------------------------------------------------------------------
# Figures of merit


@dataclass(frozen=True)
class FigureOfMerit:
    """A figure of merit with, where there is one, a closed form of its leave-one-case-out values
    (the jackknife otherwise recomputes the FOM once per case)."""

    name: str
    value: FomFunction
    # (..., cases) ratings, (cases,) truth -> (..., cases): the FOM without each case.
    leave_one_out: Callable[[Array, Array], Array] | None = None


def _placements(ratings: Array, truth: Array) -> tuple[Array, Array]:
    """Placement values (DeLong 1988) of the positives among the negatives and vice versa.

    For a positive case, the share of negatives rated lower (ties count half); for a negative,
    the share of positives rated higher. The AUC is the mean of either, which makes its
    leave-one-out values exact and cheap. Midranks give the counts without a pairwise matrix:
    a positive's rank among all cases less its rank among the positives counts the negatives
    below it, ties half.
    """
    positives, negatives = ratings[..., truth], ratings[..., ~truth]
    n_pos, n_neg = positives.shape[-1], negatives.shape[-1]
    ranks_all = stats.rankdata(ratings, axis=-1)
    v10 = (ranks_all[..., truth] - stats.rankdata(positives, axis=-1)) / n_neg
    # Positives above a negative = n_pos - (positives below + half of the tied).
    v01 = 1.0 - (ranks_all[..., ~truth] - stats.rankdata(negatives, axis=-1)) / n_pos
    return v10, v01


def _auc(ratings: Array, truth: Array) -> Array:
    """Empirical (trapezoidal) AUC = Mann-Whitney U / (n_pos n_neg), ties counting half."""
    truth = _as_truth(truth, ratings.shape[-1])
    v10, _ = _placements(np.asarray(ratings, dtype=float), truth)
    return np.asarray(v10.mean(axis=-1))


def _auc_leave_one_out(ratings: Array, truth: Array) -> Array:
    truth = _as_truth(truth, ratings.shape[-1])
    v10, v01 = _placements(np.asarray(ratings, dtype=float), truth)
    auc = v10.mean(axis=-1, keepdims=True)
    n_pos, n_neg = v10.shape[-1], v01.shape[-1]
    out = np.empty(ratings.shape, dtype=float)
    # Without positive i, the mean of the other positives' placements (which do not involve i);
    # without negative j, likewise over the negatives.
    out[..., truth] = (n_pos * auc - v10) / (n_pos - 1)
    out[..., ~truth] = (n_neg * auc - v01) / (n_neg - 1)
    return out


empirical_auc = FigureOfMerit("empirical_auc", _auc, _auc_leave_one_out)


def sensitivity(threshold: float = 0.5) -> FigureOfMerit:
    """Share of positive cases called positive, a call being a rating >= ``threshold``.

    Binary calls (0/1 or bool) work with the default threshold."""

    def value(ratings: Array, truth: Array) -> Array:
        truth = _as_truth(truth, ratings.shape[-1])
        return np.asarray((np.asarray(ratings)[..., truth] >= threshold).mean(axis=-1))

    return FigureOfMerit(f"sensitivity(>={threshold:g})", value)


def specificity(threshold: float = 0.5) -> FigureOfMerit:
    """Share of negative cases called negative (rating < ``threshold``)."""

    def value(ratings: Array, truth: Array) -> Array:
        truth = _as_truth(truth, ratings.shape[-1])
        return np.asarray((np.asarray(ratings)[..., ~truth] < threshold).mean(axis=-1))

    return FigureOfMerit(f"specificity(>={threshold:g})", value)


def _as_truth(truth: Array, n_cases: int) -> Array:
    truth = np.asarray(truth, dtype=bool)
    if truth.shape != (n_cases,):
        raise ValueError(f"truth must be ({n_cases},), got {truth.shape}")
    if truth.all() or not truth.any():
        raise ValueError("truth needs both positive and negative cases")
    return truth


def leave_one_out(fom: FigureOfMerit, ratings: Array, truth: Array) -> Array:
    """(..., cases): the FOM of each slice computed without each case in turn."""
    if fom.leave_one_out is not None:
        return fom.leave_one_out(ratings, truth)
    n_cases = ratings.shape[-1]
    keep = ~np.eye(n_cases, dtype=bool)
    return np.stack(
        [fom.value(ratings[..., keep[k]], truth[keep[k]]) for k in range(n_cases)], axis=-1
    )


def jackknife_covariance(fom: FigureOfMerit, ratings: Array, truth: Array) -> Array:
    """(t*r, t*r) jackknife covariance of the FOMs, flattened modality-major.

    cov = (c-1)/c * sum_k (theta_(k) - mean theta_(.)) (...)^T over the c cases left out.
    """
    pseudo = leave_one_out(fom, ratings, truth)
    n_cases = pseudo.shape[-1]
    flat = pseudo.reshape(-1, n_cases)
    centred = flat - flat.mean(axis=1, keepdims=True)
    return np.asarray((n_cases - 1) / n_cases * centred @ centred.T)


# ---------------------------------------------------------------------------------------------
# Obuchowski-Rockette analysis


@dataclass(frozen=True)
class Covariances:
    """OR error variance and covariances: averages over the FOM pairs that share the reader but
    not the modality (cov1), the modality but not the reader (cov2), or neither (cov3)."""

    var: float
    cov1: float
    cov2: float
    cov3: float


@dataclass(frozen=True)
class MeanSquares:
    """Two-way (modality x reader) ANOVA of the FOMs."""

    t: float
    r: float
    tr: float
    r_by_modality: tuple[float, ...]  # MS(R) of each modality alone


@dataclass(frozen=True)
class GlobalTest:
    """Test of equal modality means: F (df1, df2) or, where df2 is infinite, chi-square (df1)."""

    statistic: float
    df1: float
    df2: float
    p_value: float
    denominator: float


@dataclass(frozen=True)
class Interval:
    """An estimate (a difference of two modalities, a modality's mean, a reader's difference)
    with its standard error, degrees of freedom (inf: normal), 95% CI and two-sided test of 0."""

    label: str
    estimate: float
    std_err: float
    df: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float


@dataclass(frozen=True)
class Analysis:
    """One generalisation of the OR model (RRRC, FRRC or RRFC)."""

    test: GlobalTest
    differences: tuple[Interval, ...]
    means: tuple[Interval, ...]
    # FRRC only: each reader's own modality differences.
    reader_differences: tuple[Interval, ...] = ()


@dataclass(frozen=True)
class ORResult:
    fom: str
    foms: Array = field(repr=False)  # (modalities, readers)
    means: Array  # (modalities,)
    mean_squares: MeanSquares
    covariances: Covariances
    var_reader: float  # sigma^2_R, an ANOVA estimate that can be negative
    var_modality_reader: float  # sigma^2_TR
    rrrc: Analysis
    frrc: Analysis
    rrfc: Analysis


def or_covariances(cov: Array, n_modalities: int, n_readers: int) -> Covariances:
    """Averages the (t*r, t*r) covariance matrix over the OR pair classes."""
    t_idx = np.repeat(np.arange(n_modalities), n_readers)
    r_idx = np.tile(np.arange(n_readers), n_modalities)
    same_t = t_idx[:, None] == t_idx[None, :]
    same_r = r_idx[:, None] == r_idx[None, :]

    def mean_over(mask: Array) -> float:
        return float(cov[mask].mean()) if mask.any() else 0.0

    return Covariances(
        var=mean_over(same_t & same_r),
        cov1=mean_over(~same_t & same_r),
        cov2=mean_over(same_t & ~same_r),
        cov3=mean_over(~same_t & ~same_r),
    )


def mean_squares(foms: Array) -> MeanSquares:
    t, r = foms.shape
    grand = foms.mean()
    by_t, by_r = foms.mean(axis=1), foms.mean(axis=0)
    interaction = foms - by_t[:, None] - by_r[None, :] + grand
    return MeanSquares(
        t=float(r * ((by_t - grand) ** 2).sum() / (t - 1)),
        r=float(t * ((by_r - grand) ** 2).sum() / (r - 1)),
        tr=float((interaction**2).sum() / ((t - 1) * (r - 1))),
        r_by_modality=tuple(float(v) for v in foms.var(axis=1, ddof=1)),
    )


def _interval(label: str, estimate: float, variance: float, df: float) -> Interval:
    """Estimate +- t(.975; df) SE, with df = inf meaning the normal distribution."""
    std_err = math.sqrt(max(variance, 0.0))
    dist = stats.norm if math.isinf(df) else stats.t(df)
    quantile = float(dist.ppf(0.975))
    statistic = estimate / std_err if std_err > 0 else math.copysign(math.inf, estimate)
    p = float(2 * dist.sf(abs(statistic))) if std_err > 0 else (0.0 if estimate else 1.0)
    return Interval(
        label,
        estimate,
        std_err,
        df,
        estimate - quantile * std_err,
        estimate + quantile * std_err,
        statistic,
        p,
    )


def _f_test(ms_t: float, denominator: float, df1: float, df2: float) -> GlobalTest:
    statistic = ms_t / denominator if denominator > 0 else math.inf
    if math.isinf(df2):
        # The chi-square statistic is (t-1) F.
        statistic *= df1
        p = float(stats.chi2.sf(statistic, df1))
    else:
        p = float(stats.f.sf(statistic, df1, df2))
    return GlobalTest(statistic, df1, df2, p, denominator)


def _hillis_df(denominator: float, ms: float, df_ms: float) -> float:
    """Satterthwaite-style ddf of Hillis (2007): denominator^2 / (MS^2 / df(MS)); the
    denominator is MS plus a non-negative covariance term, so ddf >= df(MS)."""
    return math.inf if ms == 0 else denominator**2 / (ms**2 / df_ms)


def or_analysis(ratings: Array, truth: Array, fom: FigureOfMerit = empirical_auc) -> ORResult:
    """Obuchowski-Rockette analysis of (modalities, readers, cases) ratings, jackknife covariances.

    Differences are modality i minus modality j for every pair i < j, labelled "i - j" with
    modalities counted from 1, as the published analyses of the method print them.
    """
    ratings = np.asarray(ratings)
    if ratings.ndim != 3:
        raise ValueError("ratings must be (modalities, readers, cases)")
    t, r, _ = ratings.shape
    if t < 2 or r < 2:
        raise ValueError("the OR analysis needs at least 2 modalities and 2 readers")
    truth = _as_truth(truth, ratings.shape[-1])
    foms = np.asarray(fom.value(ratings, truth), dtype=float)
    cov = jackknife_covariance(fom, ratings, truth)
    c = or_covariances(cov, t, r)
    # Each modality's own cov2, for its single-modality interval.
    by_modality = [
        or_covariances(cov[i * r : (i + 1) * r, i * r : (i + 1) * r], 1, r) for i in range(t)
    ]
    ms = mean_squares(foms)
    means = foms.mean(axis=1)
    var_tr = ms.tr - c.var + c.cov1 + c.cov2 - c.cov3
    var_r = (ms.r - c.var - (t - 1) * c.cov1 + c.cov2 + (t - 1) * c.cov3 - var_tr) / t
    pairs = list(combinations(range(t), 2))

    def differences(variance: float, df: float) -> tuple[Interval, ...]:
        return tuple(
            _interval(f"{i + 1} - {j + 1}", float(means[i] - means[j]), variance, df)
            for i, j in pairs
        )

    df_tr = (t - 1) * (r - 1)
    # RRRC: cov2 - cov3 is truncated at 0 (Hillis 2007), so the test is never more liberal than
    # the fixed-case one.
    den = ms.tr + r * max(c.cov2 - c.cov3, 0.0)
    ddf = _hillis_df(den, ms.tr, df_tr)
    rrrc_means = []
    for i in range(t):
        single = ms.r_by_modality[i] + r * max(by_modality[i].cov2, 0.0)
        df_i = _hillis_df(single, ms.r_by_modality[i], r - 1)
        rrrc_means.append(_interval(str(i + 1), float(means[i]), single / r, df_i))
    rrrc = Analysis(
        _f_test(ms.t, den, t - 1, ddf), differences(2 * den / r, ddf), tuple(rrrc_means)
    )

    # FRRC: only the case sampling varies; the readers' interaction is no error.
    den_fixed = c.var - c.cov1 + (r - 1) * max(c.cov2 - c.cov3, 0.0)
    frrc_means = tuple(
        _interval(
            str(i + 1),
            float(means[i]),
            (by_modality[i].var + (r - 1) * max(by_modality[i].cov2, 0.0)) / r,
            math.inf,
        )
        for i in range(t)
    )
    reader_diffs = []
    for k in range(r):
        rows = [i * r + k for i in range(t)]
        for i, j in pairs:
            # Var(error) - Cov1 of this reader alone: 2 (Var - Cov1) for the pair's difference.
            reader_diffs.append(
                _interval(
                    f"reader {k + 1}: {i + 1} - {j + 1}",
                    float(foms[i, k] - foms[j, k]),
                    cov[rows[i], rows[i]] + cov[rows[j], rows[j]] - 2 * cov[rows[i], rows[j]],
                    math.inf,
                )
            )
    frrc = Analysis(
        _f_test(ms.t, den_fixed, t - 1, math.inf),
        differences(2 * den_fixed / r, math.inf),
        frrc_means,
        tuple(reader_diffs),
    )

    # RRFC: the cases are the population, so the FOMs carry no case error: a repeated-measures
    # ANOVA over readers.
    rrfc = Analysis(
        _f_test(ms.t, ms.tr, t - 1, df_tr),
        differences(2 * ms.tr / r, df_tr),
        tuple(
            _interval(str(i + 1), float(means[i]), ms.r_by_modality[i] / r, r - 1) for i in range(t)
        ),
    )
    return ORResult(fom.name, foms, means, ms, c, var_r, var_tr, rrrc, frrc, rrfc)


# ---------------------------------------------------------------------------------------------
# Reading time


@dataclass(frozen=True)
class ReadingTimeComparison:
    """Modality ``a`` against ``b`` on per-reader mean log reading times: a paired t-test over
    readers, and the ratio of geometric mean times (a / b) with its 95% CI."""

    a: int
    b: int
    mean_log_a: Array = field(repr=False)  # (readers,)
    mean_log_b: Array = field(repr=False)
    statistic: float
    df: int
    p_value: float
    ratio: float
    ratio_ci_low: float
    ratio_ci_high: float


def mean_log_times(times: Array) -> Array:
    """(modalities, readers): each reader's mean log time per modality. Reading times are
    right-skewed and effects on them multiplicative, so they are averaged on the log scale."""
    times = np.asarray(times, dtype=float)
    if np.any(times <= 0) or np.isnan(times).any():
        raise ValueError("reading times must be positive")
    return np.asarray(np.log(times).mean(axis=-1))


def compare_reading_times(times: Array, a: int = 0, b: int = 1) -> ReadingTimeComparison:
    """``times`` (modalities, readers, cases) in seconds; readers are the paired unit, since
    a reader's cases are not independent of each other."""
    means = mean_log_times(times)
    diff = means[a] - means[b]
    n = diff.shape[0]
    if n < 2:
        raise ValueError("the paired t-test needs at least 2 readers")
    std_err = float(diff.std(ddof=1) / math.sqrt(n))
    mean = float(diff.mean())
    t_dist = stats.t(n - 1)
    statistic = mean / std_err if std_err > 0 else math.copysign(math.inf, mean)
    p = float(2 * t_dist.sf(abs(statistic))) if std_err > 0 else (0.0 if mean else 1.0)
    half = float(t_dist.ppf(0.975)) * std_err
    return ReadingTimeComparison(
        a,
        b,
        means[a],
        means[b],
        statistic,
        n - 1,
        p,
        math.exp(mean),
        math.exp(mean - half),
        math.exp(mean + half),
    )

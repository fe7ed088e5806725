"""Inter-reader agreement of hemorrhage labels, with scan-clustered bootstrap CIs.

Plain Python + NumPy: no Django import, so workers, notebooks and benchmarks can use it as is.

Ratings are an array of shape (n_items, n_readers) holding 0/1 for one label (``any`` or one
subtype); a reader who did not read an item is NaN (or -1, or masked). Items are slices or
scans. ``groups`` gives the scan of each item, so the bootstrap resamples scans (the
independent units), not slices, which are correlated within a scan.

Every statistic here is a function of how often each rating pattern (one of 3^n_readers:
missing, 0 or 1 per reader) occurs. Per scan we count the patterns once and turn them into a
few additive sums (2x2 cells per reader pair, Fleiss and Krippendorff tallies); a bootstrap
replicate is then a weighted sum of per-scan rows, so all replicates cost one matrix product.

Undefined statistics (e.g. kappa for a label no reader ever used) are NaN, never an error.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

# The pattern table grows with 3^n_readers and the pair cells with n_readers^2; studies here
# have 3 readers (validation cross-reads) or 5 (the saliency study).
MAX_READERS = 10


Array = np.ndarray


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap percentile interval; NaN where undefined."""

    estimate: float
    ci_low: float
    ci_high: float
    # Replicates where the statistic was undefined; the interval comes from the others.
    n_undefined: int = 0


@dataclass(frozen=True)
class PairAgreement:
    """Cohen's kappa and percent agreement of two readers on the items both rated."""

    reader_a: str
    reader_b: str
    n_items: int
    cohen_kappa: Estimate
    percent_agreement: Estimate


@dataclass(frozen=True)
class AgreementStatistics:
    """All agreement statistics of one label at one level, each with a 95% CI by default."""

    readers: tuple[str, ...]
    n_items: int  # items with at least one rating
    n_complete: int  # items rated by every reader: the basis of Fleiss' kappa
    n_scans: int
    fleiss_kappa: Estimate
    krippendorff_alpha: Estimate
    percent_agreement: Estimate  # all ratings of an item agree, items with >= 2 ratings
    prevalence: Estimate  # share of positive ratings
    mean_cohen_kappa: Estimate  # mean of pairwise Cohen's kappas (Light's kappa)
    pairwise: tuple[PairAgreement, ...]
    # Symmetric reader x reader matrix for a heatmap; the diagonal is 1 unless the reader used
    # only one value (then NaN). Tuples keep the dataclass immutable and hashable.
    pairwise_kappa: tuple[tuple[float, ...], ...]
    n_boot: int
    seed: int

    def pairwise_kappa_matrix(self) -> Array:
        return np.array(self.pairwise_kappa, dtype=float)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (NaN becomes None)."""
        return _json_ready(asdict(self))


@dataclass(frozen=True)
class AgreementRow:
    """One line of the agreement table: a label at a level (slice or scan)."""

    label: str
    level: str
    statistics: AgreementStatistics

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (NaN becomes None), statistics flattened into the row."""
        return {"label": self.label, "level": self.level, **self.statistics.as_dict()}


def as_ratings(ratings: Array) -> Array:
    """Float (n_items, n_readers) array of 0/1 with NaN for missing; NaN, -1 and a mask all
    mean "not read". Raises ValueError on empty input or values other than 0/1."""
    if np.ma.isMaskedArray(ratings):
        values = np.ma.getdata(ratings).astype(float)
        values[np.ma.getmaskarray(ratings)] = np.nan
    else:
        values = np.array(ratings, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"ratings must be 2-D (items x readers), got shape {values.shape}")
    if values.shape[0] == 0:
        raise ValueError("ratings are empty: no items")
    if not 2 <= values.shape[1] <= MAX_READERS:
        raise ValueError(f"agreement needs 2 to {MAX_READERS} readers, got {values.shape[1]}")
    values[values == -1] = np.nan
    given = values[~np.isnan(values)]
    if given.size == 0:
        raise ValueError("ratings are empty: no item has a rating")
    if not np.isin(given, (0.0, 1.0)).all():
        raise ValueError("ratings must be 0, 1 or missing (NaN, -1, masked)")
    return values


@dataclass(frozen=True)
class _ScanIndex:
    ids: Array  # scan id per scan, sorted
    inverse: Array  # scan number (0..n_scans-1) per item
    order: Array  # item order that makes each scan's items contiguous
    starts: Array  # first position of each scan in that order


def _scan_index(groups: Array, n_items: int) -> _ScanIndex:
    groups = np.asarray(groups)
    if groups.shape != (n_items,):
        raise ValueError(f"groups must have one scan id per item ({n_items}), got {groups.shape}")
    if groups.dtype.kind == "f" and np.isnan(groups).any():
        raise ValueError("groups hold NaN: every item needs a scan id")
    # One stable sort gives ids, the item -> scan map and reduceat offsets together.
    order = np.argsort(groups, kind="stable")
    ordered = groups[order]
    new_scan = np.empty(n_items, dtype=bool)
    new_scan[0] = True
    new_scan[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(n_items, dtype=np.int64)
    inverse[order] = np.cumsum(new_scan) - 1
    starts = np.flatnonzero(new_scan)
    return _ScanIndex(ids=ordered[starts], inverse=inverse, order=order, starts=starts)


def _items_as_scans(n_items: int) -> _ScanIndex:
    ids = np.arange(n_items)
    return _ScanIndex(ids=ids, inverse=ids, order=ids, starts=ids)


def scan_ratings(slice_ratings: Array, groups: Array) -> tuple[Array, Array]:
    """Scan-level ratings: a reader calls a scan positive if they called any of its slices
    positive; NaN where the reader rated none of its slices. Returns (ratings, scan ids),
    scans in sorted id order."""
    ratings = as_ratings(slice_ratings)
    index = _scan_index(groups, ratings.shape[0])
    return _reduce_to_scans(ratings, index), index.ids


def _reduce_to_scans(ratings: Array, index: _ScanIndex) -> Array:
    # fmax skips NaN, so slices a reader skipped do not hide the ones they read.
    return np.fmax.reduceat(ratings[index.order], index.starts, axis=0)


# Layout of the per-pattern feature vector after the 4 * R * R pair cells.
_TAIL = (
    "fleiss_items",  # items rated by all readers
    "fleiss_pos",  # positive ratings on those items
    "fleiss_sq",  # sum of n0^2 + n1^2 on those items
    "kripp_values",  # ratings on items with >= 2 ratings (Krippendorff's n)
    "kripp_pos",  # positive ratings among them
    "kripp_disagree",  # coincidence o_01 = n0 * n1 / (m - 1)
    "pairable",  # items with >= 2 ratings
    "unanimous",  # of those, items where all ratings agree
    "ratings",  # all ratings
    "positives",  # all positive ratings
    "items",  # items with >= 1 rating
)


def _pattern_features(digits: Array) -> Array:
    """Feature rows for rating patterns; digits (K, R) are 0 missing, 1 negative, 2 positive."""
    n_readers = digits.shape[1]
    neg, pos = (digits == 1).astype(float), (digits == 2).astype(float)
    # cells[k, i, j, a, b]: pattern k has reader a at value i and reader b at value j.
    by_value = np.stack([neg, pos], axis=1)
    cells = np.einsum("kia,kjb->kijab", by_value, by_value).reshape(len(digits), -1)
    n0, n1 = neg.sum(axis=1), pos.sum(axis=1)
    m = n0 + n1
    complete = (m == n_readers).astype(float)
    pairable = (m >= 2).astype(float)
    tail = [
        complete,
        complete * n1,
        complete * (n0**2 + n1**2),
        pairable * m,
        pairable * n1,
        np.divide(n0 * n1, m - 1, out=np.zeros_like(m), where=m >= 2),
        pairable,
        pairable * ((n0 == 0) | (n1 == 0)),
        m,
        n1,
        (m >= 1).astype(float),
    ]
    return np.column_stack([cells, *tail])


def _scan_sums(ratings: Array, index: _ScanIndex) -> Array:
    """Per-scan additive sums (n_scans, n_features), via the distinct rating patterns."""
    n_readers = ratings.shape[1]
    powers = 3 ** np.arange(n_readers, dtype=np.int64)
    digits = np.where(np.isnan(ratings), 0, ratings + 1).astype(np.int64)
    codes, pattern = _distinct(digits @ powers, 3**n_readers)
    n_scans, n_patterns = len(index.starts), len(codes)
    counts = np.bincount(
        index.inverse * n_patterns + pattern, minlength=n_scans * n_patterns
    ).reshape(n_scans, n_patterns)
    pattern_digits = (codes[:, None] // powers) % 3
    return counts @ _pattern_features(pattern_digits)


def _distinct(values: Array, n_values: int) -> tuple[Array, Array]:
    """Distinct values and each item's position among them, like np.unique(return_inverse)."""
    if n_values > max(len(values), 1 << 16):
        values, inverse = np.unique(values, return_inverse=True)
        return values, inverse.ravel()
    # Few possible patterns (27 for three readers): a count table beats sorting 10^5 items.
    present = np.bincount(values, minlength=n_values) > 0
    return np.flatnonzero(present), (np.cumsum(present) - 1)[values]


def _ratio(num: Array, den: Array) -> Array:
    """num / den, NaN where den is 0 (an undefined statistic, not an error)."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den != 0)


def _statistics(sums: Array, n_readers: int) -> dict[str, Array]:
    """All statistics from summed features; sums (..., n_features), any leading shape."""
    r = n_readers
    cells = sums[..., : 4 * r * r].reshape(*sums.shape[:-1], 2, 2, r, r)
    tail = {name: sums[..., 4 * r * r + i] for i, name in enumerate(_TAIL)}
    pair_items = cells.sum(axis=(-4, -3))
    kappa = _cohen_kappa(cells)
    return {
        "pair_items": pair_items,
        "pairwise_kappa": kappa,
        "pairwise_agreement": _ratio(cells[..., 0, 0, :, :] + cells[..., 1, 1, :, :], pair_items),
        "mean_cohen_kappa": _mean_pairwise(kappa),
        "fleiss_kappa": _fleiss_kappa(tail, r),
        "krippendorff_alpha": _krippendorff_alpha(tail),
        "percent_agreement": _ratio(tail["unanimous"], tail["pairable"]),
        "prevalence": _ratio(tail["positives"], tail["ratings"]),
        "items": tail["items"],
        "complete": tail["fleiss_items"],
    }


def _cohen_kappa(cells: Array) -> Array:
    # Closed form for a 2x2 table [[a, b], [c, d]]: 2(ad - bc) / ((a+b)(b+d) + (a+c)(c+d)).
    # Counts are whole numbers, so the denominator is exactly 0 when kappa is undefined
    # (both readers used one and the same value, or no shared items).
    a, b = cells[..., 0, 0, :, :], cells[..., 0, 1, :, :]
    c, d = cells[..., 1, 0, :, :], cells[..., 1, 1, :, :]
    return _ratio(2 * (a * d - b * c), (a + b) * (b + d) + (a + c) * (c + d))


def _fleiss_kappa(tail: dict[str, Array], r: int) -> Array:
    n, pos, sq = tail["fleiss_items"], tail["fleiss_pos"], tail["fleiss_sq"]
    ratings = n * r
    p_bar = _ratio(sq - ratings, ratings * (r - 1))
    p1 = _ratio(pos, ratings)
    p_e = p1**2 + (1 - p1) ** 2
    # 1 - P_e = 2 p0 p1, zero exactly when all complete ratings share one value.
    return _ratio(p_bar - p_e, np.where(pos * (ratings - pos) > 0, 1 - p_e, 0.0))


def _krippendorff_alpha(tail: dict[str, Array]) -> Array:
    # Nominal, two values: alpha = 1 - (n - 1) o_01 / (n_0 n_1), with o_01 the off-diagonal
    # coincidence count and n_c the value totals over items with >= 2 ratings.
    n, n1, o01 = tail["kripp_values"], tail["kripp_pos"], tail["kripp_disagree"]
    return 1 - _ratio((n - 1) * o01, (n - n1) * n1)


def _mean_pairwise(matrix: Array) -> Array:
    """Mean over reader pairs a < b, skipping undefined pairs; NaN if none is defined."""
    upper = np.triu_indices(matrix.shape[-1], k=1)
    values = matrix[..., upper[0], upper[1]]
    defined = ~np.isnan(values)
    return _ratio(np.where(defined, values, 0).sum(axis=-1), defined.sum(axis=-1))


def _point(ratings: Array) -> dict[str, Array]:
    ratings = as_ratings(ratings)
    sums = _scan_sums(ratings, _items_as_scans(len(ratings))).sum(axis=0)
    return _statistics(sums, ratings.shape[1])


def pairwise_cohen_kappa(ratings: Array) -> Array:
    """Cohen's kappa of every reader pair on the items both rated, (n_readers, n_readers)."""
    return _point(ratings)["pairwise_kappa"]


def pairwise_percent_agreement(ratings: Array) -> Array:
    """Share of items both readers rated on which they agree, (n_readers, n_readers)."""
    return _point(ratings)["pairwise_agreement"]


def mean_cohen_kappa(ratings: Array) -> float:
    """Mean of the pairwise Cohen's kappas over defined pairs (Light's kappa)."""
    return float(_point(ratings)["mean_cohen_kappa"])


def fleiss_kappa(ratings: Array) -> float:
    """Fleiss' kappa over the items every reader rated."""
    return float(_point(ratings)["fleiss_kappa"])


def krippendorff_alpha(ratings: Array) -> float:
    """Krippendorff's alpha, nominal; missing ratings allowed (items with < 2 are ignored)."""
    return float(_point(ratings)["krippendorff_alpha"])


def percent_agreement(ratings: Array) -> float:
    """Share of items with at least two ratings on which all ratings agree."""
    return float(_point(ratings)["percent_agreement"])


def prevalence(ratings: Array) -> float:
    """Share of positive ratings among all given ratings."""
    return float(_point(ratings)["prevalence"])


def scan_resamples(n_scans: int, *, n_boot: int = 1000, seed: int = 0) -> Array:
    """Scan numbers drawn with replacement, (n_boot, n_scans); the same for the same seed."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_scans, size=(n_boot, n_scans))


def _resample_weights(resamples: Array, n_scans: int) -> Array:
    """How often each scan occurs in each replicate, (n_boot, n_scans)."""
    # One bincount per replicate, straight into the float array: no (n_boot x n_scans)
    # index temporaries.
    weights = np.empty((len(resamples), n_scans))
    for replicate, drawn in enumerate(resamples):
        weights[replicate] = np.bincount(drawn, minlength=n_scans)
    return weights


def statistic_replicates(
    ratings: Array, groups: Array | None, resamples: Array
) -> dict[str, Array]:
    """Every statistic on every bootstrap replicate, each with a leading n_boot axis.
    ``resamples`` come from ``scan_resamples``; groups None means each item is its own scan."""
    ratings = as_ratings(ratings)
    index = _scan_index_for(groups, len(ratings))
    weights = _resample_weights(resamples, len(index.starts))
    return _statistics(weights @ _scan_sums(ratings, index), ratings.shape[1])


def _scan_index_for(groups: Array | None, n_items: int) -> _ScanIndex:
    return _items_as_scans(n_items) if groups is None else _scan_index(groups, n_items)


def _estimates(point: Array, replicates: Array, ci_level: float) -> list[Estimate]:
    """Percentile intervals, one Estimate per element of ``point`` (flattened)."""
    if not 0 < ci_level < 1:
        raise ValueError(f"ci_level must lie between 0 and 1, got {ci_level}")
    point = np.ravel(point)
    replicates = replicates.reshape(len(replicates), point.size)
    tail = 50 * (1 - ci_level)
    with warnings.catch_warnings():
        # All-NaN columns (an undefined statistic) give NaN bounds, which is what we want.
        warnings.simplefilter("ignore", RuntimeWarning)
        if len(replicates):
            low, high = np.nanpercentile(replicates, [tail, 100 - tail], axis=0)
        else:
            low = high = np.full(point.shape, np.nan)
    undefined = np.isnan(replicates).sum(axis=0)
    return [
        Estimate(float(p), float(lo), float(hi), int(u))
        for p, lo, hi, u in zip(point, low, high, undefined, strict=True)
    ]


def agreement_statistics(
    ratings: Array,
    groups: Array | None = None,
    *,
    readers: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    ci_level: float = 0.95,
) -> AgreementStatistics:
    """All statistics of one label with percentile bootstrap CIs over scans (``groups``;
    None: each item is a scan). ``readers`` names the columns (default "0", "1", ...)."""
    ratings = as_ratings(ratings)
    index = _scan_index_for(groups, len(ratings))
    resamples = scan_resamples(len(index.starts), n_boot=n_boot, seed=seed)
    weights = _resample_weights(resamples, len(index.starts))
    return _summarise(ratings, index, weights, _reader_names(readers, ratings), seed, ci_level)


def _reader_names(readers: Sequence[str] | None, ratings: Array) -> tuple[str, ...]:
    n_readers = ratings.shape[1]
    names = tuple(str(r) for r in (range(n_readers) if readers is None else readers))
    if len(names) != n_readers:
        raise ValueError(f"{len(names)} reader names for {n_readers} rating columns")
    return names


def _summarise(
    ratings: Array,
    index: _ScanIndex,
    weights: Array,
    readers: tuple[str, ...],
    seed: int,
    ci_level: float,
) -> AgreementStatistics:
    scan_sums = _scan_sums(ratings, index)
    point = _statistics(scan_sums.sum(axis=0), len(readers))
    boot = _statistics(weights @ scan_sums, len(readers))
    scalars = (
        "fleiss_kappa",
        "krippendorff_alpha",
        "percent_agreement",
        "prevalence",
        "mean_cohen_kappa",
    )
    return AgreementStatistics(
        readers=readers,
        n_items=int(point["items"]),
        n_complete=int(point["complete"]),
        n_scans=len(index.starts),
        pairwise=_pair_agreements(point, boot, readers, ci_level),
        pairwise_kappa=tuple(tuple(float(v) for v in row) for row in point["pairwise_kappa"]),
        n_boot=len(weights),
        seed=seed,
        **{name: _estimates(point[name], boot[name], ci_level)[0] for name in scalars},
    )


def _pair_agreements(
    point: dict[str, Array], boot: dict[str, Array], readers: tuple[str, ...], ci_level: float
) -> tuple[PairAgreement, ...]:
    r = len(readers)
    kappa = _estimates(point["pairwise_kappa"], boot["pairwise_kappa"], ci_level)
    agree = _estimates(point["pairwise_agreement"], boot["pairwise_agreement"], ci_level)
    return tuple(
        PairAgreement(
            reader_a=readers[a],
            reader_b=readers[b],
            n_items=int(point["pair_items"][a, b]),
            cohen_kappa=kappa[a * r + b],
            percent_agreement=agree[a * r + b],
        )
        for a in range(r)
        for b in range(a + 1, r)
    )


def agreement_table(
    slice_ratings: Mapping[str, Array],
    groups: Array,
    readers: Sequence[str],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    ci_level: float = 0.95,
) -> list[AgreementRow]:
    """Agreement per label (e.g. any, iph, ivh, sah, sdh, edh) at slice and scan level.

    ``slice_ratings`` maps each label to (n_slices, n_readers) ratings in the same slice order;
    ``groups`` is the scan id of each slice. All rows share one set of scan resamples, so
    their intervals come from the same replicates (paired across labels and levels).
    """
    if not slice_ratings:
        raise ValueError("no labels given")
    first = as_ratings(next(iter(slice_ratings.values())))
    index = _scan_index(groups, len(first))
    names = _reader_names(readers, first)
    resamples = scan_resamples(len(index.starts), n_boot=n_boot, seed=seed)
    weights = _resample_weights(resamples, len(index.starts))
    scan_level = _items_as_scans(len(index.starts))
    rows = []
    for label, values in slice_ratings.items():
        ratings = as_ratings(values)
        if ratings.shape != first.shape:
            raise ValueError(f"label {label!r}: shape {ratings.shape}, expected {first.shape}")
        per_scan = _reduce_to_scans(ratings, index)
        for level, level_ratings, level_index in (
            ("slice", ratings, index),
            ("scan", per_scan, scan_level),
        ):
            stats = _summarise(level_ratings, level_index, weights, names, seed, ci_level)
            rows.append(AgreementRow(label=label, level=level, statistics=stats))
    return rows


def _json_ready(value: object) -> object:
    """Lists for tuples, None for NaN (JSON has no NaN), recursively."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_json_ready(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value

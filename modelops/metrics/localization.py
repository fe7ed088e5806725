"""Objective localization of saliency maps: does a map point at the hemorrhage?

Each figure compares one saliency map (rows, columns) of one slice with that slice's lesion mask of
the same grid (for phantoms, `annotations.phantoms.load_lesion_masks`):

- `pointing_game`: the map's maximum lies in the lesion, or within a tolerance of it (Zhang et al.,
  "Top-down neural attention by excitation backprop", ECCV 2016 and IJCV 2018). They allow 15
  pixels; pixel sizes differ between scans, so the tolerance here is in millimetres.
- `energy_pointing_game`: the share of the map's mass that falls in the lesion (Wang et al.,
  "Score-CAM: score-weighted visual explanations for convolutional neural networks", CVPR
  Workshops 2020, where it is computed inside the bounding box; here inside the mask itself).
- `deletion_curve` / `deletion_auc`: the model's score as the most salient pixels are deleted
  first (Petsiuk et al., "RISE: randomized input sampling for explanation of black-box models",
  BMVC 2018); a map that finds what the model uses makes the score fall fast: lower is better.
  Needs no mask, only the model's score.
- `localization_summary`: per method and subtype, and per method overall, the pointing-game
  accuracy (Wilson interval), the mean energy share and the mean deletion AUC (`mean_ci`).

Score a slice against a mask only where the slice is positive for that subtype: an empty mask
gives a miss and a zero share, which would count a negative slice as a failure of the map.
SciPy (the distance transform, the t quantile) is imported inside the functions that use it, so
importing this module costs NumPy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotations.vocabulary import HEMORRHAGE_CLASSES
from modelops.metrics.estimates import (
    BOOTSTRAP,
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    WILSON,
    Estimate,
    _check_confidence,
    _nan_estimate,
)
from modelops.metrics.proportions import proportion_ci

T_INTERVAL = "t"
MEAN_METHODS = (T_INTERVAL, BOOTSTRAP)
DEFAULT_TOLERANCE_MM = 15.0
DEFAULT_DELETION_STEPS = 20

## Inputs


def _saliency(saliency: np.ndarray) -> np.ndarray:
    values = np.asarray(saliency, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"saliency must be two-dimensional (rows, columns), got {values.shape}")
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError("saliency must be non-empty and finite")
    return values


def _mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(mask)
    if array.shape != shape:
        raise ValueError(f"mask and saliency differ in shape: {array.shape} vs {shape}")
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise ValueError("mask must be boolean (or hold only 0 and 1)")
    return array.astype(bool)


def _spacing(spacing_mm: float | tuple[float, float]) -> tuple[float, float]:
    pair = np.asarray(spacing_mm, dtype=float)
    if pair.shape not in ((), (2,)) or not (np.isfinite(pair).all() and (pair > 0).all()):
        raise ValueError(
            f"spacing_mm must be positive: one number or (row, column), got {spacing_mm!r}"
        )
    row_mm, column_mm = np.broadcast_to(pair, (2,))  # one number: square pixels
    return float(row_mm), float(column_mm)


## Pointing game


def pointing_game(
    saliency: np.ndarray,
    mask: np.ndarray,
    *,
    spacing_mm: float | tuple[float, float],
    tolerance_mm: float = DEFAULT_TOLERANCE_MM,
) -> bool:
    """A hit when the map's maximum lies in the mask or within `tolerance_mm` of it.

    Zhang et al. (ECCV 2016, IJCV 2018) count a hit when the maximum falls within 15 pixels of the
    annotated region; the tolerance here is in millimetres, measured between pixel centres with
    `spacing_mm` (the size of a pixel of the map's grid: one number, or (row, column) for
    anisotropic pixels). When several pixels share the maximum, all of them must be within the
    tolerance: a flat or saturated map cannot hit by a tie that includes the lesion. An empty mask
    gives a miss (no pixel is within any distance of nothing).
    """
    values = _saliency(saliency)
    lesion = _mask(mask, values.shape)
    rows_mm, columns_mm = _spacing(spacing_mm)
    if not math.isfinite(tolerance_mm) or tolerance_mm < 0:
        raise ValueError(f"tolerance_mm must be a non-negative number, got {tolerance_mm}")
    if not lesion.any():
        return False
    peak = values == values.max()
    if lesion[peak].all():  # no distances needed
        return True
    if tolerance_mm == 0:
        return False
    from scipy import ndimage  # local: the web app imports modelops.metrics and skips SciPy

    # Distance of every pixel to the nearest lesion pixel (0 inside), in millimetres.
    distance_mm = ndimage.distance_transform_edt(~lesion, sampling=(rows_mm, columns_mm))
    # A hair of slack: a distance of exactly the tolerance must not miss by rounding.
    return bool(distance_mm[peak].max() <= tolerance_mm * (1 + 1e-9))


## Energy-based pointing game


def energy_pointing_game(saliency: np.ndarray, mask: np.ndarray) -> float:
    """The share of the map's mass inside the mask: sum over the mask / sum over the map.

    Wang et al., Score-CAM (CVPR Workshops 2020), who sum inside the bounding box. The map is taken
    as non-negative: negative values count as zero (Grad-CAM's ReLU; resampling a map may undershoot
    below zero). NaN when the map has no positive mass (an all-zero map points nowhere); 0.0 for an
    empty mask.
    """
    values = np.maximum(_saliency(saliency), 0.0)
    lesion = _mask(mask, values.shape)
    total = float(values.sum())
    if total == 0:
        return math.nan
    return float(values[lesion].sum()) / total


## Deletion


def deletion_order(saliency: np.ndarray) -> np.ndarray:
    """Flat pixel indices from the most to the least salient; ties in row-major order."""
    values = _saliency(saliency)
    return np.argsort(-values.ravel(), kind="stable")


def deletion_curve(
    score: Callable[[np.ndarray], Any],
    image: np.ndarray,
    saliency: np.ndarray,
    *,
    steps: int = DEFAULT_DELETION_STEPS,
    baseline: float | np.ndarray = 0.0,
    batched: bool = False,
) -> np.ndarray:
    """The score of the image as its pixels are deleted in order of decreasing saliency.

    Petsiuk et al., RISE (BMVC 2018), deletion metric. The pixels are split into `steps` chunks of
    equal size (they differ by at most one pixel when the count does not divide), taken from the
    most salient down; a deleted pixel is set to `baseline` in every channel (a number, or an array
    of the image's shape to delete towards, say, a blurred copy). Returns `steps + 1` scores, the
    first on the intact image and the last on the fully deleted one, at the deleted fractions
    `np.linspace(0, 1, steps + 1)`.

    `image` is (rows, columns) or (rows, columns, channels) and `saliency` (rows, columns) of the
    same grid. `score` takes one image (a copy: it may keep or change it) and returns a number; with
    `batched=True` it takes all `steps + 1` images stacked on a new first axis at once and returns
    one number per image, so a model scores them in one batch.
    """
    values = _saliency(saliency)
    picture = np.asarray(image)
    if picture.ndim not in (2, 3) or picture.shape[:2] != values.shape:
        raise ValueError(
            f"image must be (rows, columns[, channels]) on the saliency's grid {values.shape}, "
            f"got {picture.shape}"
        )
    if isinstance(steps, bool) or int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    fill = np.asarray(baseline)
    if fill.ndim and fill.shape != picture.shape:
        raise ValueError(f"baseline must be a number or shaped like the image {picture.shape}")
    order = deletion_order(values)
    rows, columns = np.unravel_index(order, values.shape)
    n = order.size
    bounds = [k * n // steps for k in range(steps + 1)]  # pixels deleted after k chunks
    working = picture.copy()
    stages = [working.copy()]
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        r, c = rows[start:stop], columns[start:stop]
        working[r, c] = fill[r, c] if fill.ndim else fill
        stages.append(working.copy())
    if batched:
        scores = np.asarray(score(np.stack(stages)), dtype=float).reshape(-1)
        if scores.size != steps + 1:
            raise ValueError(f"a batched score must return {steps + 1} numbers, got {scores.size}")
        return scores
    return np.array([float(score(stage)) for stage in stages])


def curve_auc(curve: np.ndarray) -> float:
    """Trapezoid area under scores sampled at equally spaced fractions from 0 to 1."""
    values = np.asarray(curve, dtype=float)
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"a curve needs at least two points, got shape {values.shape}")
    return float((values[:-1] + values[1:]).sum() / (2 * (values.size - 1)))


def deletion_auc(
    score: Callable[[np.ndarray], Any],
    image: np.ndarray,
    saliency: np.ndarray,
    *,
    steps: int = DEFAULT_DELETION_STEPS,
    baseline: float | np.ndarray = 0.0,
    batched: bool = False,
) -> float:
    """Area under `deletion_curve` over the deleted fraction [0, 1], by the trapezoid rule.

    Petsiuk et al., RISE (BMVC 2018). Lower is better: the score falls sooner when the map ranks
    first the pixels the model relies on. In the score's units (a probability gives 0..1).
    """
    curve = deletion_curve(score, image, saliency, steps=steps, baseline=baseline, batched=batched)
    return curve_auc(curve)


## Means with intervals


def mean_ci(
    values: Iterable[float],
    *,
    method: str = T_INTERVAL,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    clip: tuple[float, float] | None = None,
) -> Estimate:
    """The mean with Student's t interval (mean +- t * sd / sqrt(n)) or a seeded percentile
    bootstrap. NaN for no values; the t bounds are NaN for one value. `clip` bounds the interval
    to a known range (a share lies in [0, 1]); it never moves the mean."""
    _check_confidence(confidence)
    if method not in MEAN_METHODS:
        raise ValueError(f"unknown mean interval {method!r}; use one of {MEAN_METHODS}")
    data = np.asarray(list(values), dtype=float)
    if data.ndim != 1 or not np.isfinite(data).all():
        raise ValueError("values must be a flat sequence of finite numbers")
    label = method
    if method == BOOTSTRAP:
        if resamples < 1:
            raise ValueError(f"resamples must be at least 1, got {resamples}")
        label = f"bootstrap-percentile(resamples={resamples}, seed={seed})"
    if data.size == 0:
        return _nan_estimate(label, confidence)
    mean = float(data.mean())
    alpha = 1 - confidence
    if method == T_INTERVAL:
        if data.size == 1:
            return Estimate(mean, math.nan, math.nan, label, confidence)
        from scipy import stats  # local: importing scipy.stats takes 1-2 s; web start-up skips it

        half = float(stats.t.ppf(1 - alpha / 2, data.size - 1)) * float(
            data.std(ddof=1) / math.sqrt(data.size)
        )
        lower, upper = mean - half, mean + half
    else:
        rng = np.random.default_rng(seed)
        replicates = rng.choice(data, (resamples, data.size)).mean(axis=1)
        lower, upper = (float(q) for q in np.quantile(replicates, [alpha / 2, 1 - alpha / 2]))
    if clip is not None:
        lower, upper = max(clip[0], lower), min(clip[1], upper)
    return Estimate(mean, lower, upper, label, confidence)


## Summary over a sample of maps


@dataclass(frozen=True)
class LocalizationScore:
    """The figures of one saliency map: made by `method` for `subtype` on one slice.

    `energy_share` and `deletion_auc` may be NaN: an all-zero map has no share, and deletion may
    be run on a subsample only; NaN values are left out of their means (see the row's counts).
    """

    method: str
    subtype: str
    pointing_hit: bool
    energy_share: float = math.nan
    deletion_auc: float = math.nan

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> LocalizationScore:
        """From a dict with these keys (others, such as a slice id, are ignored; None is NaN)."""

        def number(key: str) -> float:
            value = row.get(key)
            return math.nan if value is None else float(value)

        return cls(
            method=str(row["method"]),
            subtype=str(row["subtype"]),
            pointing_hit=row["pointing_hit"],
            energy_share=number("energy_share"),
            deletion_auc=number("deletion_auc"),
        )

    def __post_init__(self) -> None:
        hit = self.pointing_hit
        if not isinstance(hit, bool | np.bool_) and hit not in (0, 1):
            raise ValueError(f"pointing_hit must be a boolean, got {hit!r}")
        object.__setattr__(self, "pointing_hit", bool(hit))
        share = float(self.energy_share)
        if not (math.isnan(share) or 0 <= share <= 1):
            raise ValueError(f"energy_share must lie in [0, 1] or be NaN, got {share}")
        object.__setattr__(self, "energy_share", share)
        auc = float(self.deletion_auc)
        if math.isinf(auc):
            raise ValueError("deletion_auc must be finite or NaN")
        object.__setattr__(self, "deletion_auc", auc)


@dataclass(frozen=True)
class LocalizationSummaryRow:
    """The figures of one method over the maps of one subtype (`subtype` None: all its maps)."""

    method: str
    subtype: str | None
    n: int
    hits: int
    pointing_game: Estimate
    n_energy: int
    energy_share: Estimate
    n_deletion: int
    deletion_auc: Estimate

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "subtype": self.subtype,
            "n": self.n,
            "hits": self.hits,
            "pointing_game": self.pointing_game.as_dict(),
            "n_energy": self.n_energy,
            "energy_share": self.energy_share.as_dict(),
            "n_deletion": self.n_deletion,
            "deletion_auc": self.deletion_auc.as_dict(),
        }


def _subtype_key(subtype: str) -> tuple[int, str]:
    """The study's class order first (any, iph ... edh), other names after, alphabetically."""
    if subtype in HEMORRHAGE_CLASSES:
        return HEMORRHAGE_CLASSES.index(subtype), ""
    return len(HEMORRHAGE_CLASSES), subtype


def localization_summary(
    rows: Iterable[LocalizationScore | Mapping[str, Any]],
    *,
    proportion_method: str = WILSON,
    mean_method: str = T_INTERVAL,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    deletion_range: tuple[float, float] | None = None,
) -> tuple[LocalizationSummaryRow, ...]:
    """Per (method, subtype) and per method over all its maps: n, pointing-game accuracy (hits / n
    with a Wilson interval, `proportion_ci`), mean energy share and mean deletion AUC (`mean_ci`,
    Student's t by default; NaN values left out and counted apart; the deletion AUC's interval
    bounded by `deletion_range`, e.g. (0, 1) for scores that are probabilities). Methods in
    alphabetical order, each with its subtypes in the study's class order and then its overall
    row (subtype None).
    `as_dict()` of each row is JSON-ready."""
    scores = [
        r if isinstance(r, LocalizationScore) else LocalizationScore.from_mapping(r) for r in rows
    ]
    groups: dict[tuple[str, str | None], list[LocalizationScore]] = {}
    for item in scores:
        groups.setdefault((item.method, item.subtype), []).append(item)
        groups.setdefault((item.method, None), []).append(item)

    def order(key: tuple[str, str | None]) -> tuple[str, bool, tuple[int, str]]:
        method, subtype = key
        return (method, subtype is None, _subtype_key(subtype or ""))

    def mean(values: list[float], clip: tuple[float, float] | None) -> Estimate:
        return mean_ci(
            values,
            method=mean_method,
            confidence=confidence,
            resamples=resamples,
            seed=seed,
            clip=clip,
        )

    summary = []
    for key in sorted(groups, key=order):
        items = groups[key]
        hits = sum(item.pointing_hit for item in items)
        shares = [item.energy_share for item in items if not math.isnan(item.energy_share)]
        aucs = [item.deletion_auc for item in items if not math.isnan(item.deletion_auc)]
        summary.append(
            LocalizationSummaryRow(
                method=key[0],
                subtype=key[1],
                n=len(items),
                hits=hits,
                pointing_game=proportion_ci(
                    hits, len(items), method=proportion_method, confidence=confidence
                ),
                n_energy=len(shares),
                energy_share=mean(shares, (0.0, 1.0)),
                n_deletion=len(aucs),
                deletion_auc=mean(aucs, deletion_range),
            )
        )
    return tuple(summary)

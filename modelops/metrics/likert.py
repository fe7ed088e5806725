"""The statistics of a blinded Likert study of saliency maps: two methods, scored by readers.

Readers (neuroradiologists) score the saliency maps of two methods (say "normgrad" and "gradcam")
on the reference paper's 4-point scale: 4 excellent, 3 good, 2 acceptable, 1 bad (Alis et al.
2022, "Model interpretability"). Each sampled slice, a *case*, is shown once per method to each
reader, blinded to the method. The paper reports, per observer, mean +- SD per method and the
Mann-Whitney U test between the methods; `likert_results` reports that and more:

- Per reader and method, and per method over all readers (`LikertSummaryRow`): n, the mean with
  Student's t interval (`mean_ci`, bounded to the scale 1..4), the SD (ddof=1), the median and the
  count of each score 1..4 (for histograms).
- Per reader, and pooled over readers (`LikertMannWhitney`): the Mann-Whitney U test between the
  two methods' scores, as the paper does; unpaired, so it uses every score.
- Per reader, and pooled (`LikertWilcoxon`): the Wilcoxon signed-rank test on the pairs, the cases
  a reader scored under both methods; paired, so each case is compared with itself.
- Inter-observer agreement (`LikertAgreement`): Krippendorff's alpha at the ordinal level, per
  method and over all maps.

Conventions
- The two methods have a fixed order, `methods` (first, second): the `methods` argument, or the
  method names sorted. Directed figures take the first against the second: U counts the pairs
  where the first method's score is higher, the rank-biserial correlation is positive when the
  first scores higher, a paired difference is first - second.
- Mann-Whitney: `scipy.stats.mannwhitneyu`, two-sided, its defaults otherwise (`method="auto"`:
  exact when one sample has at most 8 scores and nothing ties, which Likert scores rarely allow;
  otherwise the normal approximation with tie and continuity corrections). The effect size is the
  rank-biserial correlation r = 2 U / (n1 n2) - 1 (Kerby 2014, "The simple difference formula"), in
  [-1, 1]: the share of (first, second) score pairs where the first is higher minus the share where
  it is lower, ties counting for neither. The common-language effect size is (r + 1) / 2.
- Wilcoxon: `scipy.stats.wilcoxon` on the differences first - second, two-sided, with
  `zero_method="pratt"` (Pratt 1959): a zero difference (the same score under both methods) is
  common on a 4-point scale; Pratt ranks the zeros with the others and then drops their ranks
  (scipy's normal approximation adjusts for them), where Wilcox's convention discards the zero pairs
  before ranking, so that how many pairs tie does not count at all. The p-value follows scipy's
  `method="auto"`: with tied or zero differences, as Likert scores nearly always have, all 2^n sign
  patterns up to 13 pairs and the normal approximation beyond. The statistic is scipy's: the smaller
  of the positive and negative rank sums. With no non-zero difference, statistic and p are NaN. The
  median difference is over all pairs, zeros included.
- Pooled tests put all readers' scores (or pairs) together. Each case then counts once per reader,
  and scores of one case by several readers are not independent: pooled p-values describe the
  study, the per-reader ones are the tests the paper reports.
- Krippendorff's alpha (ordinal metric, the `krippendorff` package) is computed on the reader x
  item matrix with NaN where a reader did not score the item; an item is a map, (case, method).
  Items scored by fewer than two readers carry no pairable values. NaN when no item was scored by
  two readers, and when the pairable scores do not vary at all (alpha = 1 - 0/0 is undefined);
  1 for perfect agreement on varying scores.

Input is an iterable of `LikertScore` records or mappings with the keys reader, case, method and
score. Unscored items are simply absent. Malformed input (a score other than the integers 1..4,
two scores of one reader for one case and method, a method outside `methods`) raises `ValueError`
with a message. SciPy and krippendorff are imported inside the functions that use them, so
importing this module costs NumPy only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from modelops.metrics.estimates import (
    DEFAULT_CONFIDENCE,
    Estimate,
    _check_confidence,
    _json_number,
)
from modelops.metrics.localization import T_INTERVAL, mean_ci

LIKERT_SCORES = (1, 2, 3, 4)  # 1 bad, 2 acceptable, 3 good, 4 excellent
LIKERT_LABELS = {4: "excellent", 3: "good", 2: "acceptable", 1: "bad"}
WILCOXON_ZERO_METHOD = "pratt"
AGREEMENT_LEVEL: Final = "ordinal"  # Krippendorff's metric for ranked scores

## Input


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True)
class LikertScore:
    """One reader's score of one map: the map made by `method` for `case` (a sampled slice)."""

    reader: str
    case: str
    method: str
    score: int

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> LikertScore:
        """From a dict with the keys reader, case, method and score (others are ignored)."""
        missing = [key for key in ("reader", "case", "method", "score") if key not in row]
        if missing:
            raise ValueError(f"a score record lacks {', '.join(missing)}: {dict(row)!r}")
        return cls(reader=row["reader"], case=row["case"], method=row["method"], score=row["score"])

    def __post_init__(self) -> None:
        for field in ("reader", "case", "method"):
            _name(getattr(self, field), field)
        score = self.score
        if (
            isinstance(score, bool | np.bool_)
            or not isinstance(score, int | np.integer)
            or int(score) not in LIKERT_SCORES
        ):
            raise ValueError(
                "score must be an integer from 1 to 4 (4 excellent, 3 good, 2 acceptable, "
                f"1 bad), got {score!r} from reader {self.reader!r} for case {self.case!r} "
                f"under method {self.method!r}"
            )
        object.__setattr__(self, "score", int(score))


def _records(
    scores: Iterable[LikertScore | Mapping[str, Any]],
) -> dict[tuple[str, str, str], int]:
    """(reader, case, method) -> score; refuses a second score for the same key."""
    table: dict[tuple[str, str, str], int] = {}
    for row in scores:
        if isinstance(row, LikertScore):
            record = row
        elif isinstance(row, Mapping):
            record = LikertScore.from_mapping(row)
        else:
            raise ValueError(f"a score record must be a LikertScore or a mapping, got {row!r}")
        key = (record.reader, record.case, record.method)
        if key in table:
            raise ValueError(
                f"reader {record.reader!r} scored case {record.case!r} under method "
                f"{record.method!r} more than once; keep one score per reader, case and method"
            )
        table[key] = record.score
    return table


def _methods(methods: tuple[str, str] | None, found: set[str]) -> tuple[str, str]:
    if methods is None:
        if len(found) != 2:
            raise ValueError(
                f"a Likert comparison needs exactly two methods, the scores name "
                f"{sorted(found)}; pass methods=(first, second) to choose"
            )
        first, second = sorted(found)
        return first, second
    if not isinstance(methods, tuple | list) or len(methods) != 2 or methods[0] == methods[1]:
        raise ValueError(f"methods must be two different method names, got {methods!r}")
    pair = (_name(methods[0], "a method"), _name(methods[1], "a method"))
    other = found - set(pair)
    if other:
        raise ValueError(
            f"the scores name methods outside methods={pair}: {sorted(other)}; "
            "leave their scores out"
        )
    return pair


## Results


@dataclass(frozen=True)
class LikertSummaryRow:
    """The scores of one method by one reader (`reader` None: by all readers together).

    `mean` carries Student's t interval at the study's confidence, bounded to the scale [1, 4]
    (NaN bounds for fewer than two scores); `sd` uses ddof=1 (NaN for fewer than two scores);
    `counts[k - 1]` is the number of scores k, for k = 1..4.
    """

    reader: str | None
    method: str
    n: int
    mean: Estimate
    sd: float
    median: float
    counts: tuple[int, int, int, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "reader": self.reader,
            "method": self.method,
            "n": self.n,
            "mean": self.mean.as_dict(),
            "sd": _json_number(self.sd),
            "median": _json_number(self.median),
            "counts": {str(k): c for k, c in zip(LIKERT_SCORES, self.counts, strict=True)},
        }


@dataclass(frozen=True)
class LikertMannWhitney:
    """Mann-Whitney U between the first and the second method's scores of one reader (`reader`
    None: all readers pooled). `u` is scipy's statistic for the first method: the number of
    (first, second) score pairs where the first is higher, ties counting one half; `u` lies in
    [0, n_first * n_second]. `rank_biserial` = 2 u / (n_first n_second) - 1. NaN without scores
    of both methods."""

    reader: str | None
    n_first: int
    n_second: int
    u: float
    p: float
    rank_biserial: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "reader": self.reader,
            "n_first": self.n_first,
            "n_second": self.n_second,
            "u": _json_number(self.u),
            "p": _json_number(self.p),
            "rank_biserial": _json_number(self.rank_biserial),
        }


@dataclass(frozen=True)
class LikertWilcoxon:
    """Wilcoxon signed-rank test on the differences first - second over the cases one reader
    scored under both methods (`reader` None: the pairs of all readers pooled). `n_pairs` counts
    the pairs, `n_nonzero` those whose scores differ; `statistic` is scipy's (the smaller rank
    sum, zero_method "pratt"). `statistic` and `p` are NaN when no pair differs; the median
    difference is over all pairs (NaN without pairs)."""

    reader: str | None
    n_pairs: int
    n_nonzero: int
    statistic: float
    p: float
    median_difference: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "reader": self.reader,
            "n_pairs": self.n_pairs,
            "n_nonzero": self.n_nonzero,
            "statistic": _json_number(self.statistic),
            "p": _json_number(self.p),
            "median_difference": _json_number(self.median_difference),
            "zero_method": WILCOXON_ZERO_METHOD,
        }


@dataclass(frozen=True)
class LikertAgreement:
    """Krippendorff's ordinal alpha among readers over the maps of one method (`method` None:
    over all maps of both methods). `n_items` counts the maps scored by anyone,
    `n_pairable_items` those scored by at least two readers (only they carry agreement)."""

    method: str | None
    alpha: float
    n_readers: int
    n_items: int
    n_pairable_items: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "level": AGREEMENT_LEVEL,
            "alpha": _json_number(self.alpha),
            "n_readers": self.n_readers,
            "n_items": self.n_items,
            "n_pairable_items": self.n_pairable_items,
        }


@dataclass(frozen=True)
class LikertResults:
    """All figures of one Likert study. Rows come per reader (readers sorted by name) and then
    pooled (reader None): `summaries` per reader and method in `methods` order, `mann_whitney`
    and `wilcoxon` one per reader, `agreement` per method and then over all maps (method None).
    `as_dict()` is JSON-ready: NaN becomes None."""

    methods: tuple[str, str]
    readers: tuple[str, ...]
    confidence: float
    summaries: tuple[LikertSummaryRow, ...]
    mann_whitney: tuple[LikertMannWhitney, ...]
    wilcoxon: tuple[LikertWilcoxon, ...]
    agreement: tuple[LikertAgreement, ...]

    def summary(self, method: str, reader: str | None = None) -> LikertSummaryRow:
        """The summary row of `method` for `reader` (None: all readers)."""
        return _one(
            self.summaries, f"method {method!r}, reader {reader!r}", method=method, reader=reader
        )

    def mann_whitney_of(self, reader: str | None = None) -> LikertMannWhitney:
        return _one(self.mann_whitney, f"reader {reader!r}", reader=reader)

    def wilcoxon_of(self, reader: str | None = None) -> LikertWilcoxon:
        return _one(self.wilcoxon, f"reader {reader!r}", reader=reader)

    def agreement_of(self, method: str | None = None) -> LikertAgreement:
        return _one(self.agreement, f"method {method!r}", method=method)

    def as_dict(self) -> dict[str, Any]:
        return {
            "methods": list(self.methods),
            "readers": list(self.readers),
            "confidence": self.confidence,
            "summaries": [row.as_dict() for row in self.summaries],
            "mann_whitney": [row.as_dict() for row in self.mann_whitney],
            "wilcoxon": [row.as_dict() for row in self.wilcoxon],
            "agreement": [row.as_dict() for row in self.agreement],
        }


def _one(rows: tuple[Any, ...], what: str, **match: Any) -> Any:
    for row in rows:
        if all(getattr(row, key) == value for key, value in match.items()):
            return row
    raise KeyError(f"no row for {what}")


## Figures


def _summary(
    reader: str | None, method: str, values: list[int], confidence: float
) -> LikertSummaryRow:
    data = np.asarray(values, dtype=float)
    counts = tuple(int((data == k).sum()) for k in LIKERT_SCORES)
    return LikertSummaryRow(
        reader=reader,
        method=method,
        n=len(values),
        mean=mean_ci(data, method=T_INTERVAL, confidence=confidence, clip=(1.0, 4.0)),
        sd=float(data.std(ddof=1)) if data.size > 1 else math.nan,
        median=float(np.median(data)) if data.size else math.nan,
        counts=(counts[0], counts[1], counts[2], counts[3]),
    )


def _mann_whitney(reader: str | None, first: list[int], second: list[int]) -> LikertMannWhitney:
    n1, n2 = len(first), len(second)
    if n1 == 0 or n2 == 0:
        return LikertMannWhitney(reader, n1, n2, math.nan, math.nan, math.nan)
    from scipy import stats  # local: importing scipy.stats takes 1-2 s; web start-up skips it

    result = stats.mannwhitneyu(first, second, alternative="two-sided")
    u = float(result.statistic)
    return LikertMannWhitney(reader, n1, n2, u, float(result.pvalue), 2 * u / (n1 * n2) - 1)


def _wilcoxon(reader: str | None, differences: list[int]) -> LikertWilcoxon:
    d = np.asarray(differences, dtype=float)
    nonzero = int(np.count_nonzero(d))
    median = float(np.median(d)) if d.size else math.nan
    if nonzero == 0:
        return LikertWilcoxon(reader, d.size, 0, math.nan, math.nan, median)
    from scipy import stats  # local: importing scipy.stats takes 1-2 s; web start-up skips it

    # The differences themselves (exact integers), as scipy's documentation advises over x, y.
    result = stats.wilcoxon(d, zero_method=WILCOXON_ZERO_METHOD, alternative="two-sided")
    return LikertWilcoxon(
        reader, d.size, nonzero, float(result.statistic), float(result.pvalue), median
    )


def _agreement(
    method: str | None, table: dict[tuple[str, str, str], int], readers: tuple[str, ...]
) -> LikertAgreement:
    """Krippendorff's ordinal alpha on the reader x item matrix of the maps of `method`."""
    items = sorted({(case, m) for (_, case, m) in table if method is None or m == method})
    matrix = np.full((len(readers), len(items)), np.nan)
    row = {reader: i for i, reader in enumerate(readers)}
    column = {item: j for j, item in enumerate(items)}
    for (reader, case, m), score in table.items():
        if (case, m) in column:
            matrix[row[reader], column[(case, m)]] = score
    scored = (~np.isnan(matrix)).sum(axis=0)
    pairable = int((scored >= 2).sum())
    n_readers = int((~np.isnan(matrix)).any(axis=1).sum())
    alpha = math.nan
    if pairable:
        import krippendorff  # local, as SciPy: the web app imports modelops.metrics at start-up

        with np.errstate(invalid="ignore", divide="ignore"):  # no variation: 0/0, NaN
            alpha = float(
                krippendorff.alpha(
                    reliability_data=matrix,
                    value_domain=list(LIKERT_SCORES),
                    level_of_measurement=AGREEMENT_LEVEL,
                )
            )
    return LikertAgreement(method, alpha, n_readers, len(items), pairable)


def likert_results(
    scores: Iterable[LikertScore | Mapping[str, Any]],
    *,
    methods: tuple[str, str] | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> LikertResults:
    """The figures of a Likert study comparing two saliency methods (see the module docstring).

    `scores`: `LikertScore` records or mappings (reader, case, method, score), at most one per
    (reader, case, method), scores the integers 1..4. `methods`: the two methods in the order the
    directed figures use (first vs second); by default the two method names found, sorted; every
    score must belong to one of them. `confidence`: the level of the means' t intervals.
    """
    _check_confidence(confidence)
    table = _records(scores)
    pair = _methods(methods, {method for (_, _, method) in table})
    readers = tuple(sorted({reader for (reader, _, _) in table}))
    ordered = sorted(table.items())  # by reader, case, method: a reproducible order

    def values(method: str, reader: str | None) -> list[int]:
        return [s for (r, _, m), s in ordered if m == method and reader in (None, r)]

    def differences(reader: str | None) -> list[int]:
        first, second = pair
        return [
            s - table[(r, case, second)]
            for (r, case, m), s in ordered
            if m == first and reader in (None, r) and (r, case, second) in table
        ]

    groups: tuple[str | None, ...] = (*readers, None)
    return LikertResults(
        methods=pair,
        readers=readers,
        confidence=confidence,
        summaries=tuple(
            _summary(reader, method, values(method, reader), confidence)
            for reader in groups
            for method in pair
        ),
        mann_whitney=tuple(
            _mann_whitney(reader, values(pair[0], reader), values(pair[1], reader))
            for reader in groups
        ),
        wilcoxon=tuple(_wilcoxon(reader, differences(reader)) for reader in groups),
        agreement=tuple(_agreement(method, table, readers) for method in (*pair, None)),
    )

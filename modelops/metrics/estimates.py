"""Estimates: the `Estimate` record, the method names and defaults, JSON and confidence helpers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WILSON = "wilson"
CLOPPER_PEARSON = "clopper-pearson"
PROPORTION_METHODS = (WILSON, CLOPPER_PEARSON)
DELONG = "delong"
BOOTSTRAP = "bootstrap"
AUROC_METHODS = (DELONG, BOOTSTRAP)

DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0


def _json_number(value: float) -> float | None:
    """NaN and infinities become None, so `as_dict()` output is valid JSON."""
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class Estimate:
    """A point value with its confidence interval and the method that produced the interval."""

    value: float
    lower: float
    upper: float
    method: str
    confidence: float = DEFAULT_CONFIDENCE

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": _json_number(self.value),
            "lower": _json_number(self.lower),
            "upper": _json_number(self.upper),
            "method": self.method,
            "confidence": self.confidence,
        }


def _nan_estimate(method: str, confidence: float) -> Estimate:
    return Estimate(math.nan, math.nan, math.nan, method, confidence)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")


def _z(confidence: float) -> float:
    from scipy import stats  # local: importing scipy.stats takes 1-2 s; web start-up skips it

    return float(stats.norm.ppf(1 - (1 - confidence) / 2))

"""The results of a Likert study as its page shows them: per reader and method the mean score
+- SD, the paper's Mann-Whitney U between the methods per reader, the paired Wilcoxon test, the
readers' agreement (Krippendorff's ordinal alpha) and the distribution of scores per method."""

import math

from django.db.models import Count, Q

from modelops.likert.selectors import likert_score_records
from modelops.models import LikertScore, LikertStudy, SaliencyMethod

# The paper's order: NormGrad first, so a positive difference favours it.
METHODS = (SaliencyMethod.NORMGRAD.value, SaliencyMethod.GRADCAM.value)


def likert_study_results(study: LikertStudy):
    """``modelops.metrics.likert.LikertResults`` of the scores given so far; None without any."""
    from modelops.metrics.likert import likert_results

    records = likert_score_records(study)
    return likert_results(records, methods=METHODS) if records else None


def results_context(study: LikertStudy) -> dict:
    """Everything the results page shows, formatted."""
    results = likert_study_results(study)
    context: dict = {
        "progress": _progress(study),
        "method_names": [SaliencyMethod(m).label for m in METHODS],
    }
    if results is None:
        return {**context, "has_scores": False}
    rows = [_reader_row(results, reader) for reader in (*results.readers, None)]
    return {
        **context,
        "has_scores": True,
        "rows": rows,
        "agreement": [
            {
                "label": SaliencyMethod(a.method).label if a.method else "All maps",
                "alpha": _number(a.alpha, 2),
                "items": a.n_pairable_items,
            }
            for a in results.agreement
        ],
        "histograms": [_histogram(results.summary(method), method) for method in METHODS],
    }


def _reader_row(results, reader: str | None) -> dict:
    mann_whitney, wilcoxon = results.mann_whitney_of(reader), results.wilcoxon_of(reader)
    return {
        "reader": reader or "All readers",
        "overall": reader is None,
        "cells": [_mean_sd(results.summary(method, reader)) for method in METHODS],
        "u": _number(mann_whitney.u, 1),
        "u_p": _p(mann_whitney.p),
        "rank_biserial": _number(mann_whitney.rank_biserial, 2),
        "w_pairs": wilcoxon.n_pairs,
        "w_p": _p(wilcoxon.p),
        "median_difference": _number(wilcoxon.median_difference, 1),
    }


def _mean_sd(row) -> str:
    if not row.n:
        return "—"
    sd = "" if math.isnan(row.sd) else f" ± {row.sd:.1f}"
    return f"{row.mean.value:.1f}{sd} (n={row.n})"


def _histogram(row, method: str) -> dict:
    total = sum(row.counts) or 1
    return {
        "method": SaliencyMethod(method).label,
        "bars": [
            {"score": score, "count": count, "percent": round(100 * count / total)}
            for score, count in zip((1, 2, 3, 4), row.counts, strict=True)
        ],
    }


def _progress(study: LikertStudy) -> list[dict]:
    rows = (
        LikertScore.objects.filter(study=study)
        .values("reader__username")
        .annotate(total=Count("pk"), scored=Count("pk", filter=Q(score__isnull=False)))
        .order_by("reader__username")
    )
    return [
        {"reader": r["reader__username"], "scored": r["scored"], "total": r["total"]} for r in rows
    ]


def _p(value: float) -> str:
    if math.isnan(value):
        return "—"
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


def _number(value: float, digits: int) -> str:
    return "—" if math.isnan(value) else f"{value:.{digits}f}"

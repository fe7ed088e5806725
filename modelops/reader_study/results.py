"""The results of a reader study: per reader and modality the AUC of the confidence scores,
sensitivity and specificity of the yes/no answers, reading times and ROC curves; for each aided
modality against unaided reading, the Obuchowski-Rockette analysis (``mrmc.or_analysis``) of
the AUC, sensitivity and specificity, and the reading-time comparison
(``mrmc.compare_reading_times``).

The table shows every reader's figures so far; only readers who completed every session enter
the analysis (the OR model needs every reader to have read every case in every modality).
"""

import math
from statistics import median

import numpy as np

from modelops.reader_study.models import Modality, ReaderStudy
from modelops.reader_study.selectors import answered_reads

# The analysis takes logs of reading times; an answer given within the page's first tick has
# an active time of 0 and counts as this.
MIN_TIME_S = 0.1
ROC_GRID = 101
FIGURES = ("auc", "sensitivity", "specificity")
ANALYSES = ("rrrc", "frrc", "rrfc")
ANALYSIS_NAMES = {
    "rrrc": "random readers and cases",
    "frrc": "fixed readers, random cases",
    "rrfc": "random readers, fixed cases",
}
FIGURE_NAMES = {"auc": "AUC", "sensitivity": "sensitivity", "specificity": "specificity"}


def _num(value, digits: int = 6) -> float | None:
    """A finite float rounded for JSON; None for NaN and infinities."""
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _fom(name: str):
    from modelops.reader_study import mrmc

    return {
        "auc": mrmc.empirical_auc,
        "sensitivity": mrmc.sensitivity(0.5),
        "specificity": mrmc.specificity(0.5),
    }[name]


def _cell(rows: list[dict]) -> dict:
    """One reader's figures in one modality from their answered reads."""
    from modelops.reader_study import mrmc

    truth = np.array([r["truth"] for r in rows], dtype=bool)
    confidence = np.array([r["confidence"] for r in rows], dtype=float)
    calls = np.array([r["any_ich"] for r in rows], dtype=float)
    both = bool(truth.any() and not truth.all())
    auc = float(mrmc.empirical_auc.value(confidence, truth)) if both else None
    return {
        "reads": len(rows),
        "auc": _num(auc),
        "sensitivity": _num(calls[truth].mean()) if truth.any() else None,
        "specificity": _num(1 - calls[~truth].mean()) if (~truth).any() else None,
        "median_time_s": _num(median(r["time"] for r in rows), 2) if rows else None,
    }


def _roc(truth: np.ndarray, scores: np.ndarray) -> dict | None:
    from modelops.metrics.roc import roc_curve

    if not truth.any() or truth.all():
        return None
    curve = roc_curve(truth.astype(int).tolist(), scores.astype(float).tolist())
    return {"fpr": [_num(v, 5) for v in curve.fpr], "tpr": [_num(v, 5) for v in curve.tpr]}


def _average_roc(curves: list[dict]) -> dict | None:
    """Reader-averaged ROC: the readers' true-positive rates averaged at each false-positive
    rate of a grid (vertical averaging; each reader's curve a step function, taking its highest
    point at each rate)."""
    if not curves:
        return None
    grid = np.linspace(0, 1, ROC_GRID)
    tprs = []
    for curve in curves:
        fpr, tpr = np.asarray(curve["fpr"], float), np.asarray(curve["tpr"], float)
        index = np.searchsorted(fpr, grid, side="right") - 1
        tprs.append(np.maximum.accumulate(tpr)[np.clip(index, 0, len(tpr) - 1)])
    mean = np.mean(tprs, axis=0)
    return {"fpr": [_num(v, 5) for v in grid], "tpr": [_num(v, 5) for v in mean]}


def _interval(interval) -> dict:
    return {
        "difference": _num(interval.estimate),
        "std_err": _num(interval.std_err),
        "ci": [_num(interval.ci_low), _num(interval.ci_high)],
        "df": _num(interval.df, 3),
        "p": _num(interval.p_value, 8),
    }


def _test(test) -> dict:
    # No error term (every reader's difference alike and no case variation left): F is
    # infinite and its p of 0 would read as proof; the test is not estimable from these reads.
    estimable = test.denominator > 0
    return {
        "f": _num(test.statistic),
        "df1": _num(test.df1, 3),
        "df2": _num(test.df2, 3),
        "p": _num(test.p_value, 8) if estimable else None,
        "estimable": estimable,
    }


def _analysis(result, name: str) -> dict:
    analysis = getattr(result, name)
    return {
        **_interval(analysis.differences[0]),
        **_test(analysis.test),
        "means": [_num(m.estimate) for m in analysis.means],
    }


def _global(result, name: str) -> dict:
    return {**_test(getattr(result, name).test), "means": [_num(m) for m in result.means]}


def _summary(figure: str, aided: str, means, rrrc: dict) -> str:
    labels = dict(Modality.choices)
    low, high = rrrc["ci"]
    ci = "—" if low is None or high is None else f"{low:.3f} to {high:.3f}"
    p = rrrc["p"]
    p_text = "—" if p is None else ("< 0.0001" if p < 0.0001 else f"{p:.4f}")
    if not rrrc["estimable"]:
        verdict = (
            "not testable: these reads leave no variation between readers or cases to test "
            "the difference against (more readers or cases are needed)"
        )
    elif p is not None and p < 0.05:
        verdict = "a significant difference"
    else:
        verdict = "no significant difference"
    ending = " at alpha 0.05." if rrrc["estimable"] else "."
    df2 = "∞" if rrrc["df2"] is None else f"{rrrc['df2']:.1f}"
    f = "—" if rrrc["f"] is None else f"{rrrc['f']:.2f}"
    return (
        f"Reader-averaged {FIGURE_NAMES[figure]} was {means[0]:.3f} "
        f"{labels[aided].lower()} and {means[1]:.3f} unaided: difference "
        f"{means[0] - means[1]:+.3f} (95% CI {ci}; F(1, {df2}) = {f}, p = {p_text}; "
        f"random readers and cases), {verdict}{ending}"
    )


def reader_study_results(study: ReaderStudy) -> dict:
    """Everything the results page shows, as JSON-ready values (None where undefined)."""
    from modelops.reader_study import mrmc

    modalities = list(study.modalities)
    cases = list(study.cases.order_by("number").values_list("pk", "reference_any"))
    case_index = {pk: i for i, (pk, _) in enumerate(cases)}
    truth_all = np.array([ref for _, ref in cases], dtype=bool)
    records: dict[tuple[str, str], list[dict]] = {}
    for read in answered_reads(study):
        records.setdefault((read.session.reader.username, read.session.modality), []).append(
            {
                "case": case_index[read.case_id],
                "truth": read.case.reference_any,
                "confidence": read.confidence,
                "any_ich": bool(read.any_ich),
                "time": max(read.active_time_s or 0.0, MIN_TIME_S),
            }
        )
    readers = sorted(set(study.sessions.values_list("reader__username", flat=True).distinct()))
    complete = sorted(
        set(readers)
        - set(
            study.sessions.filter(completed_at__isnull=True).values_list(
                "reader__username", flat=True
            )
        )
    )
    table, rocs = [], []
    for reader in readers:
        for modality in modalities:
            rows = records.get((reader, modality), [])
            table.append({"reader": reader, "modality": modality, **_cell(rows)})
            roc = (
                _roc(
                    np.array([r["truth"] for r in rows], bool),
                    np.array([r["confidence"] for r in rows], float),
                )
                if rows
                else None
            )
            rocs.append({"reader": reader, "modality": modality, "roc": roc})
    average = [
        {
            "modality": modality,
            "roc": _average_roc(
                [
                    r["roc"]
                    for r in rocs
                    if r["modality"] == modality and r["reader"] in complete and r["roc"]
                ]
            ),
        }
        for modality in modalities
    ]
    result: dict = {
        "readers": readers,
        "complete_readers": complete,
        "cases": len(cases),
        "positive_cases": int(truth_all.sum()),
        "modalities": modalities,
        "table": table,
        "roc": {"readers": rocs, "average": average},
        "analysis": [],
        "reading_time": [],
        "plan": study.plan,
        "plan_frozen_at": study.plan_frozen_at,
    }
    if len(complete) < 2 or truth_all.all() or not truth_all.any():
        result["analysis_note"] = (
            "The analysis needs at least two readers who completed every session "
            f"({len(complete)} so far)."
        )
        return result
    shape = (len(modalities), len(complete), len(cases))
    confidence, calls, times = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for r, reader in enumerate(complete):
        for m, modality in enumerate(modalities):
            for row in records[(reader, modality)]:
                confidence[m, r, row["case"]] = row["confidence"]
                calls[m, r, row["case"]] = row["any_ich"]
                times[m, r, row["case"]] = row["time"]
    unaided = modalities.index(Modality.UNAIDED)
    if len(modalities) > 2:
        # All modalities at once: the OR test of equal reader-averaged figures (F over them).
        result["overall"] = {
            figure: {
                name: _global(
                    mrmc.or_analysis(
                        confidence if figure == "auc" else calls, truth_all, _fom(figure)
                    ),
                    name,
                )
                for name in ANALYSES
            }
            for figure in FIGURES
        }
    for aided in modalities:
        if aided == Modality.UNAIDED:
            continue
        a = modalities.index(aided)
        comparison: dict = {"aided": aided, "unaided": Modality.UNAIDED.value}
        for figure in FIGURES:
            ratings = (confidence if figure == "auc" else calls)[[a, unaided]]
            analysis = mrmc.or_analysis(ratings, truth_all, _fom(figure))
            body: dict = {name: _analysis(analysis, name) for name in ANALYSES}
            body["means"] = [_num(v) for v in analysis.means]
            body["readers"] = [
                {
                    "reader": reader,
                    "aided": _num(analysis.foms[0, r]),
                    "unaided": _num(analysis.foms[1, r]),
                }
                for r, reader in enumerate(complete)
            ]
            body["summary"] = _summary(figure, aided, analysis.means, body["rrrc"])
            comparison[figure] = body
        result["analysis"].append(comparison)
        time = mrmc.compare_reading_times(times[[a, unaided]], 0, 1)
        result["reading_time"].append(
            {
                "aided": aided,
                "unaided": Modality.UNAIDED.value,
                "ratio": _num(time.ratio),
                "ci": [_num(time.ratio_ci_low), _num(time.ratio_ci_high)],
                "t": _num(time.statistic),
                "df": time.df,
                "p": _num(time.p_value, 8),
                "per_reader": [
                    {
                        "reader": reader,
                        "aided_s": _num(math.exp(time.mean_log_a[r]), 3),
                        "unaided_s": _num(math.exp(time.mean_log_b[r]), 3),
                    }
                    for r, reader in enumerate(complete)
                ],
                "summary": (
                    f"Reading took {time.ratio:.2f} times as long "
                    f"{dict(Modality.choices)[aided].lower()} as unaided (geometric means; "
                    f"95% CI {time.ratio_ci_low:.2f} to {time.ratio_ci_high:.2f}, "
                    f"paired t-test over readers p = {time.p_value:.4f})."
                ),
            }
        )
    return result

"""The prospective set: what the nodes predicted for new scans, against what radiologists later
said of the same scans in ICHLabel.

A prediction finds its scan by the series link (``annotations/dicom/link.py``): the scan
imported at the node's center whose ``source_link`` equals the prediction's. Its reference is
the scan's label in the newest ground-truth version that holds it as a scan-level majority of
at least ``MIN_READS`` reads (or adjudicated): the scan-level reading round with three
radiologists. Scores are judged at the thresholds the model version froze on validation, with
the same report code as the validation (``frozen_threshold_report``): the paper's Table 2.
"""

from collections.abc import Iterable
from datetime import date

import numpy as np
from django.db.models import Q

from annotations.models import GroundTruthScanLabel, ReadLevel, Scan
from annotations.vocabulary import GROUND_TRUTH_FIELDS
from modelops.metrics import HEMORRHAGE_CLASSES
from modelops.metrics.drift import summary, weekly_drift
from modelops.models import ModelVersion, Prediction
from modelops.registry.evaluation import FALLBACK_THRESHOLD, frozen_threshold_report

MIN_READS = 3
ALL_NODES = "All nodes"


def scored_predictions(version: ModelVersion) -> list[Prediction]:
    """The version's scored predictions (any build, any node), oldest first; a series scored
    again (a second node, a later build of the version) counts once, by its first score."""
    found = (
        Prediction.objects.select_related("node__center")
        .filter(build__model_version=version, error="")
        .order_by("scored_at", "id")
    )
    seen, out = set(), []
    for prediction in found:
        series = (prediction.node.center_id, prediction.series_link or f"key:{prediction.key}")
        if series not in seen:
            seen.add(series)
            out.append(prediction)
    return out


def linked_scans(predictions: Iterable[Prediction]) -> dict[int, int]:
    """Prediction id -> id of the scan imported from its series at its node's center."""
    predictions = [p for p in predictions if p.series_link]
    links = {p.series_link for p in predictions}
    scans = Scan.objects.filter(source_link__in=links).values_list("pk", "center_id", "source_link")
    by_link = {(center, link): pk for pk, center, link in scans}
    out = {}
    for p in predictions:
        scan = by_link.get((p.node.center_id, p.series_link))
        if scan is not None:
            out[p.pk] = scan
    return out


def reference_labels(scan_ids: Iterable[int]) -> dict[int, tuple[np.ndarray, str]]:
    """Scan id -> (its labels in HEMORRHAGE_CLASSES order, the ground-truth version's name),
    from the newest version holding a scan-level majority of MIN_READS reads or adjudicated."""
    rows = (
        GroundTruthScanLabel.objects.filter(scan_id__in=list(scan_ids), level=ReadLevel.SCAN)
        .filter(Q(reads__gte=MIN_READS) | Q(adjudicated=True))
        .select_related("version")
        .order_by("scan_id", "-version__created_at", "-version_id")
    )
    out: dict[int, tuple[np.ndarray, str]] = {}
    for row in rows:
        if row.scan_id not in out:
            # GROUND_TRUTH_FIELDS: any_ich and the subtypes, in HEMORRHAGE_CLASSES order
            labels = np.array([int(getattr(row, name)) for name in GROUND_TRUTH_FIELDS])
            out[row.scan_id] = (labels, row.version.name)
    return out


def prospective_report(version: ModelVersion, predictions: list[Prediction] | None = None) -> dict:
    """Counts (predictions, linked to a scan, with a reference) and, once any scan has a
    reference, the Table 2 report per node and over all nodes at the frozen thresholds.
    ``predictions``: the version's ``scored_predictions`` where the caller has them."""
    predictions = scored_predictions(version) if predictions is None else predictions
    scans = linked_scans(predictions)
    references = reference_labels(scans.values())
    groups: dict[str, list[tuple[np.ndarray, list[float]]]] = {}
    for p in predictions:
        reference = references.get(scans.get(p.pk, 0))
        if reference is None:
            continue
        entry = (reference[0], [float(p.scores[cls]) for cls in HEMORRHAGE_CLASSES])
        groups.setdefault(ALL_NODES, []).append(entry)
        groups.setdefault(p.node.name, []).append(entry)
    counts = {
        "predictions": len(predictions),
        "linked": len(scans),
        "with_reference": len(groups.get(ALL_NODES, [])),
        "ground_truth": sorted({name for _, name in references.values()}),
    }
    if not groups:
        return {**counts, "report": None}
    splits = {
        name: (np.stack([labels for labels, _ in rows]), np.array([s for _, s in rows]))
        for name, rows in groups.items()
    }
    return {**counts, "report": frozen_threshold_report(splits, frozen_cuts(version))}


def frozen_cuts(version: ModelVersion) -> dict[str, float]:
    """Class -> the threshold the version froze on validation (the fallback where it has none)."""
    thresholds = (version.evaluation or {}).get("thresholds") or {}
    return {
        cls: float((thresholds.get(cls) or {}).get("value", FALLBACK_THRESHOLD))
        for cls in HEMORRHAGE_CLASSES
    }


def prospective_drift(
    version: ModelVersion, cls: str = "any", predictions: list[Prediction] | None = None
) -> dict:
    """Each week's ``cls`` scores, per node and over all nodes, against the validation scores
    the version's thresholds were frozen on. ``reference`` is None for a version registered
    before its reference scores were kept. ``predictions`` as for ``prospective_report``."""
    reference = ((version.evaluation or {}).get("reference_scores") or {}).get("scores")
    if not reference:
        return {"class": cls, "reference": None, "groups": []}
    column = HEMORRHAGE_CLASSES.index(cls)
    baseline = np.asarray(reference, dtype=float)[:, column]
    by_group: dict[str, list[tuple[float, date]]] = {}
    for p in scored_predictions(version) if predictions is None else predictions:
        entry = (float(p.scores[cls]), p.scored_at.date())
        by_group.setdefault(ALL_NODES, []).append(entry)
        by_group.setdefault(p.node.name, []).append(entry)
    groups = []
    for name in sorted(by_group, key=lambda n: (n != ALL_NODES, n)):
        scores, days = zip(*by_group[name], strict=True)
        weeks = weekly_drift(baseline, scores, days)
        groups.append({"name": name, "weeks": [week.as_dict() for week in weeks]})
    return {"class": cls, "reference": summary(baseline).__dict__, "groups": groups}

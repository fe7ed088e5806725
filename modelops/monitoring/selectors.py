"""What the monitoring shows: per node and overall, predictions per day, the latency of each
stage (median, p95, max), and the failures with their reasons."""

from collections import Counter
from datetime import timedelta

import numpy as np
from django.db.models import QuerySet
from django.utils import timezone

from modelops.models import Prediction
from modelops.monitoring.services import STAGES


def prediction_list() -> QuerySet[Prediction]:
    return Prediction.objects.select_related("node__center", "build")


def latency_summary(predictions: list[Prediction]) -> dict[str, dict]:
    """Stage -> {n, median_s, p95_s, max_s} over the predictions that timed it."""
    out = {}
    for stage in STAGES:
        values = [
            p.timings_ms[stage] / 1000
            for p in predictions
            if isinstance(p.timings_ms.get(stage), int | float)
        ]
        if values:
            array = np.asarray(values, dtype=float)
            out[stage] = {
                "n": len(values),
                "median_s": float(np.median(array)),
                "p95_s": float(np.percentile(array, 95)),
                "max_s": float(array.max()),
            }
    return out


def monitoring_rows(*, days: int = 30) -> list[dict]:
    """Per node, then all nodes: predictions and failures in the last ``days``, per day, the
    latency summary and the latest failures."""
    since = timezone.now() - timedelta(days=days)
    recent = list(prediction_list().filter(scored_at__gte=since).order_by("scored_at"))
    by_node: dict[str, list[Prediction]] = {}
    for prediction in recent:
        by_node.setdefault(prediction.node.name, []).append(prediction)
    groups = [*sorted(by_node.items()), ("All nodes", recent)] if recent else []
    return [_row(name, predictions) for name, predictions in groups]


def _row(name: str, predictions: list[Prediction]) -> dict:
    failures = [p for p in predictions if p.error]
    latency = latency_summary([p for p in predictions if not p.error])
    per_day = Counter(p.scored_at.date().isoformat() for p in predictions)
    return {
        "node": name,
        "predictions": len(predictions),
        "positive": sum(1 for p in predictions if p.decision.get("any")),
        "failures": len(failures),
        "per_day": sorted(per_day.items()),
        "latency": latency,
        "stages": [latency.get(stage) for stage in STAGES],  # in STAGES order, for tables
        "latest_failures": [(p.scored_at, p.error) for p in failures[-5:]],
    }


def monitoring_chart(rows: list[dict]) -> dict:
    """What the nodes page's charts draw: predictions per day and the median seconds of each
    stage (``total`` left out: it is their sum), per node."""
    nodes = [row for row in rows if row["node"] != "All nodes"]
    days = sorted({day for row in nodes for day, _ in row["per_day"]})
    stages = [stage for stage in STAGES if stage != "total"]
    return {
        "days": days,
        "stages": stages,
        "nodes": [
            {
                "node": row["node"],
                "per_day": [dict(row["per_day"]).get(day, 0) for day in days],
                "median_s": [(row["latency"].get(s) or {}).get("median_s", 0) for s in stages],
            }
            for row in nodes
        ],
    }

"""The monitoring's tables as CSV (ML engineers; coordinators watch): every prediction, the
per-node summary, a model version's prospective Table 2 and its weekly drift."""

from collections.abc import Iterable

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from annotations.exports.base import csv_chunks
from annotations.exports.kinds import CSV
from annotations.vocabulary import HEMORRHAGE_CLASSES
from modelops.monitoring.prospective import (
    linked_scans,
    prospective_drift,
    prospective_report,
    scored_predictions,
)
from modelops.monitoring.selectors import monitoring_rows, prediction_list
from modelops.monitoring.services import STAGES
from modelops.permissions import IsMLEngineerOrWatcher
from modelops.registry.selectors import model_version_list

ESTIMATES = ("accuracy", "sensitivity", "specificity", "precision", "npv", "f1", "auroc")


def csv_response(name: str, header: list[str], rows: Iterable[list]) -> HttpResponse:
    response = HttpResponse(b"".join(csv_chunks(header, rows)), content_type=CSV)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class CsvApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]


class PredictionCsvApi(CsvApi):
    @extend_schema(responses={(200, "text/csv"): bytes})
    def get(self, request):
        predictions = list(prediction_list().order_by("scored_at", "id"))
        scans = linked_scans(predictions)
        header = [
            "node",
            "center",
            "build",
            "key",
            "scan",
            "scored_at",
            "received_at",
            *(f"score_{c}" for c in HEMORRHAGE_CLASSES),
            *(f"positive_{c}" for c in HEMORRHAGE_CLASSES),
            *(f"{stage}_ms" for stage in STAGES),
            "error",
        ]
        rows = (
            [
                p.node.name,
                p.node.center.name,
                p.build.number,
                p.key,
                scans.get(p.pk, ""),
                p.scored_at.isoformat(),
                p.received_at.isoformat(),
                *(p.scores.get(c, "") for c in HEMORRHAGE_CLASSES),
                *(p.decision.get(c, "") for c in HEMORRHAGE_CLASSES),
                *(p.timings_ms.get(stage, "") for stage in STAGES),
                p.error,
            ]
            for p in predictions
        )
        return csv_response("predictions.csv", header, rows)


class MonitoringCsvApi(CsvApi):
    @extend_schema(responses={(200, "text/csv"): bytes})
    def get(self, request):
        """The nodes page's table: the last 30 days per node and over all nodes."""
        header = ["node", "predictions", "positive_any", "failures"]
        header += [f"{stage}_{f}_s" for stage in STAGES for f in ("median", "p95", "max")]
        rows = []
        for row in monitoring_rows():
            figures = []
            for summary in row["stages"]:
                keys = ("median_s", "p95_s", "max_s")
                figures += [round(summary[k], 3) for k in keys] if summary else ["", "", ""]
            rows.append([row["node"], row["predictions"], row["positive"], row["failures"]])
            rows[-1] += figures
        return csv_response("monitoring.csv", header, rows)


class ProspectiveCsvApi(CsvApi):
    @extend_schema(responses={(200, "text/csv"): bytes})
    def get(self, request, version_id: int):
        """The prospective Table 2: per node and over all nodes, one row per class."""
        version = get_object_or_404(model_version_list(), pk=version_id)
        report = prospective_report(version)["report"] or {"splits": {}}
        header = ["group", "class", "scans", "n_positive", "n_negative", "tp", "fp", "tn", "fn"]
        header += [f"{m}_{p}" for m in ESTIMATES for p in ("value", "lower", "upper")]
        header += ["threshold"]
        rows = []
        for group, body in report["splits"].items():
            for row in body["rows"]:
                counts = [row[k] for k in ("n_positive", "n_negative", "tp", "fp", "tn", "fn")]
                figures = []
                for metric in ESTIMATES:
                    estimate = row.get(metric) or {}
                    figures += [estimate.get(k, "") for k in ("value", "lower", "upper")]
                rows.append(
                    [group, row["hemorrhage_class"], body["scans"], *counts, *figures]
                    + [row.get("threshold", "")]
                )
        return csv_response(f"prospective-{version.pk}.csv", header, rows)


class DriftCsvApi(CsvApi):
    @extend_schema(responses={(200, "text/csv"): bytes})
    def get(self, request, version_id: int):
        """Each week's scores per class, node and over all nodes, against validation."""
        version = get_object_or_404(model_version_list(), pk=version_id)
        header = ["class", "group", "week", "scans", "median", "q1", "q3", "ks_d", "p", "shifted"]
        rows = []
        predictions = scored_predictions(version)
        for cls in HEMORRHAGE_CLASSES:
            for group in prospective_drift(version, cls, predictions)["groups"]:
                for week in group["weeks"]:
                    scores = week["scores"]
                    rows.append(
                        [cls, group["name"], week["week"], scores["n"], scores["median"]]
                        + [scores["q1"], scores["q3"], week["ks_statistic"], week["p_value"]]
                        + [week["shifted"]]
                    )
        return csv_response(f"drift-{version.pk}.csv", header, rows)

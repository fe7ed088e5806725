"""Record a node's result for a series, exactly once per idempotency key."""

from django.db import IntegrityError, transaction

from annotations.vocabulary import HEMORRHAGE_CLASSES
from ichlabel.errors import InvalidInput, NotFound
from modelops.models import EdgeNode, ModelBuild, Prediction

STAGES = ("stability_wait", "transfer", "preprocess", "inference", "write_back", "total")


def prediction_record(*, node: EdgeNode, report: dict) -> tuple[Prediction, bool]:
    """The prediction for ``report["key"]`` and whether it was recorded now (a repeat of a key
    already recorded changes nothing: the first report stands)."""
    existing = Prediction.objects.filter(node=node, key=report["key"]).first()
    if existing is not None:
        return existing, False
    build = ModelBuild.objects.filter(number=report["build"]).first()
    if build is None:
        raise NotFound(f"No build {report['build']}.")
    _check(report)
    try:
        with transaction.atomic():
            return Prediction.objects.create(node=node, build=build, **_fields(report)), True
    except IntegrityError:  # the same key at the same moment: the other request recorded it
        return Prediction.objects.get(node=node, key=report["key"]), False


def _check(report: dict) -> None:
    scores, decision = report.get("scores") or {}, report.get("decision") or {}
    if set(decision) - set(HEMORRHAGE_CLASSES) or set(scores) - set(HEMORRHAGE_CLASSES):
        raise InvalidInput("Unknown class in scores or decision.")
    if not report.get("error") and set(scores) != set(HEMORRHAGE_CLASSES):
        raise InvalidInput(f"scores must name every class: {', '.join(HEMORRHAGE_CLASSES)}.")
    unknown = set(report.get("timings_ms") or {}) - set(STAGES)
    if unknown:
        raise InvalidInput(f"Unknown stages {', '.join(sorted(unknown))}; use {', '.join(STAGES)}.")


def _fields(report: dict) -> dict:
    keys = ("key", "scores", "decision", "slice_scores", "thresholds", "timings_ms", "error")
    fixed = {"scored_at": report["scored_at"], "series_link": report["series"]}
    return {key: report[key] for key in keys if key in report} | fixed

"""Reads of model versions."""

from django.db.models import QuerySet

from modelops.models import ModelVersion


def model_version_summaries() -> QuerySet[ModelVersion]:
    """Model versions for lists and comparisons: without the full evaluation report."""
    return model_version_list().defer("evaluation")


def model_version_list() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related("run", "snapshot", "snapshot__ground_truth")

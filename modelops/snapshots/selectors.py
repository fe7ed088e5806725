"""Reads of dataset snapshots."""

from django.db.models import QuerySet

from modelops.models import DatasetSnapshot


def snapshot_list() -> QuerySet[DatasetSnapshot]:
    return DatasetSnapshot.objects.select_related("ground_truth", "created_by")

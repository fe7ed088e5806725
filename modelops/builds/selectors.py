"""Where builds are and what the pages and API read of them."""

from pathlib import Path

from django.db.models import QuerySet

from modelops.models import ModelBuild
from modelops.paths import modelops_root


def build_dir(number: int) -> Path:
    """A build's files: the model, its test scan, ``manifest.json`` and ``manifest.sig``."""
    return modelops_root() / "builds" / str(number)


def build_list(*, model_version_id: int | None = None) -> QuerySet[ModelBuild]:
    builds = ModelBuild.objects.select_related("model_version", "created_by")
    if model_version_id is not None:
        builds = builds.filter(model_version_id=model_version_id)
    return builds.order_by("-number")

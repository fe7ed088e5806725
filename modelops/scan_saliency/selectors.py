"""Who may see which model's maps of a scan, and where the maps are."""

from pathlib import Path

from django.db.models import QuerySet

from annotations.models import ACTIVE_READ_STATUSES, Read, Role, SecondReadState
from annotations.permissions import user_has_role
from modelops.models import ModelOutputRelease, ModelStatus, ModelVersion, ScanSaliencyRun
from modelops.paths import modelops_root


def scan_saliency_dir(run_id: object) -> Path:
    """A run's files: ``<method>.npy`` (float16, the model's slices) and
    ``<method>/<position index>.png``, the overlay of each of the scan's slices."""
    return modelops_root() / "saliency" / "scans" / str(run_id)


def scan_saliency_png(run: ScanSaliencyRun, method: str, position_index: int) -> Path:
    return scan_saliency_dir(run.pk) / method / f"{position_index}.png"


def sees_any_model_output(user) -> bool:
    """ML engineers see every model's output on every scan; readers only what is released."""
    return user_has_role(user, Role.ML_ENGINEER)


def model_versions_for_scan(*, scan_id: int, user) -> QuerySet[ModelVersion]:
    """The model versions whose output ``user`` may lay over the scan, newest first: for ML
    engineers every version; for a reader of the scan the approved ones released for it (a
    retired model's output goes from their view), none while theirs is a requested second
    read still open; else none."""
    versions = ModelVersion.objects.order_by("-created_at", "-id")
    if sees_any_model_output(user):
        return versions
    reads = Read.objects.filter(scan_id=scan_id, reader=user, status__in=ACTIVE_READ_STATUSES)
    # A requested second read is blind to the model until it is done: the model's doubt is
    # what sent the scan back (annotations.assignment.second_reads).
    reads = reads.exclude(second_read_request__state=SecondReadState.READING)
    if not user_has_role(user, Role.NEURORADIOLOGIST) or not reads.exists():
        return versions.none()
    released = ModelOutputRelease.objects.filter(scan_id=scan_id, withdrawn_at__isnull=True)
    return versions.filter(pk__in=released.values("model_version_id"), status=ModelStatus.APPROVED)


def scan_saliency_run_for_user(*, run_id: int, user) -> ScanSaliencyRun:
    """The run, if ``user`` may see its model's output on its scan; else ``DoesNotExist``."""
    run = ScanSaliencyRun.objects.select_related("model_version").get(pk=run_id)
    if (
        not model_versions_for_scan(scan_id=run.scan_id, user=user)
        .filter(pk=run.model_version_id)
        .exists()
    ):
        raise ScanSaliencyRun.DoesNotExist
    return run


def scan_saliency_runs_of_scan(*, scan_id: int, user) -> QuerySet[ScanSaliencyRun]:
    """The runs of the scan whose model ``user`` may see."""
    versions = model_versions_for_scan(scan_id=scan_id, user=user)
    return ScanSaliencyRun.objects.filter(scan_id=scan_id, model_version__in=versions)

"""Release and withdraw a model version's output for scans.

Only an approved model's output reaches readers, and not while one of the scans' readers scores
that model's maps blind in an open Likert study (the overlay names its methods). Each release is
a row per scan (kept when withdrawn, with who withdrew it and when). Releasing queues the maps
of ``any`` for each newly released scan, so a reader who turns the overlay on rarely waits.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotations.models import ACTIVE_READ_STATUSES, Read, Scan
from ichlabel.errors import Conflict, InvalidInput
from modelops.models import LikertStudy, ModelOutputRelease, ModelStatus, ModelVersion

PRECOMPUTED_LABEL = "any"


def model_output_release(
    *, model_version: ModelVersion, scans: QuerySet[Scan], released_by
) -> dict[str, int]:
    """Release the model's output for ``scans``: how many were released now, and how many
    already were."""
    from modelops.scan_saliency.services import scan_saliency_request

    if model_version.status != ModelStatus.APPROVED:
        raise Conflict(
            f"{model_version.name} is {model_version.get_status_display().lower()}: only an "
            "approved model's output is released to readers."
        )
    scan_ids = list(scans.values_list("pk", flat=True))
    if not scan_ids:
        raise InvalidInput("No scan matches: nothing to release.")
    _refuse_unblinding(model_version, scan_ids)
    with transaction.atomic():
        active = _active(model_version).filter(scan_id__in=scan_ids)
        already = set(active.values_list("scan_id", flat=True))
        new = [pk for pk in scan_ids if pk not in already]
        # A release made at the same moment by another request stands as it is.
        ModelOutputRelease.objects.bulk_create(
            [
                ModelOutputRelease(model_version=model_version, scan_id=pk, released_by=released_by)
                for pk in new
            ],
            ignore_conflicts=True,
        )
        for scan in Scan.objects.filter(pk__in=new):
            scan_saliency_request(
                model_version=model_version,
                scan=scan,
                label=PRECOMPUTED_LABEL,
                requested_by=released_by,
            )
    return {"released": len(new), "already_released": len(already)}


def _refuse_unblinding(model_version: ModelVersion, scan_ids: list[int]) -> None:
    """A reader of these scans who scores this model's maps blind would learn from the overlay
    which method makes which map."""
    readers = Read.objects.filter(scan_id__in=scan_ids, status__in=ACTIVE_READ_STATUSES)
    studies = LikertStudy.objects.filter(
        saliency_run__model_version=model_version,
        closed_at__isnull=True,
        readers__in=readers.values("reader_id"),
    ).distinct()
    names = sorted(studies.values_list("name", flat=True))
    if names:
        raise Conflict(
            f"Readers of these scans score {model_version.name}'s maps blind in the open "
            f"saliency study {', '.join(names)}; the overlay names each map's method. Close "
            "the study first, or release for other scans."
        )


def model_output_withdraw(
    *, model_version: ModelVersion, scans: QuerySet[Scan], withdrawn_by
) -> dict[str, int]:
    """Withdraw the model's output from ``scans``: how many releases were withdrawn."""
    withdrawn = (
        _active(model_version)
        .filter(scan__in=scans)
        .update(withdrawn_at=timezone.now(), withdrawn_by=withdrawn_by)
    )
    return {"withdrawn": withdrawn}


def _active(model_version: ModelVersion) -> QuerySet[ModelOutputRelease]:
    return ModelOutputRelease.objects.filter(model_version=model_version, withdrawn_at__isnull=True)

"""Scan scores: stored at registration, and computed for other scans by a scoring run (a job on
the ``train`` queue); a selection of disagreements sent to a blinded second read.

``scan_scoring_request`` queues one run for the scans a version has not scored and no active
run of it is scoring. The worker scores the scans one at a time as the scan maps do (the
snapshot's preprocessing of the scan's HU, ``modelops.ml.predict``) and stores each scan's
scores as it goes, so a run taken over after a worker died scores only the rest; a scan of the
version's ground truth is kept under its split there, any other under "".
"""

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from django.db import transaction

from annotations.models import GroundTruthScanLabel, JobStatus, Scan
from annotations.vocabulary import HEMORRHAGE_CLASSES
from ichlabel import jobs
from ichlabel.errors import InvalidInput
from modelops.disagreements.selectors import SOURCE_NAMES, Disagreement, disagreement_list
from modelops.models import (
    ACTIVE_STATUSES,
    SCORE_COLUMNS,
    ModelScanScore,
    ModelVersion,
    ScanScoringRun,
)
from modelops.paths import data_path

SCORING_MAX_SCANS = 5000
SEND_MAX_SCANS = 500


def model_scan_scores_store(
    *,
    model_version: ModelVersion,
    split: str,
    scan_ids: Sequence[int],
    scores: np.ndarray,
    run: ScanScoringRun | None = None,
) -> int:
    """Keep the version's scores (scans, 6 in ``HEMORRHAGE_CLASSES`` order) of these scans,
    replacing any it had; returns how many were stored."""
    scores = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    if scores.shape != (len(scan_ids), len(HEMORRHAGE_CLASSES)):
        raise ValueError(f"scores of shape {scores.shape} for {len(scan_ids)} scans")
    rows = [
        ModelScanScore(
            model_version=model_version,
            scan_id=int(scan_id),
            split=split,
            run=run,
            **{name: float(value) for name, value in zip(SCORE_COLUMNS, row, strict=True)},
        )
        for scan_id, row in zip(scan_ids, scores, strict=True)
    ]
    with transaction.atomic():
        ModelScanScore.objects.filter(model_version=model_version, scan_id__in=scan_ids).delete()
        ModelScanScore.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def scan_scoring_request(
    *, model_version: ModelVersion, scans: Iterable[Scan | int], requested_by
) -> ScanScoringRun | None:
    """Queue one run scoring those of ``scans`` that the version has not scored and that no
    active run of it is scoring; None when none is left."""
    wanted = list(dict.fromkeys(s.pk if isinstance(s, Scan) else int(s) for s in scans))
    if not wanted:
        raise InvalidInput("Name at least one scan to score.", extra={"field": "scans"})
    if len(wanted) > SCORING_MAX_SCANS:
        raise InvalidInput(
            f"At most {SCORING_MAX_SCANS} scans per scoring run; {len(wanted)} were given.",
            extra={"field": "scans"},
        )
    known = set(Scan.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = [pk for pk in wanted if pk not in known]
    if missing:
        raise InvalidInput(
            f"No scan {', '.join(map(str, missing[:10]))}.", extra={"field": "scans"}
        )
    with transaction.atomic():
        # One request at a time per version: two at once would both find the scans unscored.
        ModelVersion.objects.select_for_update().filter(pk=model_version.pk).first()
        scored = set(
            ModelScanScore.objects.filter(
                model_version=model_version, scan_id__in=wanted
            ).values_list("scan_id", flat=True)
        )
        in_flight = {
            scan_id
            for ids in ScanScoringRun.objects.filter(
                model_version=model_version, status__in=ACTIVE_STATUSES
            ).values_list("scan_ids", flat=True)
            for scan_id in ids
        }
        todo = [pk for pk in wanted if pk not in scored and pk not in in_flight]
        if not todo:
            return None
        run = ScanScoringRun.objects.create(
            model_version=model_version,
            scan_ids=todo,
            scans_total=len(todo),
            created_by=requested_by,
        )
        jobs.enqueue(ScanScoringRun, run.pk)
    run.refresh_from_db()
    return run


def scan_scoring_cancel(*, run: ScanScoringRun) -> ScanScoringRun:
    """Stop a scoring run: at once while queued, after the scan in hand while running (the
    scores stored so far are kept). Conflict once it has finished."""
    return jobs.cancel(run, running_message="Cancel requested; stopping after the current scan.")


def scan_scoring_execute(*, run_id: int) -> ScanScoringRun | None:
    return jobs.run(ScanScoringRun, run_id, _execute)


def _execute(run: ScanScoringRun, lease: jobs.Lease) -> ScanScoringRun:
    from modelops.ml.predict import load_model, predict_scan
    from modelops.scan_pixels import scan_hu

    version = run.model_version
    snapshot = version.snapshot
    model = load_model(data_path(version.artifact))
    done_before = set(
        ModelScanScore.objects.filter(model_version=version, scan_id__in=run.scan_ids).values_list(
            "scan_id", flat=True
        )
    )
    # A scan of the version's ground truth is in its snapshot: kept under its split there.
    splits = dict(
        GroundTruthScanLabel.objects.filter(
            version_id=snapshot.ground_truth_id, scan_id__in=run.scan_ids
        ).values_list("scan_id", "split")
    )
    done = len(done_before)
    lease.progress(done, max(run.scans_total, 1), scans_done=done)
    skipped: list[str] = []
    for scan_id in run.scan_ids:
        if scan_id in done_before:
            continue
        lease.check(f"Canceled after {done} of {run.scans_total} scans.")
        try:
            hu, z_mm, _slices = scan_hu(scan_id)
        except (ValueError, FileNotFoundError) as error:
            # A scan without pixels in storage is reported, not fatal: the rest are scored.
            skipped.append(f"scan {scan_id}: {error}")
        else:
            result = predict_scan(
                model,
                hu,
                z_mm,
                image_size=snapshot.image_size,
                windows=[tuple(w) for w in snapshot.windows],
                slice_mm=snapshot.slice_mm,
            )
            scores = np.array([[result["scan"][name] for name in HEMORRHAGE_CLASSES]])
            model_scan_scores_store(
                model_version=version,
                split=splits.get(scan_id, ""),
                scan_ids=[scan_id],
                scores=scores,
                run=run,
            )
        done += 1
        lease.progress(done, max(run.scans_total, 1), scans_done=done)
    if skipped:
        return lease.finish(
            JobStatus.WARNING,
            f"Scored {done - len(skipped)} of {run.scans_total} scans; not scored: "
            + "; ".join(skipped[:20]),
            progress=1.0,
            scans_done=done,
        )
    return lease.finish(JobStatus.SUCCEEDED, f"Scored {done} scans.", progress=1.0, scans_done=done)


def disagreements_send(
    *,
    version: ModelVersion,
    selections: Sequence[Mapping],
    requested_by,
    reader=None,
) -> dict:
    """Send the scans of chosen disagreements to a blinded second read. A selection names a
    listed disagreement (``scan``, ``hemorrhage_class``, ``source``); its kind, score and
    threshold come from the list as it stands and go with the scan as the reason it was sent.
    A scan chosen for several classes goes once, with the reason of its most confident one.
    Returns {"sent": [{scan, reader, reason}], "refused": [{scan, code, reason}]}."""
    from annotations.assignment.second_reads import second_read_request

    if not selections:
        raise InvalidInput("Choose at least one scan to send.", extra={"field": "items"})
    if len(selections) > SEND_MAX_SCANS:
        raise InvalidInput(
            f"At most {SEND_MAX_SCANS} disagreements at once; {len(selections)} were chosen.",
            extra={"field": "items"},
        )
    listed = {
        (d.scan_id, d.hemorrhage_class, d.source): d
        for d in disagreement_list(version=version).items
    }
    chosen: dict[int, Disagreement] = {}
    refused: list[dict] = []
    for selection in selections:
        scan_id = int(selection["scan"])
        found = listed.get((scan_id, selection["hemorrhage_class"], selection["source"]))
        if found is None:
            refused.append(
                {
                    "scan": scan_id,
                    "code": "not_a_disagreement",
                    "reason": f"Model {version.name} does not disagree with the "
                    f"{SOURCE_NAMES.get(selection['source'], selection['source']).lower()} "
                    f"on {selection['hemorrhage_class']} of scan {scan_id}.",
                }
            )
            continue
        if scan_id not in chosen or found.confidence > chosen[scan_id].confidence:
            chosen[scan_id] = found
    sent: list[dict] = []
    if chosen:
        result = second_read_request(
            scans=[(scan_id, disagreement_reason(version, d)) for scan_id, d in chosen.items()],
            requested_by=requested_by,
            reader=reader,
        )
        sent = [
            {
                "scan": request.scan_id,
                "reader": request.read.reader.username if request.read else "",
                "reason": request.reason,
            }
            for request in result.requests
        ]
        refused += list(result.refused)
    return {"sent": sent, "refused": refused}


def disagreement_reason(version: ModelVersion, disagreement: Disagreement) -> dict:
    """Why a scan went to a second read, as its request records it."""
    return {
        "source": "model",
        "model_version": version.pk,
        "model_version_name": version.name,
        "class": disagreement.hemorrhage_class,
        "kind": disagreement.kind,
        "score": round(disagreement.score, 5),
        "threshold": round(disagreement.threshold, 5),
        "confidence": round(disagreement.confidence, 5),
        "against": disagreement.source,
        "split": disagreement.split,
    }

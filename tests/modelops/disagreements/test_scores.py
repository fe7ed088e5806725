"""A model's scan scores: kept for every scan of its snapshot when it is registered, and
computed by a scoring run for scans it has not scored, with the same preprocessing (the run
and the registration agree on a scan's scores)."""

import shutil

import numpy as np
import pytest

from annotations.models import GroundTruthScanLabel, JobStatus
from modelops.disagreements.selectors import model_scan_scores
from modelops.disagreements.services import scan_scoring_execute, scan_scoring_request
from modelops.models import ModelScanScore, ModelVersion
from modelops.paths import data_path
from modelops.registry.services import model_version_register

pytestmark = pytest.mark.django_db

CLASSES = ("any", "iph", "ivh", "sah", "sdh", "edh")


def test_registration_keeps_every_scans_scores_and_a_run_scores_the_rest(
    approved_model, jobs_queued, django_capture_on_commit_callbacks, tmp_path
):
    run = approved_model.run
    version = model_version_register(run=run, model_path=data_path(approved_model.artifact))
    assert version.pk == approved_model.pk

    truth = dict(
        GroundTruthScanLabel.objects.filter(
            version_id=version.snapshot.ground_truth_id
        ).values_list("scan_id", "split")
    )
    stored = dict(
        ModelScanScore.objects.filter(model_version=version).values_list("scan_id", "split")
    )
    assert stored == truth and len(stored) == version.snapshot.scans_total
    scores = model_scan_scores(model_version=version, scan_ids=list(truth))
    # The evaluation's reference scores are the validation split's, in the snapshot's order:
    # the stored ones are the same numbers.
    reference = np.array(version.evaluation["reference_scores"]["scores"])
    validation = sorted(
        (scores[scan_id] for scan_id, split in truth.items() if split == "validation"),
        key=lambda s: s["any"],
    )
    assert np.allclose(sorted(reference[:, 0]), [s["any"] for s in validation], atol=1e-5)

    # Two scans lose their scores (as for a version registered before scores were kept).
    forgotten = sorted(truth)[:2]
    before = {scan_id: scores[scan_id] for scan_id in forgotten}
    ModelScanScore.objects.filter(model_version=version, scan_id__in=forgotten).delete()
    with django_capture_on_commit_callbacks(execute=True):
        scoring = scan_scoring_request(
            model_version=version, scans=sorted(truth), requested_by=approved_model.engineer
        )
    assert scoring.scan_ids == forgotten and jobs_queued == [scoring.pk]
    scoring = scan_scoring_execute(run_id=scoring.pk)

    assert scoring.status == JobStatus.SUCCEEDED, scoring.message
    assert scoring.scans_done == scoring.scans_total == 2 and scoring.progress == 1.0
    again = model_scan_scores(model_version=version, scan_ids=forgotten)
    for scan_id in forgotten:
        rescored = ModelScanScore.objects.get(model_version=version, scan_id=scan_id)
        assert rescored.split == truth[scan_id] and rescored.run_id == scoring.pk
        assert np.allclose(
            [again[scan_id][c] for c in CLASSES], [before[scan_id][c] for c in CLASSES], atol=2e-3
        )
    # Registered again (same run): the snapshot's scores replace the run's, nothing doubles.
    copy = tmp_path / "model.keras"
    shutil.copyfile(data_path(version.artifact), copy)
    model_version_register(run=run, model_path=copy)
    assert ModelScanScore.objects.filter(model_version=version).count() == len(truth)
    assert ModelVersion.objects.filter(run=run).count() == 1

"""A study on the phantom cohort with a real (small, untrained) model: creating it queues the
model output of every case, the jobs' own code computes it (scores and overlays), the study
opens, and an aided reader gets the real scores, the overlay PNGs and the stored DICOM slices
through the study's own URLs while an unaided reader gets none of the model."""

import io

import pydicom
import pytest
from PIL import Image

from annotations.vocabulary import CLASS_NAMES, HEMORRHAGE_CLASSES
from modelops.models import ScanSaliencyRun
from modelops.reader_study.models import ReaderStudySession
from modelops.scan_saliency.services import scan_saliency_execute
from tests.modelops.reader_study.helpers import READS, STUDIES, client

pytestmark = pytest.mark.django_db


def test_the_model_output_is_computed_then_shown_only_in_aided_sessions(
    approved_model, jobs_queued, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import User

    coordinator = client(User.objects.get(username="coordinator"))
    readers = list(User.objects.filter(username__in=["neuro1", "neuro2"]).order_by("username"))
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(
            STUDIES,
            {
                "name": "Phantom study",
                "ground_truth_version": approved_model.snapshot.ground_truth_id,
                "case_count": 4,
                "readers": [r.pk for r in readers],
                "modalities": ["unaided", "aided_saliency"],
                "model_version": approved_model.pk,
                "washout_days": 0,
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    study = response.json()
    assert study["status"] == "preparing"
    assert study["preparation"]["done"] == 0 and study["preparation"]["total"] == 4
    assert len(jobs_queued) == 4
    aided_reader = ReaderStudySession.objects.get(
        study_id=study["id"], sequence=1, modality="aided_saliency"
    ).reader
    aided = client(aided_reader)
    assert aided.get(f"{STUDIES}{study['id']}/next/").json() == {"state": "preparing"}

    for run_id in jobs_queued:
        scan_saliency_execute(run_id=run_id)
    detail = coordinator.get(f"{STUDIES}{study['id']}/").json()
    assert detail["status"] == "open", detail["preparation"]
    assert detail["preparation"] == {"done": 4, "failed": 0, "total": 4, "errors": []}

    read_id = aided.get(f"{STUDIES}{study['id']}/next/").json()["read"]
    read = aided.get(f"{READS}{read_id}/").json()
    run = ScanSaliencyRun.objects.get(pk=_run_of(read_id))
    assert read["model"]["scores"] == pytest.approx(
        {("any" if c == "any" else CLASS_NAMES[c]): run.scores[c] for c in HEMORRHAGE_CLASSES}
    )
    assert set(read["model"]["thresholds"]) == {"any", "IPH", "IVH", "SAH", "SDH", "EDH"}
    for entry in read["slices"][:2]:
        overlay = aided.get(
            read["model"]["overlay"].replace("{position_index}", str(entry["position_index"]))
        )
        assert overlay.status_code == 200
        Image.open(io.BytesIO(b"".join(overlay.streaming_content))).verify()
        dicom = aided.get(entry["url"])
        assert dicom.status_code == 200
        dataset = pydicom.dcmread(io.BytesIO(b"".join(dicom.streaming_content)))
        assert dataset.Modality == "CT"

    unaided_reader = next(r for r in readers if r != aided_reader)
    unaided = client(unaided_reader)
    other_id = unaided.get(f"{STUDIES}{study['id']}/next/").json()["read"]
    other = unaided.get(f"{READS}{other_id}/")
    assert other.json()["model"] is None
    text = other.content.decode().lower()
    assert not any(word in text for word in ("score", "threshold", "overlay", "saliency"))
    assert unaided.get(f"{READS}{other_id}/overlay/0.png").status_code == 404


def _run_of(read_id: int) -> int:
    from modelops.reader_study.models import ReaderStudyRead

    return ReaderStudyRead.objects.select_related("case").get(pk=read_id).case.saliency_run_id

"""Reading in a study through the API: blinding of the model's output by session, other
readers' reads, the time measure, answers (final, validated), the plan frozen at the first
read, and who may see what."""

import io
import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from modelops.reader_study.models import ReaderStudy, ReaderStudyRead, ReaderStudySession
from modelops.scan_saliency.selectors import scan_saliency_png
from tests.modelops.reader_study.conftest import model_scores
from tests.modelops.reader_study.helpers import (
    READS,
    STUDIES,
    answer,
    client,
    create,
    read_session,
)

pytestmark = pytest.mark.django_db

MODEL_WORDS = ("model", "score", "threshold", "overlay", "saliency", "normgrad", "gradcam")


def _png(path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.new("RGBA", (4, 4), (255, 0, 0, 128)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def _model_values(world) -> set[str]:
    """Every figure of the model's output, as JSON would print it."""
    values = set()
    for i in range(len(world["scans"])):
        values |= {json.dumps(v) for v in model_scores(i).values()}
    return values


def _reader_whose_first_session_is(study_id: int, modality: str):
    return (
        ReaderStudySession.objects.filter(study_id=study_id, sequence=1, modality=modality)
        .select_related("reader")
        .first()
        .reader
    )


def test_unaided_reads_carry_nothing_of_the_model_and_aided_ones_do(world):
    study = create(world, modalities=["unaided", "aided_scores", "aided_saliency"])
    run = world["runs"][0]
    stored = {}
    for scan, output in zip(world["scans"], world["runs"], strict=True):
        for index in range(3):
            stored[(output.pk, index)] = _png(scan_saliency_png(output, "normgrad", index))
        for index in range(3):  # the scans' slice files
            key = scan.slices.get(position_index=index).storage_key
            default_storage.save(key, ContentFile(f"DICM {scan.pk} {index}".encode()))
    assert run.pk in {k[0] for k in stored}

    unaided_reader = _reader_whose_first_session_is(study["id"], "unaided")
    api = client(unaided_reader)
    read_id = api.get(f"{STUDIES}{study['id']}/next/").json()["read"]
    response = api.get(f"{READS}{read_id}/")
    body = response.json()
    assert body["model"] is None and body["session"]["modality"] == "unaided"
    text = response.content.decode().lower()
    assert not any(word in text for word in MODEL_WORDS if word != "model"), text
    assert text.count("model") == 1, "the one key, null"
    numbers = {json.dumps(v) for v in json.loads(response.content).values() if isinstance(v, float)}
    assert not numbers & _model_values(world)
    for value in _model_values(world):
        assert value not in text
    assert api.get(f"{READS}{read_id}/overlay/0.png").status_code == 404
    slice_ = api.get(body["slices"][1]["url"])
    assert slice_.status_code == 200 and slice_["Content-Type"] == "application/dicom"
    read = ReaderStudyRead.objects.select_related("case").get(pk=read_id)
    assert b"".join(slice_.streaming_content) == f"DICM {read.case.scan_id} 1".encode()
    # The study as this reader sees it: their sessions, nothing of the model or of others.
    seen = api.get(f"{STUDIES}{study['id']}/").content.decode()
    assert "m-1" not in seen and "plan" not in json.loads(seen) and "progress" not in seen
    listed = api.get(STUDIES).json()["results"]
    assert [s["id"] for s in listed] == [study["id"]] and "plan" not in listed[0]

    # Another reader: their session 1 aided with scores; this read is not theirs.
    scores_reader = _reader_whose_first_session_is(study["id"], "aided_scores")
    other = client(scores_reader)
    assert other.get(f"{READS}{read_id}/").status_code == 404
    assert other.get(f"{READS}{read_id}/slices/0/").status_code == 404
    assert other.post(f"{READS}{read_id}/answer/", {}, format="json").status_code == 404
    aided_id = other.get(f"{STUDIES}{study['id']}/next/").json()["read"]
    aided = other.get(f"{READS}{aided_id}/").json()
    case = ReaderStudyRead.objects.select_related("case__saliency_run").get(pk=aided_id).case
    assert aided["model"] == {
        "scores": {
            "any": case.saliency_run.scores["any"],
            "IPH": 0.6123,
            "IVH": 0.0456,
            "SAH": 0.0789,
            "SDH": 0.0321,
            "EDH": 0.0135,
        },
        "thresholds": {"any": 0.4, "IPH": 0.5, "IVH": 0.5, "SAH": 0.5, "SDH": 0.5, "EDH": 0.5},
        "overlay": None,
    }
    assert other.get(f"{READS}{aided_id}/overlay/0.png").status_code == 404, "scores only"

    saliency_reader = _reader_whose_first_session_is(study["id"], "aided_saliency")
    third = client(saliency_reader)
    saliency_id = third.get(f"{STUDIES}{study['id']}/next/").json()["read"]
    detail = third.get(f"{READS}{saliency_id}/").json()
    overlay_url = detail["model"]["overlay"].replace("{position_index}", "2")
    overlay = third.get(overlay_url)
    run_id = ReaderStudyRead.objects.get(pk=saliency_id).case.saliency_run_id
    assert overlay.status_code == 200 and overlay["Content-Type"] == "image/png"
    assert b"".join(overlay.streaming_content) == stored[(run_id, 2)]
    assert third.get(detail["model"]["overlay"].replace("{position_index}", "7")).status_code == 404
    assert client(unaided_reader).get(overlay_url).status_code == 404

    # Readers see no results and no CSV; coordinators and ML engineers do.
    for user in (unaided_reader, scores_reader):
        assert client(user).get(f"{STUDIES}{study['id']}/results/").status_code == 403
        assert client(user).get(f"{STUDIES}{study['id']}/reads.csv").status_code == 403
    for user in (world["coordinator"], world["engineer"]):
        assert client(user).get(f"{STUDIES}{study['id']}/results/").status_code == 200
    # A neuroradiologist outside the study: it does not exist for them.
    outsider = client(world["labeller"])
    assert outsider.get(f"{STUDIES}{study['id']}/").status_code == 404
    assert outsider.get(f"{STUDIES}{study['id']}/next/").status_code == 404
    assert outsider.get(STUDIES).json()["results"] == []


def test_a_lost_slice_file_is_a_404_that_says_so(world):
    study = create(world)
    reader = _reader_whose_first_session_is(study["id"], "unaided")
    api = client(reader)
    read_id = api.get(f"{STUDIES}{study['id']}/next/").json()["read"]
    url = api.get(f"{READS}{read_id}/").json()["slices"][0]["url"]
    response = api.get(url)
    assert response.status_code == 404 and "missing" in response.json()["message"]


def test_answers_are_validated_final_and_timed_within_the_read(world):
    study = create(world)
    reader = world["readers"][0]
    api = client(reader)
    read_id = api.get(f"{STUDIES}{study['id']}/next/").json()["read"]
    # Not opened yet: no answer.
    assert answer(api, read_id).status_code == 409
    opened = api.get(f"{READS}{read_id}/").json()["opened_at"]
    assert opened is not None
    assert api.get(f"{READS}{read_id}/").json()["opened_at"] == opened, "the first opening counts"
    # The read was opened 30 s ago.
    ReaderStudyRead.objects.filter(pk=read_id).update(
        opened_at=timezone.now() - timedelta(seconds=30)
    )
    bad = [
        {"confidence": 101},
        {"confidence": -1},
        {"active_time_s": -2.0},
        {"any_ich": False, "subtypes": {"IPH": True}},
        {"subtypes": {"XYZ": True}},
    ]
    for change in bad:
        response = answer(api, read_id, **change)
        assert response.status_code == 400, (change, response.content)
        assert response.json()["message"]
    nan = api.post(
        f"{READS}{read_id}/answer/",
        '{"any_ich": false, "confidence": 5, "active_time_s": NaN}',
        content_type="application/json",
    )
    assert nan.status_code == 400
    missing = api.post(f"{READS}{read_id}/answer/", {"any_ich": True}, format="json")
    assert missing.status_code == 400 and "confidence" in missing.json()["extra"]["fields"]
    assert ReaderStudyRead.objects.get(pk=read_id).answered_at is None

    response = answer(api, read_id, confidence=85, active_time_s=3600.0, subtypes={"SDH": True})
    assert response.status_code == 200, response.content
    body = response.json()
    read = ReaderStudyRead.objects.get(pk=read_id)
    elapsed = (read.answered_at - read.opened_at).total_seconds()
    assert 30 <= read.active_time_s == elapsed < 3600, "clamped to opened -> answered"
    assert body["answer"]["subtypes"] == {
        "IPH": False,
        "IVH": False,
        "SAH": False,
        "SDH": True,
        "EDH": False,
    }
    assert body["answer"]["confidence"] == 85 and body["next"]["state"] == "read"
    assert body["session"]["answered"] == 1
    assert answer(api, read_id, confidence=10).status_code == 409, "answers are final"
    assert ReaderStudyRead.objects.get(pk=read_id).confidence == 85

    second = body["next"]["read"]
    api.get(f"{READS}{second}/")
    ReaderStudyRead.objects.filter(pk=second).update(
        opened_at=timezone.now() - timedelta(seconds=10)
    )
    kept = answer(api, second, any_ich=False, confidence=5, active_time_s=0.5)
    assert kept.status_code == 200 and kept.json()["answer"]["active_time_s"] == 0.5

    # Closed: no more answers, nothing to read.
    client(world["coordinator"]).post(f"{STUDIES}{study['id']}/close/")
    assert api.get(f"{STUDIES}{study['id']}/next/").json() == {"state": "done"}
    third = ReaderStudyRead.objects.filter(session__reader=reader, answered_at=None).first()
    assert api.get(f"{READS}{third.pk}/").status_code == 404


def test_the_plan_freezes_when_the_first_read_opens_and_the_design_then_stays(world):
    study = create(world)
    coordinator = client(world["coordinator"])
    url = f"{STUDIES}{study['id']}/"

    # Before: the coordinator may change the design; the plan is drawn anew.
    changed = coordinator.patch(
        url, {"case_count": 4, "washout_days": 7, "description": "Two weeks"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    row = ReaderStudy.objects.get(pk=study["id"])
    assert row.cases.count() == 4 and row.plan["cases"]["count"] == 4
    assert row.plan["washout_days"] == 7 and row.description == "Two weeks"
    assert ReaderStudyRead.objects.filter(session__study=row).count() == 4 * 2 * 3
    assert client(world["readers"][0]).patch(url, {"seed": 3}, format="json").status_code == 403

    reader = client(world["readers"][1])
    read_id = reader.get(f"{url}next/").json()["read"]
    reader.get(f"{READS}{read_id}/")
    row.refresh_from_db()
    assert row.plan_frozen_at is not None
    assert coordinator.get(url).json()["plan_frozen_at"] is not None
    plan = row.plan
    refused = coordinator.patch(url, {"washout_days": 0}, format="json")
    assert refused.status_code == 409 and "frozen" in refused.json()["message"]
    assert coordinator.patch(url, {"description": "x"}, format="json").status_code == 409
    row.refresh_from_db()
    assert row.plan == plan and row.washout_days == 7


def test_aided_sessions_wait_for_the_model_output_and_unaided_ones_do_not(
    world, django_capture_on_commit_callbacks
):
    # One scan's output failed: the study prepares, its aided sessions wait.
    failed = world["runs"][0]
    type(failed).objects.filter(pk=failed.pk).update(status="failed", message="Unreadable.")
    with django_capture_on_commit_callbacks(execute=True):
        study = create(world, case_count=8)
    coordinator = client(world["coordinator"])
    detail = coordinator.get(f"{STUDIES}{study['id']}/").json()
    assert detail["status"] == "preparing"
    assert world["queued"] == [failed.pk], "the failed run is asked for again"
    failed.refresh_from_db()
    assert failed.status == "pending"
    aided_reader = _reader_whose_first_session_is(study["id"], "aided_scores")
    aided = client(aided_reader)
    assert aided.get(f"{STUDIES}{study['id']}/next/").json() == {"state": "preparing"}
    unaided_reader = _reader_whose_first_session_is(study["id"], "unaided")
    assert client(unaided_reader).get(f"{STUDIES}{study['id']}/next/").json()["state"] == "read"

    type(failed).objects.filter(pk=failed.pk).update(status="failed", message="Unreadable.")
    detail = coordinator.get(f"{STUDIES}{study['id']}/").json()
    assert detail["preparation"] == {
        "done": 7,
        "failed": 1,
        "total": 8,
        "errors": [{"case": 1, "message": "Unreadable."}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert coordinator.post(f"{STUDIES}{study['id']}/prepare/").status_code == 200
    assert world["queued"] == [failed.pk, failed.pk]
    # The worker finishes it.
    type(failed).objects.filter(pk=failed.pk).update(status="succeeded")
    assert coordinator.get(f"{STUDIES}{study['id']}/").json()["status"] == "open"
    assert aided.get(f"{STUDIES}{study['id']}/next/").json()["state"] == "read"
    assert client(unaided_reader).post(f"{STUDIES}{study['id']}/prepare/").status_code == 403


def test_whole_sessions_read_through_the_api(world):
    study = create(world, case_count=4)
    api = client(world["readers"][2])
    details = read_session(api, study["id"])
    assert len(details) == 4
    assert len({d["id"] for d in details}) == 4

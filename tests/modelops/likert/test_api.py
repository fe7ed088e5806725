"""The Likert study through its API: set up by a coordinator, scored by readers with autosave and
undo, closed; and blinding: nothing a reader receives names a method or leads to a map."""

import json

import pytest
from rest_framework.test import APIClient

from modelops.models import LikertCase, LikertScore, LikertStudy, SaliencyMap
from modelops.saliency.selectors import saliency_dir
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

STUDIES = "/api/v1/modelops/likert-studies/"
METHOD_WORDS = ("normgrad", "gradcam", "grad-cam", "grad_cam", "method")


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _create(world, readers=("neuro1", "neuro2"), name="Saliency study 1"):
    return _client(world["coordinator"]).post(
        STUDIES,
        {"name": name, "saliency_run": world["run"].pk, "readers": list(readers), "seed": 7},
        format="json",
    )


def _blind(payload: bytes, world) -> None:
    text = payload.decode("latin-1").lower()
    assert not any(word in text for word in METHOD_WORDS), text[:500]
    for token in SaliencyMap.objects.values_list("token", flat=True):
        assert str(token) not in text


def test_a_coordinator_sets_up_a_study_of_every_map_with_an_order_per_reader(world):
    response = _create(world)

    assert response.status_code == 201, response.json()
    study = LikertStudy.objects.get()
    assert response.json()["cases_total"] == 4 == study.cases.count()
    orders = {
        reader: list(
            LikertScore.objects.filter(study=study, reader__username=reader)
            .order_by("position")
            .values_list("case_id", flat=True)
        )
        for reader in ("neuro1", "neuro2")
    }
    assert (
        sorted(orders["neuro1"])
        == sorted(orders["neuro2"])
        == sorted(study.cases.values_list("pk", flat=True))
    )
    assert orders["neuro1"] != orders["neuro2"], "two readers' orders differ"
    assert _create(world).status_code == 409, "names are unique"
    refused = _create(world, readers=("coordinator",), name="other")
    assert refused.status_code == 400 and "Not neuroradiologists" in refused.json()["message"]
    assert _client(world["readers"][0]).post(STUDIES, {}, format="json").status_code == 403


def test_a_reader_scores_undoes_and_resumes_their_own_cases(world):
    study_id = _create(world).json()["id"]
    reader = _client(world["readers"][0])
    items_url = f"{STUDIES}{study_id}/items/"

    first = reader.get(items_url).json()
    saved = reader.post(f"{STUDIES}{study_id}/scores/", {"position": 0, "score": 4}, format="json")
    reader.post(f"{STUDIES}{study_id}/scores/", {"position": 1, "score": 2}, format="json")
    undone = reader.post(
        f"{STUDIES}{study_id}/scores/", {"position": 1, "score": None}, format="json"
    )
    bad = reader.post(f"{STUDIES}{study_id}/scores/", {"position": 2, "score": 5}, format="json")
    beyond = reader.post(
        f"{STUDIES}{study_id}/scores/", {"position": 99, "score": 3}, format="json"
    )
    again = reader.get(items_url).json()

    assert [item["position"] for item in first] == [0, 1, 2, 3]
    assert saved.status_code == 200 and saved.json()["score"] == 4
    assert undone.json()["score"] is None
    assert bad.status_code == 400 and beyond.status_code == 404
    assert [item["score"] for item in again] == [4, None, None, None]
    listed = reader.get(STUDIES).json()["results"]
    assert listed[0]["progress"] == {"scored": 1, "total": 4}


def test_nothing_a_reader_receives_names_a_method_or_a_map(world):
    study_id = _create(world).json()["id"]
    one, two = (_client(r) for r in world["readers"][:2])

    listed = one.get(STUDIES)
    items = one.get(f"{STUDIES}{study_id}/items/")
    cases = [item["case"] for item in items.json()]
    overlays = [one.get(f"/api/v1/modelops/likert-cases/{case}/overlay.png") for case in cases]
    saved = one.post(f"{STUDIES}{study_id}/scores/", {"position": 0, "score": 3}, format="json")

    for response in (listed, items, saved):
        _blind(response.content, world)
    for case, response in zip(cases, overlays, strict=True):
        body = response.content
        _blind(body + json.dumps(dict(response.items())).encode(), world)
        # The overlay is the map's file, fetched under the case's own token.
        saliency_map = LikertCase.objects.get(token=case).saliency_map
        expected = saliency_dir(saliency_map.item.run_id) / f"{saliency_map.token}.png"
        assert body == expected.read_bytes()
        assert b"tEXt" not in body and b"iTXt" not in body, "no text chunks in the PNG"
    # Another reader's view of the same study: a different order of the same cases.
    other = [item["case"] for item in two.get(f"{STUDIES}{study_id}/items/").json()]
    assert sorted(other) == sorted(cases) and other != cases
    assert one.get(f"{STUDIES}{study_id}/scores.csv").status_code == 403
    dicom = one.get(f"/api/v1/modelops/likert-cases/{cases[0]}/slice/")
    assert dicom.status_code == 200 and dicom["Content-Type"] == "application/dicom"
    _blind(json.dumps(dict(dicom.items())).encode(), world)


def test_readers_outside_a_study_find_nothing_of_it(world):
    study_id = _create(world).json()["id"]
    case = LikertCase.objects.first().token
    outsider = _client(world["readers"][2])
    newcomer = _client(user_with_role("neuro9", "neuroradiologist"))

    for client in (outsider, newcomer):
        assert client.get(STUDIES).json()["results"] == []
        assert client.get(f"{STUDIES}{study_id}/items/").status_code == 404
        assert (
            client.post(
                f"{STUDIES}{study_id}/scores/", {"position": 0, "score": 2}, format="json"
            ).status_code
            == 404
        )
        assert client.get(f"/api/v1/modelops/likert-cases/{case}/overlay.png").status_code == 404
        assert client.get(f"/api/v1/modelops/likert-cases/{case}/slice/").status_code == 404


def test_a_closed_study_keeps_its_scores_and_the_csv_names_the_methods(world):
    study_id = _create(world).json()["id"]
    reader = _client(world["readers"][0])
    for position, score in enumerate((4, 3, 1, 2)):
        reader.post(
            f"{STUDIES}{study_id}/scores/", {"position": position, "score": score}, format="json"
        )
    coordinator = _client(world["coordinator"])

    closed = coordinator.post(f"{STUDIES}{study_id}/close/")
    late = reader.post(f"{STUDIES}{study_id}/scores/", {"position": 0, "score": 1}, format="json")
    csv = _client(world["engineer"]).get(f"{STUDIES}{study_id}/scores.csv").content.decode()

    assert closed.status_code == 200 and closed.json()["closed"] is True
    assert late.status_code == 409
    assert reader.get(STUDIES).json()["results"] == [], "a closed study leaves the reader's list"
    lines = csv.strip().split("\n")
    assert lines[0] == "reader,case,method,subtype,score,position,scored_at"
    assert len(lines) == 5 and {line.split(",")[2] for line in lines[1:]} == {
        "normgrad",
        "gradcam",
    }
    assert coordinator.post(f"{STUDIES}{study_id}/close/").status_code == 409

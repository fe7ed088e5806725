"""Clients and a study set up through the API, as the tests use them."""

from rest_framework.test import APIClient

STUDIES = "/api/v1/reader-studies/"
READS = "/api/v1/reader-study-reads/"
ALL_MODALITIES = ["unaided", "aided_scores", "aided_saliency"]


def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def design(world, **changes) -> dict:
    body = {
        "name": "ICH reader study",
        "description": "Does the model help?",
        "ground_truth_version": world["version"].pk,
        "case_count": 6,
        "readers": [r.pk for r in world["readers"][:3]],
        "modalities": ["unaided", "aided_scores"],
        "model_version": world["model"].pk,
        "washout_days": 0,
        "seed": 11,
    }
    return {**body, **changes}


def create(world, **changes) -> dict:
    response = client(world["coordinator"]).post(STUDIES, design(world, **changes), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def answer(api, read_id: int, *, any_ich=True, confidence=70, active_time_s=5.0, subtypes=None):
    body = {
        "any_ich": any_ich,
        "subtypes": subtypes if subtypes is not None else ({"IPH": True} if any_ich else {}),
        "confidence": confidence,
        "active_time_s": active_time_s,
    }
    return api.post(f"{READS}{read_id}/answer/", body, format="json")


def read_session(api, study_id: int, decide=None) -> list[dict]:
    """Open and answer every read of the reader's current session; the reads' details."""
    details = []
    while True:
        state = api.get(f"{STUDIES}{study_id}/next/").json()
        if state["state"] != "read":
            return details
        detail = api.get(f"{READS}{state['read']}/").json()
        details.append(detail)
        kwargs = decide(detail) if decide else {}
        response = answer(api, state["read"], **kwargs)
        assert response.status_code == 200, response.content
        if (
            response.json()["next"]["state"] != "read"
            or response.json()["session"]["answered"] == response.json()["session"]["total"]
        ):
            return details

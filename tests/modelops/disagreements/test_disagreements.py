"""The disagreement list of a model version at its frozen thresholds (against the ground truth
and against a training scan's single read, ranked by confidence), its API and page with their
permissions, scoring requests, and a selection sent to a blinded second read whose state the
list then shows, up to the ground-truth version it settled in."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotations.ground_truth.services import ground_truth_freeze
from annotations.models import JobStatus, ReadKind, SecondReadRequest
from annotations.reading.services import read_assign
from ichlabel.errors import InvalidInput
from modelops.disagreements.selectors import disagreement_list, model_scan_scores
from modelops.disagreements.services import scan_scoring_request
from modelops.models import ScanScoringRun
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.modelops.disagreements.factories import THRESHOLDS, disagreement_world, scores_of

pytestmark = pytest.mark.django_db

CLASSES = ("any", "iph", "ivh", "sah", "sdh", "edh")


@pytest.fixture
def world(jobs_queued):
    return disagreement_world()


def _named(world, items) -> list[tuple]:
    names = {scan.pk: name for name, scan in world["scans"].items()}
    return [(names[d.scan_id], d.hemorrhage_class, d.kind[6:8], d.source[:2]) for d in items]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_disagreements_at_the_frozen_thresholds_ranked_by_confidence(world):
    found = disagreement_list(version=world["model"])

    # T1's missed SDH is the ground truth's finding (its one read is the ground truth there):
    # it is not listed a second time as a single-read disagreement.
    assert _named(world, found.items) == [
        ("t3", "edh", "po", "si"),  # (0.99 - 0.5) / 0.5
        ("t1", "sdh", "ne", "gr"),  # (0.5 - 0.05) / 0.5
        ("v2", "any", "po", "gr"),  # (0.9 - 0.4) / 0.6
        ("v1", "any", "ne", "gr"),  # (0.4 - 0.1) / 0.4
        ("v1", "iph", "ne", "gr"),
        ("t3", "any", "ne", "si"),
        ("v2", "sah", "po", "gr"),
        ("t3", "ivh", "ne", "si"),
    ]
    first = found.items[0]
    assert (first.split, first.score, first.threshold) == ("train", 0.99, 0.5)
    assert first.confidence == pytest.approx(0.98)
    assert found.items[1].reads == 1 and found.items[3].reads == 3
    assert found.counts["any"] == {"false_positive": 1, "false_negative": 2}
    assert found.counts["sdh"] == {"false_positive": 0, "false_negative": 1}
    assert found.scored_scans == 5 and found.thresholds == THRESHOLDS

    validation = disagreement_list(version=world["model"], split="validation")
    assert _named(world, validation.items) == [
        ("v2", "any", "po", "gr"),
        ("v1", "any", "ne", "gr"),
        ("v1", "iph", "ne", "gr"),
        ("v2", "sah", "po", "gr"),
    ]
    assert validation.counts["edh"] == {"false_positive": 0, "false_negative": 0}
    missed_any = disagreement_list(
        version=world["model"], hemorrhage_class="any", kind="false_negative"
    )
    assert _named(world, missed_any.items) == [("v1", "any", "ne", "gr"), ("t3", "any", "ne", "si")]
    single = disagreement_list(version=world["model"], source="single_read")
    assert [d.scan_id for d in single.items] == [world["scans"]["t3"].pk] * 3

    # A second read of T3 makes it no longer a single-read scan.
    label_and_complete(
        read_assign(scan=world["scans"]["t3"], reader=world["readers"][2], kind=ReadKind.CROSS),
        {2: {"ivh": True}},
    )
    assert disagreement_list(version=world["model"], source="single_read").items == []
    assert model_scan_scores(
        model_version=world["model"], scan_ids=[world["scans"]["t3"].pk, 10**9]
    ) == {
        world["scans"]["t3"].pk: dict(
            zip(CLASSES, scores_of(any=0.2, ivh=0.35, edh=0.99), strict=True)
        )
    }


def test_the_list_through_the_api_and_the_page_for_each_role(world):
    model = world["model"]
    url = f"/api/v1/modelops/models/{model.pk}/disagreements/"
    body = _client(world["engineer"]).get(url, {"limit": 2, "offset": 2}).json()
    assert body["count"] == 8
    assert [(r["rank"], r["hemorrhage_class"], r["kind"]) for r in body["results"]] == [
        (3, "any", "false_positive"),
        (4, "any", "false_negative"),
    ]
    assert body["results"][0]["second_read"]["state"] == "not_sent"
    assert body["counts"]["sah"] == {"false_positive": 1, "false_negative": 0}
    assert body["next"] and body["previous"]
    bad = _client(world["engineer"]).get(url, {"kind": "maybe"})
    assert bad.status_code == 400
    reader = _client(world["readers"][0])
    assert reader.get(url).status_code == 403

    page = f"/models/versions/{model.pk}/disagreements/"
    coordinator = _browser(world["coordinator"]).get(page, {"class": "any"})
    assert coordinator.status_code == 200
    html = coordinator.content.decode()
    assert html.count('class="pick"') == 3 and 'id="send-selected"' in html
    engineer = _browser(world["engineer"]).get(page).content.decode()
    assert engineer.count("<tr data-scan=") == 8 and 'id="send-selected"' not in engineer
    assert _browser(world["readers"][0]).get(page).status_code == 403
    version_page = _browser(world["engineer"]).get(f"/models/versions/{model.pk}/")
    assert f'href="{page}"' in version_page.content.decode()


def test_a_selection_goes_to_a_blinded_second_read_and_settles_in_the_next_version(world):
    model, scans, readers = world["model"], world["scans"], world["readers"]
    url = f"/api/v1/modelops/models/{model.pk}/disagreements/second-reads/"
    items = [
        {"scan": scans["v1"].pk, "hemorrhage_class": "any", "source": "ground_truth"},
        {"scan": scans["v1"].pk, "hemorrhage_class": "iph", "source": "ground_truth"},
        {"scan": scans["t1"].pk, "hemorrhage_class": "sdh", "source": "ground_truth"},
        {"scan": scans["v2"].pk, "hemorrhage_class": "iph", "source": "ground_truth"},
    ]
    assert _client(world["engineer"]).post(url, {"items": items}, format="json").status_code == 403
    answer = _client(world["coordinator"]).post(url, {"items": items}, format="json")

    assert answer.status_code == 200, answer.json()
    result = answer.json()
    assert sorted(s["scan"] for s in result["sent"]) == [scans["v1"].pk, scans["t1"].pk]
    assert [(r["scan"], r["code"]) for r in result["refused"]] == [
        (scans["v2"].pk, "not_a_disagreement")
    ]
    request = SecondReadRequest.objects.get(scan=scans["v1"])
    # The most confident of V1's two findings is the reason it went.
    assert request.reason == {
        "source": "model",
        "model_version": model.pk,
        "model_version_name": "m-1",
        "class": "any",
        "kind": "false_negative",
        "score": 0.1,
        "threshold": 0.4,
        "confidence": 0.75,
        "against": "ground_truth",
        "split": "validation",
    }
    # V1's only eligible reader is the fourth; the second read is a blinded cross-read.
    assert request.read.reader == readers[3] and request.read.kind == ReadKind.CROSS
    again = _client(world["coordinator"]).post(
        url, {"items": items[2:3], "reader": readers[1].pk}, format="json"
    )
    assert [r["code"] for r in again.json()["refused"]] == ["pending_second_read"]

    listing = _client(world["coordinator"]).get(
        f"/api/v1/modelops/models/{model.pk}/disagreements/", {"split": "validation"}
    )
    assert listing.status_code == 200, listing.json()
    states = {
        (r["scan"], r["hemorrhage_class"]): r["second_read"] for r in listing.json()["results"]
    }
    assert states[(scans["v1"].pk, "any")]["state"] == "reading"
    assert states[(scans["v1"].pk, "any")]["reason"]["kind"] == "false_negative"
    assert states[(scans["v2"].pk, "any")]["state"] == "not_sent"

    # The fourth reader agrees with the first three: settled, and in the next version.
    label_and_complete(request.read, {1: {"iph": True}})
    ground_truth_freeze(name="gt-v2", created_by=world["coordinator"])
    page = _browser(world["coordinator"]).get(
        f"/models/versions/{model.pk}/disagreements/", {"split": "validation"}
    )
    assert "Settled in gt-v2" in page.content.decode()


def test_scoring_requests_queue_only_unscored_scans_once(
    world, jobs_queued, django_capture_on_commit_callbacks
):
    model, scans = world["model"], world["scans"]
    new = make_scan(split="train", center="Center T", slices=2)
    with django_capture_on_commit_callbacks(execute=True):
        run = scan_scoring_request(
            model_version=model,
            scans=[scans["v1"], new, new.pk, scans["t3"].pk],
            requested_by=world["engineer"],
        )
    assert run.scan_ids == [new.pk] and run.scans_total == 1 and run.status == JobStatus.PENDING
    assert jobs_queued == [run.pk]
    assert (
        scan_scoring_request(model_version=model, scans=[new], requested_by=world["engineer"])
        is None
    )
    with pytest.raises(InvalidInput):
        scan_scoring_request(model_version=model, scans=[], requested_by=world["engineer"])
    with pytest.raises(InvalidInput):
        scan_scoring_request(model_version=model, scans=[10**9], requested_by=world["engineer"])

    api = _client(world["coordinator"])
    url = f"/api/v1/modelops/models/{model.pk}/scoring-runs/"
    # Without scans: the ground truth's and the once-read training scans it has not scored
    # (all scored here but the new one, which has no read and is in flight anyway).
    assert api.post(url, {}, format="json").json() == {"message": "Every scan already has a score."}
    assert [r["id"] for r in api.get(url).json()] == [run.pk]
    page = _browser(world["engineer"]).get(f"/models/versions/{model.pk}/disagreements/")
    assert f'<tr data-run="{run.pk}" data-status="pending">' in page.content.decode()
    assert ScanScoringRun.objects.count() == 1

    # Canceled while queued: at once; a finished run cannot be canceled again (409).
    cancel = f"{url}{run.pk}/cancel/"
    assert api.post(cancel).json()["status"] == "canceled"
    assert api.post(cancel).status_code == 409
    assert _client(world["readers"][0]).post(cancel).status_code == 403

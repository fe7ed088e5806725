"""The disagreement loop through the API, end to end: a model's disagreement sends a training
scan to a blinded second read; the second reader sees neither the first read nor the model;
the 1:1 disagreement is adjudicated; the next ground-truth version takes the decision; and the
scan-by-scan comparison lists the scan with why it changed. Then active learning: the never-read
pool ordered by the model's uncertainty."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.ground_truth.services import ground_truth_freeze
from annotations.models import GroundTruthScanLabel, ReadKind, SecondReadRequest
from annotations.reading.services import read_assign
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def people():
    return {
        "coordinator": user_with_role("coord", "coordinator"),
        "ml_engineer": user_with_role("mleng", "ml_engineer"),
        "first": user_with_role("first", "neuroradiologist"),
        "second": user_with_role("second", "neuroradiologist"),
    }


def approved_model(people, *, thresholds=None):
    """A registered, approved model version (its evaluation gives the frozen thresholds)."""
    from modelops.models import ModelStatus, ModelVersion
    from tests.modelops.registry_factories import make_run, make_snapshot, make_version

    gt = ground_truth_freeze(name="for-the-model", created_by=people["coordinator"])
    snapshot = make_snapshot(version=gt, user=people["ml_engineer"])
    model = make_version(run=make_run(snapshot=snapshot, user=people["ml_engineer"]), name="m1")
    evaluation = dict(model.evaluation)
    if thresholds is not None:
        evaluation["thresholds"] = {name: {"value": v} for name, v in thresholds.items()}
    # Versions are written once by the registry; the test sets what the registry would.
    ModelVersion.objects.filter(pk=model.pk).update(
        status=ModelStatus.APPROVED, evaluation=evaluation
    )
    return ModelVersion.objects.get(pk=model.pk)


def test_disagreement_to_second_read_to_adjudication_to_new_version(people, data_dir):
    from modelops.models import ModelOutputRelease

    coordinator, first, second = people["coordinator"], people["first"], people["second"]
    # A training scan read once: IPH on slice 1, no SDH anywhere.
    scan = make_scan(center="Center T", split="train", slices=4)
    first_read = read_assign(scan=scan, reader=first, kind=ReadKind.PRIMARY)
    label_and_complete(first_read, {1: {"iph": True}})
    model = approved_model(people, thresholds={"any": 0.5, "iph": 0.5, "sdh": 0.5})
    v1 = GroundTruthScanLabel.objects.get(scan=scan).version
    # The model scored the scan: IPH as read, and a confident SDH the read does not have.
    from modelops.disagreements.services import model_scan_scores_store

    model_scan_scores_store(
        model_version=model, split="train", scan_ids=[scan.pk], scores=[[0.97, 0.8, 0, 0, 0.93, 0]]
    )
    # The model's output was released to the scan's readers.
    ModelOutputRelease.objects.create(model_version=model, scan=scan, released_by=coordinator)
    coord = client_of(coordinator)
    listed = coord.get(reverse("model-disagreements", args=[model.pk])).json()
    (found,) = listed["results"]
    assert (found["scan"], found["hemorrhage_class"], found["kind"]) == (
        scan.pk,
        "sdh",
        "false_positive",
    )
    # The coordinator sends it to a second read from the list (the list calls the service).
    assert client_of(first).post(reverse("second-read-list"), {}, format="json").status_code == 403
    sent = coord.post(
        reverse("model-disagreements-send", args=[model.pk]),
        {"items": [{"scan": scan.pk, "hemorrhage_class": "sdh", "source": found["source"]}]},
        format="json",
    )
    assert sent.status_code == 200, sent.json()
    assert sent.json()["refused"] == []
    response = coord.get(reverse("second-read-list"), {"scan": scan.pk})
    (made,) = response.json()["results"]
    reason = made["reason"]
    assert reason["source"] == "model" and reason["class"] == "sdh" and reason["score"] == 0.93
    assert made["reader"] == "second" and made["state"] == "reading"
    again = coord.post(
        reverse("second-read-list"),
        {"scans": [{"scan": scan.pk, "reason": {"source": "coordinator"}}]},
        format="json",
    )
    assert again.status_code == 201 and again.json()["refused"][0]["code"] == "pending_second_read"
    read_id = made["read"]

    # Blinding: the second reader's endpoints say nothing of the first read or the model.
    reader = client_of(second)
    worklist = reader.get(reverse("worklist")).json()
    (item,) = worklist if isinstance(worklist, list) else worklist["results"]
    assert item["id"] == read_id and "kind" not in item
    text = str(worklist) + str(reader.get(reverse("read-detail", args=[read_id])).json())
    assert "first" not in text and "model" not in text and "0.93" not in text
    assert reader.get(reverse("read-detail", args=[first_read.pk])).status_code == 404
    released = reader.get(reverse("reader-ground-truth-list")).json()
    assert (released if isinstance(released, list) else released["results"]) == []
    output = reader.get(reverse("scan-model-output", args=[scan.pk])).json()
    assert output["models"] == [] and output["runs"] == []
    assert client_of(first).get(reverse("scan-model-output", args=[scan.pk])).json()["models"]
    for name in ("adjudication-list", "second-read-list", "ground-truth-list"):
        assert reader.get(reverse(name)).status_code == 403

    # The second reader marks SDH on slices 2 and 3 (and agrees on the IPH).
    from annotations.models import Read

    label_and_complete(
        Read.objects.get(pk=read_id), {1: {"iph": True}, 2: {"sdh": True}, 3: {"sdh": True}}
    )
    items = coord.get(reverse("adjudication-list"), {"reason": "second_read"}).json()
    items = items["results"] if isinstance(items, dict) else items
    assert sorted((i["slice_index"], i["label"]) for i in items) == [(2, "sdh"), (3, "sdh")]
    # The reading page lists the request with why, and links its open items.
    from django.test import Client

    browser = Client()
    browser.force_login(coordinator)
    reading = browser.get(reverse("reading-round-page")).content.decode()
    assert "Model m1: SDH false positive, score 0.93" in reading
    queue_link = (
        f"{reverse('adjudication-page')}?reason=second_read&amp;status=open&amp;scan={scan.pk}"
    )
    assert queue_link in reading and "2 open items" in reading
    queue = browser.get(
        reverse("adjudication-page"), {"reason": "second_read", "scan": scan.pk}
    ).content.decode()
    assert queue.count("A second read disagrees") >= 2
    # The adjudicator sees both reads, as for any vote.
    detail = coord.get(reverse("adjudication-detail", args=[items[0]["id"]])).json()
    assert sorted(vote["reader"] for vote in detail["votes"]) == ["first", "second"]
    for entry, value in zip(
        sorted(items, key=lambda i: i["slice_index"]), (True, False), strict=True
    ):
        response = coord.post(
            reverse("adjudication-resolve", args=[entry["id"]]),
            {
                "reason": f"slice {entry['slice_index']}: {'thin SDH' if value else 'artifact'}",
                "value": value,
            },
            format="json",
        )
        assert response.status_code == 200, response.json()
    assert SecondReadRequest.objects.get().state == "settled"
    freeze = coord.post(reverse("ground-truth-freeze"), {"name": "v2"}, format="json")
    v2 = freeze.json()["id"]
    label = GroundTruthScanLabel.objects.get(version_id=v2, scan=scan)
    assert label.sdh and label.adjudicated and label.reads == 2
    # The model's list shows where the scan stands now.
    listed = coord.get(reverse("model-disagreements", args=[model.pk])).json()
    (row,) = [r for r in listed["results"] if r["scan"] == scan.pk]
    assert row["second_read"]["state"] == "settled" and row["second_read"]["settled_in"] == "v2"

    changes = coord.get(reverse("ground-truth-scan-changes"), {"a": v1.pk, "b": v2}).json()
    assert changes["counts"]["changed"] == 1 and changes["counts"]["total"] == 1
    assert changes["counts"]["by_class"]["sdh"] == {
        "scans_gained": 1,
        "scans_lost": 0,
        "slices_changed": 1,
    }
    (row,) = changes["scans"]
    assert row["scan"] == scan.pk and row["change"] == "changed"
    assert row["classes_changed"] == ["sdh"] and row["slices_changed"] == 1
    (why,) = row["second_reads"]
    assert why["reason"] == reason and why["reader"] == "second" and why["disagreements"] == 2
    assert (
        why["reason_text"] == "Model m1: SDH false positive, score 0.93 (against the ground truth)"
    )
    decided = {(a["slice_index"], a["decision"], a["decided_by"]) for a in row["adjudications"]}
    assert decided == {(2, "SDH present", "coord"), (3, "SDH absent", "coord")}
    assert [r["reader"] for r in row["reads"]] == ["second"]
    assert (
        client_of(second)
        .get(reverse("ground-truth-scan-changes"), {"a": v1.pk, "b": v2})
        .status_code
        == 403
    )

    # The page, linked from the versions list, says the same.
    versions_page = browser.get(reverse("ground-truth-page")).content.decode()
    link = f"{reverse('ground-truth-changes-page')}?a={v1.pk}&amp;b={v2}"
    assert link in versions_page
    page = browser.get(reverse("ground-truth-changes-page"), {"a": v1.pk, "b": v2}).content.decode()
    assert "Model m1: SDH false positive, score 0.93" in page and "SDH present" in page
    assert f'data-scan="{scan.pk}"' in page
    # A page past the end is the last page, with its rows.
    past = reverse("ground-truth-changes-page")
    page = browser.get(past, {"a": v1.pk, "b": v2, "page": 9}).content.decode()
    assert f'data-scan="{scan.pk}"' in page


def test_uncertainty_orders_the_never_read_pool(people, data_dir):
    from modelops.models import ModelScanScore

    coordinator = people["coordinator"]
    # One scan read already (never in the pool), five never read.
    read_scan = make_scan(center="Center T", split="train")
    label_and_complete(read_assign(scan=read_scan, reader=people["first"], kind=ReadKind.PRIMARY))
    model = approved_model(people, thresholds={"any": 0.6, "sdh": 0.5})
    pool = [make_scan(center="Center T", split="train") for _ in range(5)]
    # Scores for any: distances to 0.6 are 0.3, 0.05, 0.2, (unscored), 0.01.
    for scan, score in zip(pool, (0.9, 0.55, 0.4, None, 0.61), strict=True):
        if score is not None:
            ModelScanScore.objects.create(
                model_version=model, scan=scan, any=score, iph=0, ivh=0, sah=0, sdh=0, edh=0
            )
    ModelScanScore.objects.create(
        model_version=model, scan=read_scan, any=0.6, iph=0, ivh=0, sah=0, sdh=0, edh=0
    )
    from django.test import Client

    browser = Client()
    browser.force_login(coordinator)
    page = browser.get(reverse("reading-round-page")).content.decode()
    assert "Most uncertain first" in page and f'<option value="{model.pk}">m1 (approved)' in page
    coord = client_of(coordinator)
    summary = coord.get(
        reverse("assignment-uncertainty"), {"model_version": model.pk, "split": "train"}
    ).json()
    assert summary["pool"] == 5 and summary["scored"] == 4 and summary["threshold"] == 0.6
    expected = [pool[4].pk, pool[1].pk, pool[2].pk, pool[0].pk, pool[3].pk]
    assert [row["scan"] for row in summary["scans"]] == expected

    # Assigning three: the three most uncertain, balanced over the readers.
    body = {"order": "uncertainty", "model_version": model.pk, "limit": 3, "split": "train"}
    assert (
        coord.post(
            reverse("scans-assign"), {**body, "model_version": None}, format="json"
        ).status_code
        == 400
    )
    response = coord.post(reverse("scans-assign"), {**body, "seed": 5}, format="json")
    assert response.status_code == 201, response.json()
    result = response.json()
    assert sorted(read["scan"] for read in result["reads"]) == sorted(expected[:3])
    assert [row["scan"] for row in result["uncertainty"]["scans"]] == expected[:3]
    assert {read["reader"] for read in result["reads"]} == {people["first"].pk, people["second"].pk}
    # The readers learn nothing of the order's scores.
    worklist = client_of(people["second"]).get(reverse("worklist")).json()
    assert "score" not in str(worklist) and "0.61" not in str(worklist)
    after = coord.get(reverse("assignment-uncertainty"), {"model_version": model.pk}).json()
    assert [row["scan"] for row in after["scans"]] == expected[3:]

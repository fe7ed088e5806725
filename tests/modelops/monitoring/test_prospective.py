"""The prospective set: a node's result finds the scan ICHLabel imports from the same series by
the series link (no identifier of the hospital stored), the scans three radiologists read at
scan level give the model's Table 2 at its frozen thresholds, and each week's scores are held
against validation's (drift). Page and CSV; readers reach none of it."""

import copy
import csv
import hashlib
import io
from datetime import timedelta

import pydicom
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.dicom.link import center_link_key, series_link
from annotations.ground_truth.services import ground_truth_freeze
from annotations.ingest.services import center_get_or_create, import_batch_import_paths
from annotations.models import ImportBatch, ReadKind, ReadLevel, Scan
from annotations.phantoms import write_phantoms
from annotations.reading.services import read_assign
from modelops.models import EdgeNode, ModelBuild, ModelVersion
from modelops.monitoring.prospective import linked_scans, prospective_drift, prospective_report
from modelops.nodes.tokens import token_hash
from tests.annotations.study_factories import make_scan, scan_label_and_complete
from tests.conftest import user_with_role
from tests.modelops.registry_factories import seed_registry

pytestmark = pytest.mark.django_db

URL = "/api/v1/modelops/node/predictions/"
CLASSES = ("any", "iph", "ivh", "sah", "sdh", "edh")


@pytest.fixture
def world():
    registry = seed_registry()
    version = registry["models"][0]
    evaluation = copy.deepcopy(version.evaluation)
    for cls in CLASSES:
        evaluation["thresholds"][cls]["value"] = 0.5
    ModelVersion.objects.filter(pk=version.pk).update(evaluation=evaluation)
    version.refresh_from_db()
    ModelBuild.objects.create(
        model_version=version,
        number=5,
        expires_at=timezone.now() + timedelta(days=9),
        created_by=registry["engineer"],
        status="succeeded",
    )
    nodes = {}
    for name, center in (("jetson-p", "Center P"), ("jetson-q", "Center Q")):
        nodes[name] = EdgeNode.objects.create(
            name=name,
            center=center_get_or_create(name=center, split="test"),
            created_by=registry["engineer"],
            enrolled_at=timezone.now(),
            token_hash=token_hash(f"token-{name}"),
        )
    return {**registry, "version": version, "nodes": nodes}


def _report(node: str, link: str, scores: dict, **extra) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Node token-{node}")
    body = {
        "key": f"{link}-b5",
        "series": link,
        "build": 5,
        "scored_at": (extra.pop("at", None) or timezone.now()).isoformat(),
        "scores": scores,
        "decision": {c: s >= 0.5 for c, s in scores.items()},
        **extra,
    }
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _link(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def test_an_imported_series_is_keyed_like_the_nodes_result_without_its_uid(world, tmp_path):
    write_phantoms(tmp_path, scans=1, seed=3, size=32)
    original = pydicom.dcmread(
        next(p for p in tmp_path.rglob("*") if p.parent != tmp_path)
    ).SeriesInstanceUID
    center = world["nodes"]["jetson-p"].center
    import_batch_import_paths(
        paths=[tmp_path], center=center, split=None, source=ImportBatch.Source.DEMO
    )
    scan = Scan.objects.get(center=center)
    link = series_link(center_link_key(settings.DEID_SECRET, "Center P"), original)

    assert scan.source_link == link and scan.series_instance_uid != original
    assert original not in str(Scan.objects.filter(pk=scan.pk).values().first())
    # What the node of that center reports for the series finds the scan; the same link from
    # a node of another center does not (a link key is the center's own).
    here = _report("jetson-p", link, dict.fromkeys(CLASSES, 0.1))
    there = _report("jetson-q", link, dict.fromkeys(CLASSES, 0.1))
    predictions = world["version"].builds.get().predictions.select_related("node").all()
    assert linked_scans(predictions) == {here: scan.pk}
    assert there not in linked_scans(predictions)


def _read_at_scan_level(scan: Scan, readers: list, votes: list[dict]) -> None:
    kinds = (ReadKind.PRIMARY, ReadKind.CROSS, ReadKind.CROSS)
    for reader, values, kind in zip(readers, votes, kinds, strict=True):
        read = read_assign(scan=scan, reader=reader, kind=kind, level=ReadLevel.SCAN)
        scan_label_and_complete(read, values)


def test_three_scan_level_reads_give_the_prospective_table_2(world, client):
    version = world["version"]
    readers = [user_with_role(f"radiologist{n}", "neuroradiologist") for n in range(3)]
    sah, none = {"sah": True}, {"no_hemorrhage": True}
    # (majority of three reads, the node's "any" and "sah" scores)
    cases = [([sah, sah, none], 0.9), ([sah, none, sah], 0.8), ([none, none, sah], 0.7)]
    cases += [([none, none, none], 0.2)]
    for number, (votes, score) in enumerate(cases):
        scan = make_scan(split="test", center="Center P")
        Scan.objects.filter(pk=scan.pk).update(source_link=_link(f"s{number}"))
        _read_at_scan_level(scan, readers, votes)
        scores = {**dict.fromkeys(CLASSES, 0.1), "any": score, "sah": score}
        _report("jetson-p", _link(f"s{number}"), scores)
    _report("jetson-p", _link("not imported"), dict.fromkeys(CLASSES, 0.9))

    before = prospective_report(version)
    assert (before["predictions"], before["linked"], before["report"]) == (5, 4, None)
    ground_truth_freeze(name="prospective-1", created_by=world["coordinator"])
    report = prospective_report(version)

    assert report["with_reference"] == 4 and report["ground_truth"] == ["prospective-1"]
    rows = {row["hemorrhage_class"]: row for row in report["report"]["splits"]["All nodes"]["rows"]}
    assert (rows["any"]["tp"], rows["any"]["fp"], rows["any"]["tn"], rows["any"]["fn"]) == (
        2,
        1,
        1,
        0,
    )
    assert rows["any"]["accuracy"]["value"] == 0.75 and rows["any"]["threshold"] == 0.5
    assert rows["any"]["auroc"]["value"] == 1.0  # 0.9, 0.8 above 0.7, 0.2
    # The page and the CSV show it to the ML engineer; a reader reaches neither.
    client.force_login(world["engineer"])
    page = client.get(f"/models/versions/{version.pk}/prospective/").content.decode()
    assert 'data-count="with_reference">4' in page and 'id="report-all-nodes"' in page
    answer = client.get(f"/api/v1/modelops/models/{version.pk}/prospective.csv")
    table = list(csv.DictReader(io.StringIO(answer.content.decode())))
    any_row = next(r for r in table if r["group"] == "All nodes" and r["class"] == "any")
    assert any_row["tp"] == "2" and float(any_row["accuracy_value"]) == 0.75
    reader = APIClient()
    reader.force_login(readers[0])
    assert reader.get(f"/api/v1/modelops/models/{version.pk}/prospective.csv").status_code == 403
    assert reader.get(f"/models/versions/{version.pk}/prospective/").status_code == 403


def test_a_week_whose_scores_moved_away_from_validation_is_flagged(world, client):
    version = world["version"]
    reference = version.evaluation["reference_scores"]["scores"]
    monday = timezone.now() - timedelta(days=timezone.now().weekday() + 7)
    for number, row in enumerate(reference[:12]):  # last week: validation's own scores
        scores = dict(zip(CLASSES, row, strict=True))
        _report("jetson-p", _link(f"a{number}"), scores, at=monday + timedelta(hours=number))
    for number in range(12):  # this week: every scan scored near 1
        scores = {**dict.fromkeys(CLASSES, 0.1), "any": 0.97 + number / 1000}
        _report("jetson-q", _link(f"b{number}"), scores, at=monday + timedelta(days=7, hours=1))

    drift = prospective_drift(version, "any")

    overall = drift["groups"][0]
    assert overall["name"] == "All nodes" and len(overall["weeks"]) == 2
    last_week, this_week = overall["weeks"]
    assert not last_week["shifted"] and this_week["shifted"]
    assert this_week["scores"]["n"] == 12 and this_week["ks_statistic"] > 0.5
    assert [g["name"] for g in drift["groups"]] == ["All nodes", "jetson-p", "jetson-q"]
    client.force_login(world["engineer"])
    page = client.get(f"/models/versions/{version.pk}/prospective/?class=any").content.decode()
    assert page.count("<strong>shifted</strong>") == 2  # all nodes and jetson-q, this week
    answer = client.get(f"/api/v1/modelops/models/{version.pk}/drift.csv")
    table = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert {r["class"] for r in table} == set(CLASSES)
    assert [r["shifted"] for r in table if r["class"] == "any" and r["group"] == "jetson-q"] == [
        "True"
    ]

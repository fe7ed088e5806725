"""A build goes from the app to a node: the agent (``edge/``, run as its own process, talking
HTTP to a live server) enrols with its one-time token, is told to run the canary build, fetches
it, verifies and health-checks it against the key it pinned, switches to it, and reports; the
rollout then expands. A tampered build is refused by the node, which keeps serving its build,
and the rollout rolls back on that report. A series in the PACS goes through the node's round
and back to ICHLabel, where its imported scan is found by the series link.
"""

import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from annotations.ingest.services import import_batch_run
from annotations.models import Center, Scan
from modelops.builds.manifest import public_key_pem
from modelops.builds.selectors import build_dir
from modelops.builds.services import model_build_execute, model_build_request
from modelops.builds.signing import verifying_key
from modelops.models import EdgeNode, ModelVersion, NodeSeriesUpload, Rollout
from modelops.monitoring.prospective import linked_scans
from modelops.nodes.services import node_create, rollout_start
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]


def _agent(config: Path, *args: str) -> tuple[int, dict]:
    """``python -m ichlabel_edge`` in its own process: the agent's code and the modules it
    shares with the app, nothing of Django."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'edge'}{os.pathsep}{ROOT}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "ichlabel_edge", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "django" not in done.stderr.lower(), done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
def node_config(tmp_path, live_server):
    """The node's config: its data folder, ICHLabel's public key pinned, the live server."""
    key = tmp_path / "build-signing.pem"
    key.write_text(public_key_pem(verifying_key()))
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "node"}"\npublic_key = "{key}"\n\n'
        f'[ichlabel]\nurl = "{live_server.url}"\ntoken_file = "{tmp_path / "token"}"\n'
    )
    return config


def _site(model):
    """A center of the model's ground truth, as the node's site."""
    return model.snapshot.ground_truth.scan_labels.first().scan.center


def _build(model):
    build = model_build_request(model_version=model, created_by=model.engineer)
    build = model_build_execute(build_id=build.pk)
    assert build.status == "succeeded", build.message
    return build


def test_a_build_goes_from_the_app_to_a_node_and_a_tampered_one_is_refused(
    approved_model, node_config, jobs_queued
):
    engineer = approved_model.engineer
    node, enrolment = node_create(
        name="jetson-1", center=_site(approved_model), created_by=engineer
    )
    code, enrolled = _agent(node_config, "enrol", "--token", enrolment)
    assert code == 0 and enrolled["node"] == "jetson-1", enrolled
    assert (node_config.parent / "token").stat().st_mode & 0o777 == 0o600
    assert _agent(node_config, "sync")[1]["action"] == "none"  # nothing to run yet

    first = _build(approved_model)
    rollout_start(build=first, canary=node, created_by=engineer)
    code, synced = _agent(node_config, "sync")

    assert code == 0 and synced["action"] == "installed", synced
    check = synced["health_check"]
    assert synced["active"]["build"] == first.number and check["max_abs_diff"] <= check["tolerance"]
    node.refresh_from_db()
    assert node.active_build == first.number and node.health == "ok"
    assert "CPUExecutionProvider" in node.hardware["accelerator"]
    assert Rollout.objects.get(build=first).status == "expanded"
    assert _agent(node_config, "sync")[1] == {
        "action": "none",
        "active_build": first.number,
        "results": {"delivered": 0, "waiting": 0},
    }

    # A second build whose model file was changed on the server after it was signed.
    second = _build(approved_model)
    with open(build_dir(second.number) / "model.onnx", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    rollout_start(build=second, canary=EdgeNode.objects.get(pk=node.pk), created_by=engineer)
    code, synced = _agent(node_config, "sync")

    assert code == 1 and synced["action"] == "refused", synced
    assert "does not match its checksum" in synced["reason"]
    rollout = Rollout.objects.get(build=second)
    assert rollout.status == "rolled_back" and "checksum" in rollout.message
    node.refresh_from_db()
    assert node.desired_build_id == first.pk and node.active_build == first.number
    code, status = _agent(node_config, "status")
    assert code == 0 and status["active"]["build"] == first.number


def test_a_revoked_node_is_refused(node_config, jobs_queued):
    engineer = user_with_role("mlengineer", "ml_engineer")
    center = Center.objects.create(name="Center R", split="test")
    node, enrolment = node_create(name="jetson-2", center=center, created_by=engineer)
    assert _agent(node_config, "enrol", "--token", enrolment)[0] == 0
    assert _agent(node_config, "enrol", "--token", enrolment)[0] == 1  # one-time
    EdgeNode.objects.filter(pk=node.pk).update(token_hash="")
    code, answer = _agent(node_config, "sync")
    assert code == 1 and "refused the node" in answer["error"]


@pytest.fixture
def pacs(tmp_path):
    """Debian's Orthanc with DICOMweb on a free 127.0.0.1 port (``tests/edge/orthanc.py``)."""
    from tests.edge.orthanc import orthanc_for_test

    server = orthanc_for_test(tmp_path / "orthanc")
    yield server
    server.stop()


def _phantom_series_of_today(tmp_path) -> list[Path]:
    """One phantom head CT, dated today as a new scan in a PACS is."""
    import datetime

    import pydicom

    from annotations.phantoms import write_phantoms

    write_phantoms(tmp_path / "phantom", scans=1, seed=21, size=64)
    files = sorted((tmp_path / "phantom").rglob("*.dcm"))
    today = datetime.date.today().strftime("%Y%m%d")
    for file in files:
        ds = pydicom.dcmread(file)
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = today
        ds.save_as(file)
    return files


def test_a_series_pushed_into_the_pacs_is_scored_written_back_and_reported(
    approved_model, node_config, jobs_queued, tmp_path, pacs, live_server
):
    """The node's whole round: a new series in Orthanc is found by the rules once stable,
    scored by the active build, its SR, key-slice captures and occlusion maps stored back in
    Orthanc; its
    result (with each stage's time) waits on disk while ICHLabel is unreachable and is recorded
    once when it is back, however often it is sent; a second round scores nothing. The series,
    sent for import (``send_series``), becomes the prediction's de-identified scan."""
    import pydicom
    from highdicom.sr import Comprehensive3DSR

    from modelops.models import Prediction

    config = node_config.read_text().replace("[ichlabel]\n", "[ichlabel]\nsend_series = true\n")
    node_config.write_text(
        config + f'\n[pacs]\ndicomweb_url = "{pacs.dicomweb_url}"\nstable_s = 0\n'
    )
    evaluation = approved_model.evaluation
    for entry in evaluation["thresholds"].values():
        entry["value"] = 0.0  # every class positive: an SR with key slices, and their maps
    ModelVersion.objects.filter(pk=approved_model.pk).update(evaluation=evaluation)
    build = _build(approved_model)
    center = _site(approved_model)
    node, enrolment = node_create(
        name="jetson-4", center=center, created_by=approved_model.engineer
    )
    assert _agent(node_config, "enrol", "--token", enrolment)[0] == 0
    rollout_start(build=build, canary=node, created_by=approved_model.engineer)
    assert _agent(node_config, "sync")[1]["action"] == "installed"
    files = _phantom_series_of_today(tmp_path)
    pacs.upload(files)
    offline = node_config.with_name("offline.toml")  # ICHLabel where nothing listens
    offline.write_text(node_config.read_text().replace(live_server.url, "http://127.0.0.1:9"))

    code, scanned = _agent(offline, "scan")

    assert code == 0, scanned
    assert len(scanned["series"]) == 1 and scanned["results"] == {"delivered": 0, "waiting": 1}
    assert scanned["series_sent"] == {"sent": 0, "refused": 0, "waiting": 1}
    assert scanned["saliency"][0]["stored"] == 6, scanned  # one map per class
    assert not Prediction.objects.exists()
    waiting = json.loads(next((tmp_path / "node" / "outbox").glob("*.json")).read_text())
    code, scanned = _agent(node_config, "scan")  # ICHLabel back: the result arrives
    assert code == 0 and scanned["series"] == []
    assert scanned["results"] == {"delivered": 1, "waiting": 0}
    assert scanned["series_sent"] == {"sent": 1, "refused": 0, "waiting": 0}
    prediction = Prediction.objects.get(node=node)
    assert prediction.build == build and set(prediction.scores) == set(prediction.decision)
    assert len(prediction.slice_scores) == len(files)
    stages = {"stability_wait", "transfer", "preprocess", "inference", "write_back", "total"}
    assert set(prediction.timings_ms) == stages and prediction.timings_ms["total"] > 0
    source_uid = pydicom.dcmread(files[0]).SeriesInstanceUID
    assert source_uid not in prediction.key and source_uid not in json.dumps(prediction.scores)
    # Sent again (its answer lost): still one prediction.
    token = (node_config.parent / "token").read_text()
    resent = urllib.request.Request(
        f"{live_server.url}/api/v1/modelops/node/predictions/",
        data=json.dumps(waiting).encode(),
        headers={"Authorization": f"Node {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(resent) as answer:  # noqa: S310
        assert answer.status == 200
    assert Prediction.objects.filter(node=node).count() == 1
    # The SR is in the PACS, in the scan's study, and reads back as the model's unverified result.
    series = pacs.rest("GET", "/series?expand")
    sr_series = [s for s in series if s["MainDicomTags"].get("Modality") == "SR"]
    assert len(series) == 4 and len(sr_series) == 1  # the CT, the SR, key slices, saliency
    maps = [s for s in series if s["MainDicomTags"].get("SeriesNumber") == "9103"]
    assert len(maps) == 1 and len(maps[0]["Instances"]) == 6
    instance = sr_series[0]["Instances"][0]
    with urllib.request.urlopen(f"{pacs.url}/instances/{instance}/file") as answer:  # noqa: S310
        sr = pydicom.dcmread(io.BytesIO(answer.read()))
    assert sr.StudyInstanceUID == pydicom.dcmread(files[0]).StudyInstanceUID
    assert sr.VerificationFlag == "UNVERIFIED"
    assert Comprehensive3DSR.from_dataset(sr) is not None
    # Handled: the next round finds nothing new.
    assert _agent(node_config, "scan")[1]["series"] == []
    assert Prediction.objects.filter(node=node).count() == 1
    # The series the node sent is imported (de-identified) into its center: the prediction's scan.
    upload = NodeSeriesUpload.objects.get(node=node)
    assert upload.files == len(files) and upload.batch.source == "node"
    assert import_batch_run(batch_id=upload.batch_id).status == "succeeded"
    scan = Scan.objects.get(import_batch=upload.batch)
    assert scan.center == center and scan.series_instance_uid != source_uid
    assert linked_scans([prediction]) == {prediction.pk: scan.pk}

"""A build goes from the app to a node: the agent (``edge/``, run as its own process, talking
HTTP to a live server) enrols with its one-time token, is told to run the canary build, fetches
it, verifies and health-checks it against the key it pinned, switches to it, and reports; the
rollout then expands. A tampered build is refused by the node, which keeps serving its build,
and the rollout rolls back on that report.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelops.builds.manifest import public_key_pem
from modelops.builds.selectors import build_dir
from modelops.builds.services import model_build_execute, model_build_request
from modelops.builds.signing import verifying_key
from modelops.models import EdgeNode, Rollout
from modelops.nodes.services import node_create, rollout_start

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


def test_a_revoked_node_is_refused(approved_model, node_config, jobs_queued):
    node, enrolment = node_create(
        name="jetson-2", center=_site(approved_model), created_by=approved_model.engineer
    )
    assert _agent(node_config, "enrol", "--token", enrolment)[0] == 0
    assert _agent(node_config, "enrol", "--token", enrolment)[0] == 1  # one-time
    EdgeNode.objects.filter(pk=node.pk).update(token_hash="")
    code, answer = _agent(node_config, "sync")
    assert code == 1 and "refused the node" in answer["error"]


def test_results_wait_on_disk_while_ichlabel_is_down_and_arrive_once(
    approved_model, node_config, jobs_queued, tmp_path, live_server
):
    """The outbox of the agent (its own module, in this process): ICHLabel unreachable, the
    result waits; back, it arrives; sent again (an answer lost), it is still one prediction."""
    sys.path.append(str(ROOT / "edge"))
    from ichlabel_edge.client import Client
    from ichlabel_edge.outbox import Outbox

    from modelops.models import Prediction

    build = _build(approved_model)
    node, enrolment = node_create(
        name="jetson-3", center=_site(approved_model), created_by=approved_model.engineer
    )
    assert _agent(node_config, "enrol", "--token", enrolment)[0] == 0
    token = (node_config.parent / "token").read_text()
    result = {
        "key": "series-1",
        "build": build.number,
        "scored_at": "2026-12-04T12:00:00+00:00",
        "scores": {c: 0.2 for c in ("any", "iph", "ivh", "sah", "sdh", "edh")},
        "decision": {c: False for c in ("any", "iph", "ivh", "sah", "sdh", "edh")},
        "timings_ms": {"total": 12000.0},
    }
    outbox = Outbox(tmp_path / "node")
    outbox.put(result)

    down = Client("http://127.0.0.1:9", token, timeout_s=2)  # nothing listens there
    assert outbox.deliver(down) == {"delivered": 0, "waiting": 1}
    assert not Prediction.objects.exists()

    up = Client(live_server.url, token)
    up.report(result)  # delivered once, but the node never heard back: it sends it again
    assert outbox.deliver(up) == {"delivered": 1, "waiting": 0}
    assert Prediction.objects.filter(node=node, key="series-1").count() == 1

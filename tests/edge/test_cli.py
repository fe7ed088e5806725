"""``python -m ichlabel_edge``: one JSON object on stdout for every command, the reason on stderr
when something is refused, and an exit status a script can act on (0 done, 1 refused, 2 a
wrong config, 3 the node's own trouble). Run as a separate process, as systemd or an operator
runs it."""

import json
import os
import subprocess
import sys

from tests.edge.conftest import EDGE, ROOT


def agent(node, *args: str, config=None) -> tuple[int, dict, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EDGE), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "ichlabel_edge", "--config", str(config or node.config_path), *args],
        cwd=node.builds,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, json.loads(result.stdout), result.stderr


def test_install_status_and_rollback_from_the_command_line(node, build):
    code, out, _ = agent(node, "status")
    assert code == 1 and out["active"] is None  # nothing to serve yet

    code, out, err = agent(node, "install", str(build(1)))
    assert code == 0, err
    assert out["installed"] and out["active"] == {"slot": "a", "build": 1}
    assert out["health_check"]["max_abs_diff"] <= 1e-4

    code, out, err = agent(node, "install", str(build(1)))
    assert code == 1
    assert out == {"installed": False, "reason": "build 1 is not newer than the active build 1"}
    assert err.strip() == "ichlabel-edge: build 1 is not newer than the active build 1"

    code, out, _ = agent(node, "rollback")
    assert code == 1 and out["reason"] == "there is no previous build to roll back to"

    assert agent(node, "install", str(build(2)))[0] == 0
    code, out, _ = agent(node, "status")
    assert code == 0
    assert out["active"]["build"] == 2 and out["active"]["verified"]
    assert out["previous"]["build"] == 1 and out["previous"]["slot"] == "a"

    code, out, _ = agent(node, "rollback")
    assert code == 0 and out["rolled_back"] and out["active"] == {"slot": "a", "build": 1}


def test_a_wrong_config_and_the_nodes_own_trouble_have_their_own_status(node, tmp_path):
    (tmp_path / "bad.toml").write_text('data_dir = "var"\n')
    code, out, err = agent(node, "status", config=tmp_path / "bad.toml")
    assert code == 2 and "public_key is missing" in out["error"] and "public_key" in err

    code, out, err = agent(node, "install", str(tmp_path / "nowhere"))
    assert code == 3 and out["installed"] is False and "no build folder" in out["reason"]

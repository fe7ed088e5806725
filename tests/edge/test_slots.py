"""Installing builds on a node (``ichlabel_edge.slots``): a good build is copied into the
inactive slot, verified with the pinned key, health-checked and switched to, with the one
before it kept for a rollback; every bad build is refused with its reason and the active build
keeps serving, byte for byte; a failed or crashed install takes nothing away."""

import fcntl
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ichlabel_edge.health import health_check
from ichlabel_edge.slots import NodeError

from modelops.builds.manifest import MANIFEST_NAME, BuildRefused
from tests.edge.builds import resign, tree


def serving(node, number: int, files: dict[str, str]) -> None:
    """The node's active build is ``number``, its files are ``files`` and it still runs."""
    active = node.slots.active()
    assert active is not None and active.number == number
    assert tree(active.directory) == files
    assert health_check(active.directory, active.manifest).max_abs_diff <= 1e-4
    status = node.slots.status()
    assert status["active"]["build"] == number and status["active"]["verified"]


def no_leftovers(node) -> None:
    assert sorted(p.name for p in node.slots.slots_dir.iterdir()) in (["a"], ["a", "b"])


def test_a_good_build_installs_and_becomes_active(node, build):
    source = build(1)

    switch = node.slots.install(source)

    assert switch.active.slot == "a" and switch.active.number == 1 and switch.previous is None
    assert switch.health.max_abs_diff <= switch.health.tolerance == 1e-4
    assert switch.health.slices == 6
    serving(node, 1, tree(source))  # the very bytes downloaded, verified where they now lie
    assert node.slots.previous() is None
    no_leftovers(node)
    state = json.loads((node.config.data_dir / "state.json").read_text())
    assert state["active"] == "a" and state["previous"] is None
    assert state["health_check"]["max_abs_diff"] == switch.health.max_abs_diff


def test_a_newer_build_keeps_the_first_as_previous_and_rollback_returns_to_it(node, build):
    first, second, third = build(1), build(2), build(3)
    node.slots.install(first)

    switch = node.slots.install(second)

    assert (switch.active.slot, switch.active.number) == ("b", 2)
    assert switch.previous is not None and switch.previous.number == 1
    serving(node, 2, tree(second))
    previous = node.slots.previous()
    assert previous is not None and (previous.slot, previous.number) == ("a", 1)
    assert tree(previous.directory) == tree(first)

    back = node.slots.rollback()

    assert back.active.number == 1 and back.previous is not None and back.previous.number == 2
    serving(node, 1, tree(first))
    assert node.slots.status()["previous"]["build"] == 2
    # Rolling back again returns to build 2; the next install replaces the build then inactive.
    node.slots.rollback()
    serving(node, 2, tree(second))
    switch = node.slots.install(third)
    assert (switch.active.slot, switch.previous.number if switch.previous else None) == ("a", 2)
    serving(node, 3, tree(third))
    no_leftovers(node)


def test_rollback_without_a_previous_build_is_refused(node, build):
    with pytest.raises(BuildRefused, match="no previous build"):
        node.slots.rollback()
    source = build(1)
    node.slots.install(source)
    with pytest.raises(BuildRefused, match="no previous build"):
        node.slots.rollback()
    serving(node, 1, tree(source))


def test_a_previous_build_altered_on_disk_is_not_rolled_back_to(node, build):
    node.slots.install(build(1))
    second = build(2)
    node.slots.install(second)
    previous = node.slots.previous()
    assert previous is not None
    with open(previous.directory / "model.onnx", "r+b") as handle:
        handle.write(b"X")

    with pytest.raises(BuildRefused, match="'model.onnx' of build 1 does not match its checksum"):
        node.slots.rollback()

    serving(node, 2, tree(second))
    assert node.slots.status()["previous"]["problem"].endswith("does not match its checksum")


@pytest.fixture
def active(node, build) -> dict[str, str]:
    """A node serving build 5; its files."""
    source = build(5)
    node.slots.install(source)
    return tree(source)


def refused(node, source, reason: str, active: dict[str, str]) -> None:
    with pytest.raises(BuildRefused, match=reason):
        node.slots.install(source)
    serving(node, 5, active)
    assert node.slots.previous() is None
    no_leftovers(node)


def test_a_tampered_model_is_refused(node, build, active):
    source = build(6)
    with open(source / "model.onnx", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01")

    refused(node, source, "'model.onnx' of build 6 does not match its checksum", active)


def test_a_bad_signature_is_refused(node, build, active):
    # signed by someone else
    refused(node, build(6, key=Ed25519PrivateKey.generate()), "signature does not verify", active)
    # signed by ICHLabel, then changed: a longer life without a new signature
    source = build(7)
    manifest = json.loads((source / MANIFEST_NAME).read_text())
    manifest["expires_at"] = (datetime.now(UTC) + timedelta(days=3650)).isoformat()
    (source / MANIFEST_NAME).write_text(json.dumps(manifest))
    refused(node, source, "signature does not verify", active)


@pytest.mark.parametrize("number", [4, 5])
def test_an_older_or_the_same_build_number_is_refused(node, build, active, number):
    refused(node, build(number), f"build {number} is not newer than the active build 5", active)


def test_an_expired_build_is_refused(node, build, active):
    source = build(6, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    refused(node, source, "build 6 expired at", active)


def test_a_build_that_fails_its_health_check_is_refused(node, build, model_files, active):
    scores = [s + 0.01 for s in model_files.scan_scores]  # signed, but not what the model gives

    refused(node, build(6, scan_scores=scores), "health check failed: scores differ", active)


def test_a_signed_model_that_does_not_run_is_refused(node, build, active):
    source = build(6, model_bytes=b"not an onnx model" * 64)

    refused(node, source, "build 6: the model does not run", active)


def test_a_signed_manifest_without_a_model_file_entry_is_refused(node, build, key, active):
    source = build(6)
    resign(source, key, lambda m: m["runtime"].update(file="other.onnx"))
    (source / "other.onnx").write_bytes(b"unverified")

    refused(node, source, "'other.onnx' is not among the manifest's files", active)


def test_a_crash_between_copy_and_switch_leaves_the_active_build(node, build):
    """The switch's state file cannot be written (its temporary path is a folder): the copy,
    the verification and the health check have passed, the switch fails."""
    first, second = build(1), build(2)
    node.slots.install(first)
    node.slots.install(second)
    blocker = node.config.data_dir / "state.json.tmp"
    blocker.mkdir()

    with pytest.raises(NodeError, match="installing .* failed: .*state.json.tmp"):
        node.slots.install(build(3))

    serving(node, 2, tree(second))
    previous = node.slots.previous()
    assert previous is not None and tree(previous.directory) == tree(first)
    no_leftovers(node)
    blocker.rmdir()
    node.slots.rollback()  # the previous build survived too
    serving(node, 1, tree(first))


def test_what_a_killed_install_left_is_cleaned_by_the_next(node, build):
    first = build(1)
    node.slots.install(first)
    half = node.slots.slots_dir / "b.incoming"  # a copy cut off by a power loss
    half.mkdir()
    (half / "model.onnx").write_bytes(b"half a model")

    serving(node, 1, tree(first))
    second = build(2)
    node.slots.install(second)

    serving(node, 2, tree(second))
    no_leftovers(node)


def test_a_second_install_at_the_same_time_is_turned_away(node, build):
    first = build(1)
    node.slots.install(first)
    with open(node.config.data_dir / "lock", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process mid-install

        with pytest.raises(NodeError, match="another install or rollback"):
            node.slots.install(build(2))

    serving(node, 1, tree(first))
    node.slots.install(build(3))
    assert node.slots.active().number == 3


def test_a_missing_build_folder_is_the_nodes_error(node, tmp_path):
    with pytest.raises(NodeError, match="no build folder"):
        node.slots.install(tmp_path / "nowhere")
    assert node.slots.active() is None

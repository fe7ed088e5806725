"""What a node checks before it installs a build: the signature with its pinned key, a build
number above the one it runs, the expiry, and every file's checksum. Each bad case is refused
with its reason."""

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelops.builds.manifest import (
    FORMAT,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    BuildRefused,
    canonical_bytes,
    file_entry,
    key_id,
    load_public_key,
    public_key_pem,
    sign,
    verify_build,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _write_build(directory, key, *, number=7, expires=NOW + timedelta(days=30)):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(b"onnx bytes " * 100)
    (directory / "test_scan.npy").write_bytes(b"scan bytes")
    manifest = {
        "format": FORMAT,
        "build": number,
        "expires_at": expires.isoformat(),
        "files": {n: file_entry(directory / n) for n in ("model.onnx", "test_scan.npy")},
        "key_id": key_id(key.public_key()),
    }
    (directory / MANIFEST_NAME).write_bytes(canonical_bytes(manifest))
    (directory / SIGNATURE_NAME).write_text(sign(manifest, key))
    return manifest


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def pinned(key):
    """The public key as a node pins it: from its PEM text."""
    return load_public_key(public_key_pem(key.public_key()))


def test_a_signed_build_verifies(tmp_path, key, pinned):
    manifest = _write_build(tmp_path / "b", key)
    assert verify_build(tmp_path / "b", pinned, active_number=6, now=NOW) == manifest
    assert verify_build(tmp_path / "b", pinned, active_number=None, now=NOW)["build"] == 7


def test_a_tampered_file_is_refused(tmp_path, key, pinned):
    _write_build(tmp_path / "b", key)
    with open(tmp_path / "b" / "model.onnx", "r+b") as handle:
        handle.write(b"X")
    with pytest.raises(BuildRefused, match="'model.onnx' of build 7 does not match its checksum"):
        verify_build(tmp_path / "b", pinned, active_number=None, now=NOW)
    (tmp_path / "b" / "test_scan.npy").unlink()
    with pytest.raises(BuildRefused, match="missing|checksum"):
        verify_build(tmp_path / "b", pinned, active_number=None, now=NOW)


def test_a_changed_manifest_or_another_key_is_refused(tmp_path, key, pinned):
    _write_build(tmp_path / "b", key)
    shutil.copytree(tmp_path / "b", tmp_path / "c")
    manifest = json.loads((tmp_path / "c" / MANIFEST_NAME).read_text())
    manifest["expires_at"] = (NOW + timedelta(days=3650)).isoformat()  # a longer life, unsigned
    (tmp_path / "c" / MANIFEST_NAME).write_bytes(canonical_bytes(manifest))
    with pytest.raises(BuildRefused, match="signature does not verify"):
        verify_build(tmp_path / "c", pinned, active_number=None, now=NOW)

    _write_build(tmp_path / "d", Ed25519PrivateKey.generate())  # signed, by someone else
    with pytest.raises(BuildRefused, match="signature does not verify"):
        verify_build(tmp_path / "d", pinned, active_number=None, now=NOW)
    (tmp_path / "b" / SIGNATURE_NAME).write_text("not base64!")
    with pytest.raises(BuildRefused, match="unreadable"):
        verify_build(tmp_path / "b", pinned, active_number=None, now=NOW)


def test_an_older_or_the_same_build_number_is_refused(tmp_path, key, pinned):
    _write_build(tmp_path / "b", key, number=7)
    for active in (7, 8):
        with pytest.raises(BuildRefused, match=f"not newer than the active build {active}"):
            verify_build(tmp_path / "b", pinned, active_number=active, now=NOW)


def test_an_expired_build_is_refused(tmp_path, key, pinned):
    _write_build(tmp_path / "b", key, expires=NOW - timedelta(seconds=1))
    with pytest.raises(BuildRefused, match="expired"):
        verify_build(tmp_path / "b", pinned, active_number=None, now=NOW)


def test_a_file_outside_the_build_is_never_read(tmp_path, key, pinned):
    directory = tmp_path / "b"
    _write_build(directory, key)
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    manifest["files"]["../secret"] = {"bytes": 1, "sha256": "0" * 64}
    (directory / MANIFEST_NAME).write_bytes(canonical_bytes(manifest))
    (directory / SIGNATURE_NAME).write_text(sign(manifest, key))
    with pytest.raises(BuildRefused, match="'../secret' of build 7 is missing"):
        verify_build(directory, pinned, active_number=None, now=NOW)

"""A build's manifest: its canonical bytes, its Ed25519 signature, and the checks a node makes
before it installs a build. Plain Python and ``cryptography`` (no Django, no Keras), so the node
agent verifies with the very code the app signs with.

The signature covers the manifest's canonical JSON (keys sorted, no whitespace, UTF-8). A node
accepts a build only when, in this order: the signature verifies with the public key it pinned;
the build number is above the one it runs (a replayed older build is refused); the manifest has
not expired; and every file the manifest lists is present with its size and SHA-256.
"""

import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "ichlabel-build/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"


class BuildRefused(Exception):
    """A build a node must not install; the message says why."""


def canonical_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of its raw bytes' SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(manifest: dict[str, Any], private_key: Ed25519PrivateKey) -> str:
    """The manifest's signature, base64."""
    return base64.b64encode(private_key.sign(canonical_bytes(manifest))).decode()


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise BuildRefused("the pinned public key is not an Ed25519 key")
    return key


def file_entry(path: Path) -> dict[str, Any]:
    """A file as the manifest lists it: size and SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def verify_build(
    directory: Path,
    public_key: Ed25519PublicKey,
    *,
    active_number: int | None,
    now: datetime,
) -> dict[str, Any]:
    """The manifest of the build in ``directory`` (``manifest.json``, ``manifest.sig`` and the
    files it lists) once every check passes; ``BuildRefused`` with the reason otherwise."""
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_bytes())
        signature = base64.b64decode((directory / SIGNATURE_NAME).read_bytes(), validate=True)
    except (OSError, ValueError) as error:
        raise BuildRefused(f"unreadable manifest or signature: {error}") from error
    try:
        public_key.verify(signature, canonical_bytes(manifest))
    except InvalidSignature:
        raise BuildRefused("the manifest's signature does not verify with the pinned key") from None
    if manifest.get("format") != FORMAT:
        raise BuildRefused(f"unknown manifest format {manifest.get('format')!r}")
    number = int(manifest["build"])
    if active_number is not None and number <= active_number:
        raise BuildRefused(f"build {number} is not newer than the active build {active_number}")
    expires = datetime.fromisoformat(manifest["expires_at"])
    if now >= expires:
        raise BuildRefused(f"build {number} expired at {manifest['expires_at']}")
    for name, expected in manifest["files"].items():
        path = directory / name
        if Path(name).name != name or not path.is_file():
            raise BuildRefused(f"file {name!r} of build {number} is missing")
        if file_entry(path) != expected:
            raise BuildRefused(f"file {name!r} of build {number} does not match its checksum")
    return manifest

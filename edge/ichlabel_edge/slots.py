"""Two build slots and an atomic switch between them: how a node changes builds without ever
being left with none, or with one it did not check.

    <data_dir>/slots/a/          one build each, exactly as verified and health-checked
    <data_dir>/slots/b/
    <data_dir>/slots/b.incoming  a build being copied and checked (gone once it passes or fails)
    <data_dir>/state.json        {"active": "a", "previous": "b", ...}, always replaced whole
    <data_dir>/lock              one install or rollback at a time

An install copies the build into the inactive slot's ``.incoming`` folder, so the bytes checked
are the bytes that will run; verifies it there with the pinned key (signature, a build number
above the active one, expiry, checksums); runs its health check; then switches. The switch
first forgets the previous build (the slot it lived in is about to be replaced), moves the new
build into that slot and makes it active, each step an ``os.replace`` or rename made durable
with fsync. Whatever fails, and wherever a crash stops it, the state file names an active build
that is intact, and a previous build only while its slot still holds it. A build refused by its
checks takes nothing away, the previous build included; only a failure inside the switch itself
(after the checks passed) may cost the previous build, never the active one.

``rollback`` makes the previous build active again after verifying it and checking its health
anew (a lower build number is the point here; expiry and checksums still hold).
"""

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ichlabel_edge.health import HealthCheck, health_check
from modelops.builds.manifest import MANIFEST_NAME, BuildRefused, verify_build

SLOTS = ("a", "b")
STATE_NAME = "state.json"
INCOMING = ".incoming"


class NodeError(Exception):
    """The node's own trouble (disk, permissions, its state file, a concurrent run): the build
    may be fine and trying again may succeed. The active build is untouched."""


@dataclass(frozen=True)
class InstalledBuild:
    slot: str
    directory: Path
    manifest: dict[str, Any]

    @property
    def number(self) -> int:
        return int(self.manifest["build"])


@dataclass(frozen=True)
class Switch:
    """What an install or a rollback made active, what it keeps as previous, and the health
    check the new active build passed."""

    active: InstalledBuild
    previous: InstalledBuild | None
    health: HealthCheck

    def as_dict(self) -> dict[str, Any]:
        return {
            "active": {"slot": self.active.slot, "build": self.active.number},
            "previous": (
                {"slot": self.previous.slot, "build": self.previous.number}
                if self.previous
                else None
            ),
            "health_check": self.health.as_dict(),
        }


class Slots:
    """The builds of the node whose data folder is ``root``, trusting ``public_key`` alone."""

    def __init__(self, root: Path, public_key: Ed25519PublicKey) -> None:
        self.root = Path(root)
        self.public_key = public_key
        self.slots_dir = self.root / "slots"

    # Reading

    def active(self) -> InstalledBuild | None:
        """The build that serves, or None on a node that has none yet."""
        return self._installed(self._state().get("active"))

    def previous(self) -> InstalledBuild | None:
        """The build a rollback returns to, or None."""
        return self._installed(self._state().get("previous"))

    def status(self, *, now: datetime | None = None) -> dict[str, Any]:
        """Both builds, each verified again as it lies on disk (checksums, expiry), as JSON."""
        now = now or datetime.now(UTC)
        state = self._state()
        return {
            "data_dir": str(self.root),
            "active": self._describe(state.get("active"), now),
            "previous": self._describe(state.get("previous"), now),
            "switched_at": state.get("switched_at"),
            "health_check": state.get("health_check"),
        }

    # Changing

    def install(self, source: Path, *, now: datetime | None = None) -> Switch:
        """Installs the build in folder ``source`` and makes it active, keeping the active one as
        previous. ``BuildRefused`` when the build fails a check, ``NodeError`` when the node
        could not do it; either way the active build keeps serving, unchanged."""
        now = now or datetime.now(UTC)
        source = Path(source)
        self.slots_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            state = self._state()
            current = self._installed(state.get("active"))
            target = SLOTS[1] if current and current.slot == SLOTS[0] else SLOTS[0]
            for slot in SLOTS:  # what an install that was killed left behind
                shutil.rmtree(self.slots_dir / (slot + INCOMING), ignore_errors=True)
            incoming = self.slots_dir / (target + INCOMING)
            try:
                _copy_build(source, incoming)
                manifest = self._verify(
                    incoming, active_number=current.number if current else None, now=now
                )
                health = health_check(incoming, manifest)
                self._switch_to(incoming, target, current, health, now)
            except BuildRefused:
                raise
            except Exception as error:
                raise NodeError(f"installing {source} failed: {error}") from error
            finally:
                shutil.rmtree(incoming, ignore_errors=True)  # gone already once switched
        installed = InstalledBuild(target, self.slots_dir / target, manifest)
        return Switch(active=installed, previous=current, health=health)

    def rollback(self, *, now: datetime | None = None) -> Switch:
        """Makes the previous build active again, and the active one previous, once the previous
        build verifies (its lower number allowed) and passes its health check."""
        now = now or datetime.now(UTC)
        self.slots_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            state = self._state()
            current = self._installed(state.get("active"))
            slot = state.get("previous")
            if slot is None:
                raise BuildRefused("there is no previous build to roll back to")
            directory = self.slots_dir / slot
            manifest = self._verify(directory, active_number=None, now=now)
            health = health_check(directory, manifest)
            try:
                self._write_state(_state_after(slot, current, health, now))
            except OSError as error:
                raise NodeError(f"rolling back failed: {error}") from error
        return Switch(
            active=InstalledBuild(slot, directory, manifest), previous=current, health=health
        )

    # Inside

    def _switch_to(
        self,
        incoming: Path,
        target: str,
        current: InstalledBuild | None,
        health: HealthCheck,
        now: datetime,
    ) -> None:
        """Moves the checked build into slot ``target`` and makes it active. The state first
        forgets the previous build, whose slot this replaces, so no crash leaves it naming a
        slot that holds something else (or nothing)."""
        state = self._state()
        if state.get("previous") is not None:
            self._write_state({**state, "previous": None})
        slot_dir = self.slots_dir / target
        if slot_dir.exists():
            shutil.rmtree(slot_dir)
        os.rename(incoming, slot_dir)
        _fsync_dir(self.slots_dir)
        self._write_state(_state_after(target, current, health, now))

    def _verify(
        self, directory: Path, *, active_number: int | None, now: datetime
    ) -> dict[str, Any]:
        """``verify_build``, with a signed manifest that lacks what it needs refused too."""
        try:
            return verify_build(directory, self.public_key, active_number=active_number, now=now)
        except (KeyError, TypeError, ValueError) as error:
            raise BuildRefused(f"the manifest is malformed: {error!r}") from error

    def _state(self) -> dict[str, Any]:
        path = self.root / STATE_NAME
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            return {"active": None, "previous": None}
        except (OSError, ValueError) as error:
            raise NodeError(f"the state file {path} cannot be read: {error}") from error
        if not isinstance(state, dict) or any(
            state.get(key) not in (None, *SLOTS) for key in ("active", "previous")
        ):
            raise NodeError(f"the state file {path} does not name slots {SLOTS}: {state!r}")
        return state

    def _write_state(self, state: dict[str, Any]) -> None:
        """Replaces the state file whole: a reader sees the old state or the new, never half."""
        path = self.root / STATE_NAME
        temporary = path.with_name(STATE_NAME + ".tmp")
        with open(temporary, "w") as handle:
            json.dump(state, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _fsync_dir(self.root)

    def _installed(self, slot: str | None) -> InstalledBuild | None:
        return None if slot is None else self._read(slot)

    def _read(self, slot: str) -> InstalledBuild:
        directory = self.slots_dir / slot
        try:
            manifest = json.loads((directory / MANIFEST_NAME).read_bytes())
        except (OSError, ValueError) as error:
            raise NodeError(f"the build in slot {slot} cannot be read: {error}") from error
        return InstalledBuild(slot, directory, manifest)

    def _describe(self, slot: str | None, now: datetime) -> dict[str, Any] | None:
        if slot is None:
            return None
        build = None
        try:
            build = self._read(slot)
            self._verify(build.directory, active_number=None, now=now)
        except (NodeError, BuildRefused) as error:
            return {
                "slot": slot,
                "build": build.manifest.get("build") if build else None,
                "verified": False,
                "problem": str(error),
            }
        manifest = build.manifest
        return {
            "slot": slot,
            "build": manifest.get("build"),
            "model": (manifest.get("model") or {}).get("name"),
            "created_at": manifest.get("created_at"),
            "expires_at": manifest.get("expires_at"),
            "key_id": manifest.get("key_id"),
            "verified": True,
            "problem": None,
        }

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.root / "lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise NodeError(
                    f"another install or rollback holds {self.root / 'lock'}; try again"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _state_after(
    active: str, previous: InstalledBuild | None, health: HealthCheck, now: datetime
) -> dict[str, Any]:
    return {
        "active": active,
        "previous": previous.slot if previous else None,
        "switched_at": now.isoformat(),
        "health_check": health.as_dict(),
    }


def _copy_build(source: Path, incoming: Path) -> None:
    """The build's files (a build is one flat folder) copied into ``incoming`` and synced to
    disk; links are followed, so the copy holds bytes, never a pointer back out."""
    if not source.is_dir():
        raise FileNotFoundError(f"no build folder at {source}")
    incoming.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if not path.is_file():
            continue
        with open(path, "rb") as reader, open(incoming / path.name, "xb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()
            os.fsync(writer.fileno())
    _fsync_dir(incoming)


def _fsync_dir(directory: Path) -> None:
    """Makes renames and new files in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

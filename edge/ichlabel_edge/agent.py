"""The agent's rounds with ICHLabel: enrol once, then heartbeat, and run the build it is told to.

A round (``sync``) reports the node's state and gets the build it should run. The same build as
the active one: nothing to do. The previous build (kept in the other slot): a rollback. A newer
build: its files are downloaded and installed (``Slots.install`` verifies and health-checks it
first). Anything else is refused: a node never goes to a build older than the one it runs unless
it still keeps it. After a switch, or a refusal, the round reports again at once, so ICHLabel
learns the outcome (a rollout expands, or rolls back) without waiting for the next round. A
refused build is not fetched again while ICHLabel keeps asking for it.
"""

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ichlabel_edge.client import Client, NotEnrolled, ServerUnreachable
from ichlabel_edge.config import ConfigError, NodeConfig, Pacs, Server
from ichlabel_edge.dimse import DimseWatcher
from ichlabel_edge.outbox import Outbox, SeriesOutbox
from ichlabel_edge.pacs import PacsError, PacsUnreachable, PacsWatcher, dicomweb_client
from ichlabel_edge.scanning import LINK_KEY, Scanner
from ichlabel_edge.selection import load_rules
from ichlabel_edge.slots import NodeError, Slots
from ichlabel_edge.watching import SeriesWatcher
from modelops.builds.manifest import BuildRefused

DOWNLOADS = "downloads"


@dataclass
class Agent:
    config: NodeConfig
    slots: Slots
    client: Client
    scanner: Scanner | None = None  # the PACS side; None without a [pacs] table
    # Build number -> why it was refused: reported, and never fetched again.
    refused: dict[int, str] = field(default_factory=dict)
    last_error: str = ""

    def scan(self) -> dict[str, Any]:
        """One round on the PACS with the active build, then the results to ICHLabel."""
        if self.scanner is None:
            raise ConfigError(f"{self.config.path}: the [pacs] table is needed to scan")
        series = self.scanner.round(self.slots.active())
        delivered = self._deliver()
        return {"series": series, **delivered, "saliency": self.scanner.maps()}

    def _deliver(self) -> dict[str, Any]:
        """Waiting results, then (with ``send_series``) waiting series, to ICHLabel."""
        delivered = {"results": Outbox(self.config.data_dir).deliver(self.client)}
        if self.scanner is not None and self.scanner.series_outbox is not None:
            delivered["series_sent"] = self.scanner.series_outbox.deliver(self.client)
        return delivered

    def sync(self) -> dict[str, Any]:
        """One round; what it did, JSON-ready. Results waiting in the outbox go out first."""
        desired = self.client.heartbeat(self._report())
        delivered = self._deliver()
        return {**self._update(desired), **delivered}

    def _update(self, desired: dict[str, Any] | None) -> dict[str, Any]:
        if desired is None:
            return {"action": "none", "reason": "ICHLabel names no build for this node yet"}
        number = int(desired["number"])
        active, previous = self.slots.active(), self.slots.previous()
        if active is not None and number == active.number:
            return {"action": "none", "active_build": number}
        if number in self.refused:
            return {"action": "refused", "build": number, "reason": self.refused[number]}
        try:
            if previous is not None and number == previous.number:
                switch, action = self.slots.rollback(), "rolled_back"
            elif active is None or number > active.number:
                staging = self.config.data_dir / DOWNLOADS / str(number)
                self.client.download(desired["files"], staging)
                switch, action = self.slots.install(staging), "installed"
            else:
                raise BuildRefused(
                    f"build {number} is older than the active build {active.number} and is "
                    "not kept on this node"
                )
        except BuildRefused as error:
            self.refused[number] = str(error)
            self.client.heartbeat(self._report(refused=number))
            return {"action": "refused", "build": number, "reason": str(error)}
        except NodeError as error:
            self.last_error = str(error)
            self.client.heartbeat(self._report())
            return {"action": "failed", "build": number, "reason": str(error)}
        self.last_error = ""
        self.client.heartbeat(self._report())
        return {"action": action, **switch.as_dict()}

    def run(self, interval_s: float) -> None:
        """Rounds forever; a round that fails is reported and tried again after the interval."""
        while True:
            try:
                print(self.sync(), flush=True)
                if self.scanner is not None:
                    print(self.scan(), flush=True)
            except (ServerUnreachable, PacsUnreachable, PacsError, NodeError, ValueError) as error:
                self.last_error = str(error)
                print({"action": "failed", "reason": str(error)}, flush=True)
            time.sleep(interval_s)

    def _queue_depth(self) -> int:
        """Results and series waiting for ICHLabel."""
        depth = len(Outbox(self.config.data_dir).waiting())
        if self.scanner is not None and self.scanner.series_outbox is not None:
            depth += len(self.scanner.series_outbox.waiting())
        return depth

    def _report(self, refused: int | None = None) -> dict[str, Any]:
        active, previous = self.slots.active(), self.slots.previous()
        report: dict[str, Any] = {
            "status": "ok" if active is not None and not self.last_error else "degraded",
            "active_build": active.number if active else None,
            "previous_build": previous.number if previous else None,
            "queue_depth": self._queue_depth(),
            "disk_free_bytes": _disk_free(self.config.data_dir),
            "accelerator": accelerator(),
            "last_error": self.last_error,
        }
        if refused is not None:
            report["refused_build"] = refused
            report["last_error"] = self.refused[refused]
            report["status"] = "degraded"
        return report


def accelerator() -> str:
    """What onnxruntime can run on here (its providers), e.g. "CUDAExecutionProvider, CPU…"."""
    import onnxruntime

    return ", ".join(onnxruntime.get_available_providers())


def hardware() -> dict[str, str]:
    return {
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "accelerator": accelerator(),
    }


def _disk_free(path: Path) -> int:
    path.mkdir(parents=True, exist_ok=True)
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def read_token(config: NodeConfig) -> str:
    server = _server(config)
    try:
        token = server.token_file.read_text().strip()
    except FileNotFoundError:
        raise NotEnrolled(f"no token at {server.token_file}: enrol the node first") from None
    if server.token_file.stat().st_mode & 0o077:
        raise ConfigError(f"{server.token_file} is readable by others: chmod 600 it")
    return token


def enrol(config: NodeConfig, enrolment_token: str) -> dict[str, Any]:
    """Exchange the one-time token for the node token, kept in the config's token file, and the
    center's link key (``scanning.LINK_KEY``), both 0600."""
    server = _server(config)
    answer = Client(server.url).enrol(enrolment_token, hardware())
    _write_secret(config.data_dir / LINK_KEY, answer["link_key"])
    _write_secret(server.token_file, answer["token"])
    return {"enrolled": True, "node": answer["node"], "center": answer["center"]}


def _write_secret(path: Path, text: str) -> None:
    """``text`` into ``path``, readable by this user only, replaced whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(partial, path)


def agent_of(config: NodeConfig) -> Agent:
    server = _server(config)
    client = Client(server.url, read_token(config))
    scanner = None
    if config.pacs is not None:
        watcher = _watcher(config.pacs, config.data_dir)
        sending = SeriesOutbox(config.data_dir) if server.send_series else None
        scanner = Scanner(watcher, Outbox(config.data_dir), config.data_dir, sending)
    slots = Slots(config.data_dir, config.public_key())
    return Agent(config=config, slots=slots, client=client, scanner=scanner)


def _watcher(pacs: Pacs, data_dir: Path) -> SeriesWatcher:
    """The watcher the [pacs] table asks for: over DIMSE or over DICOMweb (it names one)."""
    rules = load_rules(pacs.rules) if pacs.rules else None
    if pacs.dimse is not None:
        return DimseWatcher(pacs.dimse, data_dir, rules=rules, stable_s=pacs.stable_s)
    if pacs.dicomweb_url is None:
        raise ConfigError("[pacs] names neither dicomweb_url nor dimse")
    client = dicomweb_client(pacs.dicomweb_url)
    return PacsWatcher(client, data_dir, rules=rules, stable_s=pacs.stable_s)


def _server(config: NodeConfig) -> Server:
    if config.server is None:
        raise ConfigError(f"{config.path}: the [ichlabel] table (url, token_file) is needed")
    return config.server

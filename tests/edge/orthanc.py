"""A real Orthanc for the edge agent's PACS tests: Debian's ``orthanc`` with its DICOMweb plugin
(``orthanc-dicomweb``), started on a free port with a config written into a temporary folder.

The server listens for HTTP on a free port and refuses every client but this machine
(``RemoteAccessAllowed: false``; Orthanc 1.10, Debian 12's, has no option to bind an address).
Its DICOM server is off: the agent talks DICOMweb only, so nothing listens for DIMSE. Storage
lives in the temporary folder; ``StableAge`` is 2 s. The DICOMweb plugin is found, in order,
at ``$ORTHANC_DICOMWEB_PLUGIN``, where Debian's package links it
(``/usr/share/orthanc/plugins/libOrthancDicomWeb.so``), or as the versioned library under
``/usr/lib/orthanc/``.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLUGIN_LINK = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
PLUGIN_DIR = Path("/usr/lib/orthanc")
STABLE_AGE_S = 2
START_TIMEOUT_S = 60


class OrthancMissing(Exception):
    """Orthanc or its DICOMweb plugin is not installed here."""


def find_binary() -> str:
    """The ``Orthanc`` executable (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/usr/local/sbin"
    binary = shutil.which("Orthanc", path=path)
    if binary is None:
        raise OrthancMissing("no Orthanc binary (apt-get install orthanc orthanc-dicomweb)")
    return binary


def find_plugin() -> Path:
    """The DICOMweb plugin's shared library."""
    override = os.environ.get("ORTHANC_DICOMWEB_PLUGIN")
    if override:
        if not Path(override).is_file():
            raise OrthancMissing(f"ORTHANC_DICOMWEB_PLUGIN={override} is no file")
        return Path(override)
    if PLUGIN_LINK.is_file():
        return PLUGIN_LINK
    versioned = sorted(PLUGIN_DIR.glob("libOrthancDicomWeb.so*"))
    if versioned:
        return versioned[-1]
    raise OrthancMissing(
        f"no DICOMweb plugin at {PLUGIN_LINK} or {PLUGIN_DIR} (apt-get install orthanc-dicomweb)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Orthanc:
    """A running Orthanc: ``url`` its REST API, ``dicomweb_url`` its DICOMweb root."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def log(self) -> Path:
        return self.directory / "orthanc.log"

    def rest(self, method: str, path: str, body: bytes | None = None) -> Any:
        """Orthanc's own REST API (not DICOMweb): the answer's JSON, or None when it has none."""
        headers = {"Content-Type": "application/dicom"} if body is not None else {}
        request = urllib.request.Request(self.url + path, body, headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            data = answer.read()
        return json.loads(data) if data else None

    def upload(self, files: list[Path]) -> None:
        """Stores DICOM files through ``POST /instances``, one request per file."""
        for file in files:
            self.rest("POST", "/instances", file.read_bytes())

    def clear(self) -> None:
        """Deletes every patient (and so every study, series and instance)."""
        for patient in self.rest("GET", "/patients"):
            self.rest("DELETE", f"/patients/{patient}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_orthanc(directory: Path) -> Orthanc:
    """Starts Orthanc with its config, storage and log under ``directory``; returns once
    ``/system`` answers. ``OrthancMissing`` when it is not installed."""
    binary, plugin = find_binary(), find_plugin()
    port = free_port()
    storage = directory / "storage"
    storage.mkdir(parents=True)
    config = {
        "Name": "ichlabel-test",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "HttpPort": port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomServerEnabled": False,
        "StableAge": STABLE_AGE_S,
        "SaveJobs": False,
        "Plugins": [str(plugin)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
    }
    config_file = directory / "orthanc.json"
    config_file.write_text(json.dumps(config, indent=2))
    log = (directory / "orthanc.log").open("wb")
    process = subprocess.Popen(
        [binary, str(config_file)], stdout=log, stderr=subprocess.STDOUT, cwd=directory
    )
    log.close()
    orthanc = Orthanc(directory=directory, port=port, process=process)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc exited ({process.returncode}):\n{_tail(orthanc.log)}")
        try:
            system = orthanc.rest("GET", "/system")
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
            continue
        plugins = orthanc.rest("GET", "/plugins")
        if "dicom-web" not in plugins:
            orthanc.stop()
            raise RuntimeError(f"Orthanc {system['Version']} started without the DICOMweb plugin")
        return orthanc
    orthanc.stop()
    raise RuntimeError(f"Orthanc did not answer in {START_TIMEOUT_S} s:\n{_tail(orthanc.log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""

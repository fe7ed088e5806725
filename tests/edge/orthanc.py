"""A real Orthanc for the edge agent's PACS tests: Debian's ``orthanc`` with its DICOMweb plugin
(``orthanc-dicomweb``), started on a free port with a config written into a temporary folder.

The server listens for HTTP on a free port and refuses every client but this machine
(``RemoteAccessAllowed: false``; Orthanc 1.10, Debian 12's, has no option to bind an address).
By default its DICOM server is off. Storage lives in the temporary folder; ``StableAge`` is 2 s.
The DICOMweb plugin is found, in order, at ``$ORTHANC_DICOMWEB_PLUGIN``, where Debian's package
links it (``/usr/share/orthanc/plugins/libOrthancDicomWeb.so``), or as the versioned library
under ``/usr/lib/orthanc/``.

With ``dicom=True`` its DICOM port is open too, as AE ``PACS_AE``, checking the called AE title,
and knowing the agent's AE ``EDGE_AE`` (from 127.0.0.1) as a modality that may C-FIND, C-GET and
C-STORE. Orthanc would bind that port on every address, so this Orthanc runs in a network
namespace of its own (``unshare --net``, as root; ``ip`` brings its loopback up) and is reached
through relays on free 127.0.0.1 ports here (``relay.py``): ``url`` and ``dicom_port`` are the
relays'. Where no namespace can be made, ``NoNamespace`` says so.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.edge.relay import NamespaceUnavailable, Relay

PLUGIN_LINK = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
PLUGIN_DIR = Path("/usr/lib/orthanc")
STABLE_AGE_S = 2
START_TIMEOUT_S = 60
PACS_AE = "ICHLABEL-PACS"
EDGE_AE = "ICHLABEL-EDGE"
# Inside its own namespace Orthanc has every port to itself.
NAMESPACE_HTTP_PORT, NAMESPACE_DICOM_PORT = 8042, 4242


class NoNamespace(Exception):
    """This machine grants no network namespace (unshare --net needs root or CAP_SYS_ADMIN):
    Orthanc's DICOM port cannot be kept off other addresses here."""


class OrthancMissing(Exception):
    """Orthanc or its DICOMweb plugin is not installed here."""


def find_binary(name: str = "Orthanc", package: str = "orthanc orthanc-dicomweb") -> str:
    """An executable such as ``Orthanc`` (Debian puts it in /usr/sbin, often not on a user's
    PATH)."""
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/usr/local/sbin"
    binary = shutil.which(name, path=path)
    if binary is None:
        raise OrthancMissing(f"no {name} binary (apt-get install {package})")
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
    """A running Orthanc: ``url`` its REST API, ``dicomweb_url`` its DICOMweb root,
    ``dicom_port`` its DICOM port (AE ``PACS_AE``) when it has one."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    dicom_port: int | None = None
    relays: list[Relay] = field(default_factory=list)

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
        for relay in self.relays:
            relay.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_orthanc(directory: Path, *, dicom: bool = False) -> Orthanc:
    """Starts Orthanc with its config, storage and log under ``directory``; returns once
    ``/system`` answers. ``OrthancMissing`` when it is not installed; with ``dicom``,
    ``NoNamespace`` when no network namespace can be made for it."""
    binary, plugin = find_binary(), find_plugin()
    storage = directory / "storage"
    storage.mkdir(parents=True)
    port = NAMESPACE_HTTP_PORT if dicom else free_port()
    config = {
        "Name": "ichlabel-test",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "HttpPort": port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomServerEnabled": dicom,
        "StableAge": STABLE_AGE_S,
        "SaveJobs": False,
        "Plugins": [str(plugin)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        **(_dicom_config() if dicom else {}),
    }
    config_file = directory / "orthanc.json"
    config_file.write_text(json.dumps(config, indent=2))
    command = [binary, str(config_file)]
    if dicom:
        command = _in_own_namespace(command)
    log = (directory / "orthanc.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    log.close()
    orthanc = Orthanc(directory=directory, port=port, process=process)
    if dicom:
        _relay(orthanc)
    return _wait_until_up(orthanc)


def _dicom_config() -> dict[str, Any]:
    return {
        "DicomAet": PACS_AE,
        "DicomPort": NAMESPACE_DICOM_PORT,
        "DicomCheckCalledAet": True,
        "DicomCheckModalityHost": True,
        "DicomScpTimeout": 10,
        "DicomModalities": {
            "edge": {
                "AET": EDGE_AE,
                "Host": "127.0.0.1",
                "Port": 1,  # never used: C-GET answers on the agent's own association
                "AllowEcho": True,
                "AllowFind": True,
                "AllowGet": True,
                "AllowMove": False,
                "AllowStore": True,
            }
        },
    }


def _in_own_namespace(command: list[str]) -> list[str]:
    unshare = find_binary("unshare", "util-linux")
    ip = find_binary("ip", "iproute2")
    script = f'{ip} link set lo up && exec "$0" "$@"'
    return [unshare, "--net", "sh", "-c", script, *command]


def _relay(orthanc: Orthanc) -> None:
    """Relays on free 127.0.0.1 ports here to Orthanc's HTTP and DICOM ports in its namespace;
    ``orthanc.port`` and ``orthanc.dicom_port`` become theirs."""
    _wait_for_own_namespace(orthanc.process)
    try:
        http = Relay(orthanc.process.pid, NAMESPACE_HTTP_PORT)
        orthanc.relays.append(http)
        dicom = Relay(orthanc.process.pid, NAMESPACE_DICOM_PORT)
        orthanc.relays.append(dicom)
    except NamespaceUnavailable as error:
        orthanc.stop()
        message = f"Orthanc's DICOM port needs its own network namespace: {error}"
        raise NoNamespace(message) from error
    if orthanc.process.poll() is not None or _same_namespace(orthanc.process.pid):
        orthanc.stop()
        raise NoNamespace(
            f"Orthanc's DICOM port needs its own network namespace (unshare --net, as root):\n"
            f"{_tail(orthanc.log)}"
        )
    orthanc.port, orthanc.dicom_port = http.port, dicom.port


def _wait_for_own_namespace(process: subprocess.Popen[bytes]) -> None:
    """Until ``process`` (unshare, then Orthanc) is in a namespace other than ours: a relay
    that joined ours would forward to whatever else listens on this machine's port."""
    ours = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if os.readlink(f"/proc/{process.pid}/ns/net") != ours:
                return
        except OSError:
            pass
        time.sleep(0.02)
    # Exited (no right to unshare) or never left: _relay reports it from the log.


def _same_namespace(pid: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net")
    except OSError:
        return True


def _wait_until_up(orthanc: Orthanc) -> Orthanc:
    process = orthanc.process
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            orthanc.stop()
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


def orthanc_for_test(directory: Path, *, dicom: bool = False) -> Orthanc:
    """``start_orthanc`` for a fixture: skipped where Orthanc is not installed, except under CI,
    where a missing Orthanc fails (scripts/test installs it), so the PACS tests never silently
    stop running; skipped with its reason where the machine grants no network namespace."""
    import pytest

    try:
        return start_orthanc(directory, dicom=dicom)
    except NoNamespace as error:  # the machine's right, not something scripts/test installs
        pytest.skip(str(error))
    except OrthancMissing as error:
        if os.environ.get("CI"):
            pytest.fail(f"{error}; scripts/test installs it")
        pytest.skip(f"{error}; scripts/test installs it")

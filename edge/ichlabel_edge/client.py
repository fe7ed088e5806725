"""The node's side of ICHLabel's node API, over HTTP(S) with the standard library only.

``enrol`` exchanges the one-time enrolment token for the node token; ``heartbeat`` reports the
node's state and gets the build it should run; ``download`` fetches that build's files;
``report`` sends a series' result and ``send_series`` the series itself, for import. Every
call but ``enrol`` sends ``Authorization: Node <token>``. A refusal by the server (401/403: the
token was revoked) is ``NotEnrolled``; anything that may pass (no answer, 5xx) is
``ServerUnreachable``.
"""

import json
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

API = "/api/v1/modelops/"
DICOM = "application/dicom"
CHUNK = 1 << 20


class ServerUnreachable(Exception):
    """No usable answer from ICHLabel; trying again later may succeed."""


class NotEnrolled(Exception):
    """ICHLabel refused the node's token (revoked, or never enrolled)."""


class Client:
    def __init__(self, url: str, token: str | None = None, *, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def enrol(self, enrolment_token: str, hardware: dict[str, str]) -> dict[str, Any]:
        """``{"node", "center", "token"}``: the node token, shown this once."""
        body = {"enrolment_token": enrolment_token, "hardware": hardware}
        return self._json("POST", "node/enrol/", body, authenticated=False)

    def heartbeat(self, report: dict[str, Any]) -> dict[str, Any] | None:
        """The build the node should run (``{"number", "files": {name: path}}``) or None."""
        answer: dict[str, Any] = self._json("POST", "node/heartbeat/", report)
        return answer.get("desired_build")

    def report(self, result: dict[str, Any]) -> dict[str, Any]:
        """A series' result (``outbox``); ICHLabel records each ``key`` once."""
        answer: dict[str, Any] = self._json("POST", "node/predictions/", result)
        return answer

    def send_series(self, link: str, files: list[Path]) -> dict[str, Any]:
        """A scored series' DICOM files for import into the node's center, with its link;
        ICHLabel imports each link once."""
        boundary = f"ichlabel-{secrets.token_hex(16)}"
        parts = [_form_part(boundary, 'name="series"', link.encode())]
        for path in files:
            disposition = f'name="files"; filename="{path.name}"'
            parts.append(_form_part(boundary, disposition, path.read_bytes(), DICOM))
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
        url = self.url + API + "node/series/"
        with self._open("POST", url, body, content_type=content_type) as answer:
            return dict(json.loads(answer.read() or b"{}"))

    def download(self, files: dict[str, str], into: Path) -> None:
        """Each file of a build into ``into`` (made empty first)."""
        into.mkdir(parents=True, exist_ok=True)
        for old in into.iterdir():
            old.unlink()
        for name, path in files.items():
            if Path(name).name != name:
                raise ServerUnreachable(f"the server named a file {name!r} outside the build")
            url = urljoin(self.url + "/", path.lstrip("/"))
            with self._open("GET", url, None) as answer, open(into / name, "wb") as handle:
                for block in iter(lambda: answer.read(CHUNK), b""):
                    handle.write(block)

    def _json(
        self, method: str, path: str, body: dict[str, Any], *, authenticated: bool = True
    ) -> Any:
        with self._open(method, self.url + API + path, body, authenticated) as answer:
            return json.loads(answer.read() or b"{}")

    def _open(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | bytes | None,
        authenticated: bool = True,
        content_type: str = "application/json",
    ) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if authenticated:
            if not self.token:
                raise NotEnrolled("this node has no token: enrol it first")
            headers["Authorization"] = f"Node {self.token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            return urllib.request.urlopen(request, timeout=self.timeout_s)  # noqa: S310
        except urllib.error.HTTPError as error:
            reason = _message(error)
            if error.code in (401, 403):
                raise NotEnrolled(f"ICHLabel refused the node: {reason}") from error
            if error.code >= 500:
                raise ServerUnreachable(f"ICHLabel answered {error.code}: {reason}") from error
            raise ValueError(f"ICHLabel answered {error.code}: {reason}") from error
        except (urllib.error.URLError, OSError) as error:
            raise ServerUnreachable(f"ICHLabel at {self.url} did not answer: {error}") from error


def _form_part(boundary: str, disposition: str, content: bytes, kind: str = "") -> bytes:
    head = f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n"
    if kind:
        head += f"Content-Type: {kind}\r\n"
    return head.encode() + b"\r\n" + content + b"\r\n"


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("message") or error.reason)
    except (ValueError, AttributeError, OSError):
        return str(error.reason)

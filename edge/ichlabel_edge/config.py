"""The node's config file (TOML): where the node keeps its builds, the public key it pins, and
the ICHLabel server it talks to.

One file, read once at start, so an operator sees in one place everything the node trusts.
Unknown keys are refused rather than ignored: a misspelt ``public_key`` must not leave a node
that silently trusts nothing (or something else). Relative paths are taken from the config
file's folder, so a config and its key can travel together.

    data_dir = "/var/lib/ichlabel-edge"                  # build slots and state (node-written)
    public_key = "/etc/ichlabel-edge/build-signing.pem"  # PEM of ICHLabel's build-signing key

    [ichlabel]                                           # for enrol, sync and run
    url = "https://ichlabel.example.org"
    token_file = "/etc/ichlabel-edge/token"
    send_series = false                                  # true: scored series go for import

    [pacs]                                               # for scan and run: DICOMweb ...
    dicomweb_url = "http://pacs.example.org/dicom-web"
    # dimse = { host = "pacs.example.org", port = 104, called_ae = "PACS" }   # ... or DIMSE
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from modelops.builds.manifest import BuildRefused, load_public_key

TOP_LEVEL = {"data_dir", "public_key", "ichlabel", "pacs"}
ICHLABEL_KEYS = {"url", "token_file", "send_series"}
PACS_KEYS = {"dicomweb_url", "dimse", "rules", "stable_s"}
DIMSE_KEYS = {"host", "port", "called_ae", "calling_ae", "timeout_s"}
# The node's AE title when the config names none; the PACS must know it (C-FIND, C-GET rights).
CALLING_AE = "ICHLABEL-EDGE"
# A PACS that does not answer within this long is taken as unreachable for the round.
DIMSE_TIMEOUT_S = 10.0


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Server:
    """The ICHLabel server the node enrols with, reports to and fetches builds from."""

    url: str
    token_file: Path
    # Send each scored series to ICHLabel for import (the prospective set): the site's choice,
    # as the series leave the hospital identified (ICHLabel's import de-identifies them).
    send_series: bool = False


@dataclass(frozen=True)
class Dimse:
    """A PACS's DICOM port: ``called_ae`` its AE title, ``calling_ae`` the node's; each
    connection, association and DIMSE answer waits at most ``timeout_s``."""

    host: str
    port: int
    called_ae: str
    calling_ae: str = CALLING_AE
    timeout_s: float = DIMSE_TIMEOUT_S

    def __str__(self) -> str:
        return f"{self.called_ae} at {self.host}:{self.port}"


@dataclass(frozen=True)
class Pacs:
    """The PACS the node watches, over DICOMweb (``dicomweb_url``) or DIMSE (``dimse``), exactly
    one; ``rules``: a MONAI Deploy series-selection file (None: the agent's default rules);
    ``stable_s``: how long a series must not grow."""

    dicomweb_url: str | None
    rules: Path | None
    stable_s: float
    dimse: Dimse | None = None


@dataclass(frozen=True)
class NodeConfig:
    path: Path
    data_dir: Path
    public_key_file: Path
    server: Server | None
    pacs: Pacs | None = None

    def public_key(self) -> Ed25519PublicKey:
        """The pinned build-signing key, read from its PEM file."""
        try:
            return load_public_key(self.public_key_file.read_bytes())
        except OSError as error:
            raise ConfigError(
                f"{self.path}: public_key {self.public_key_file} cannot be read: {error}"
            ) from error
        except (BuildRefused, ValueError) as error:
            raise ConfigError(
                f"{self.path}: public_key {self.public_key_file} is not an Ed25519 public key "
                f"in PEM: {error}"
            ) from error


def load_config(path: Path) -> NodeConfig:
    """The config at ``path``, checked; ``ConfigError`` says what is wrong."""
    path = Path(path).absolute()
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from error
    _only(path, raw, TOP_LEVEL, "")
    server = None
    if "ichlabel" in raw:
        table = raw["ichlabel"]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [ichlabel] must be a table")
        _only(path, table, ICHLABEL_KEYS, "ichlabel.")
        url = _text(path, table, "url", "ichlabel.")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{path}: ichlabel.url must be an http(s) URL, not {url!r}")
        send_series = table.get("send_series", False)
        if not isinstance(send_series, bool):
            raise ConfigError(f"{path}: ichlabel.send_series must be true or false")
        server = Server(
            url=url.rstrip("/"),
            token_file=_path(path, table, "token_file", "ichlabel."),
            send_series=send_series,
        )
    return NodeConfig(
        path=path,
        data_dir=_path(path, raw, "data_dir", ""),
        public_key_file=_path(path, raw, "public_key", ""),
        server=server,
        pacs=_pacs(path, raw["pacs"]) if "pacs" in raw else None,
    )


def _pacs(path: Path, table: Any) -> Pacs:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [pacs] must be a table")
    _only(path, table, PACS_KEYS, "pacs.")
    if ("dicomweb_url" in table) == ("dimse" in table):
        raise ConfigError(f"{path}: [pacs] needs exactly one of dicomweb_url and dimse")
    url, dimse = None, None
    if "dicomweb_url" in table:
        url = _text(path, table, "dicomweb_url", "pacs.")
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError(f"{path}: pacs.dicomweb_url must be an http(s) URL, not {url!r}")
        url = url.rstrip("/")
    else:
        dimse = _dimse(path, table["dimse"])
    stable_s = _seconds(path, table, "stable_s", "pacs.", 60)
    rules = _path(path, table, "rules", "pacs.") if "rules" in table else None
    return Pacs(dicomweb_url=url, rules=rules, stable_s=stable_s, dimse=dimse)


def _dimse(path: Path, table: Any) -> Dimse:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: pacs.dimse must be a table (host, port, called_ae)")
    _only(path, table, DIMSE_KEYS, "pacs.dimse.")
    port = table.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"{path}: pacs.dimse.port must be a port number (1 to 65535)")
    timeout_s = _seconds(path, table, "timeout_s", "pacs.dimse.", DIMSE_TIMEOUT_S)
    if timeout_s <= 0:
        raise ConfigError(f"{path}: pacs.dimse.timeout_s must be more than 0")
    return Dimse(
        host=_text(path, table, "host", "pacs.dimse."),
        port=port,
        called_ae=_ae_title(path, table, "called_ae"),
        calling_ae=_ae_title(path, table, "calling_ae") if "calling_ae" in table else CALLING_AE,
        timeout_s=timeout_s,
    )


def _ae_title(path: Path, table: dict[str, Any], key: str) -> str:
    """An AE title as DICOM allows it: 1 to 16 printable ASCII characters, no backslash."""
    title = _text(path, table, key, "pacs.dimse.")
    if len(title) > 16 or not title.isascii() or not title.isprintable() or "\\" in title:
        raise ConfigError(
            f"{path}: pacs.dimse.{key} must be an AE title (1 to 16 ASCII characters, "
            f"no backslash), not {title!r}"
        )
    return title


def _seconds(path: Path, table: dict[str, Any], key: str, prefix: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{path}: {prefix}{key} must be a number of seconds, 0 or more")
    return float(value)


def _only(path: Path, table: dict[str, Any], allowed: set[str], prefix: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {', '.join(prefix + k for k in unknown)} "
            f"(allowed: {', '.join(prefix + k for k in sorted(allowed))})"
        )


def _text(path: Path, table: dict[str, Any], key: str, prefix: str) -> str:
    if key not in table:
        raise ConfigError(f"{path}: {prefix}{key} is missing")
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: {prefix}{key} must be a non-empty string")
    return value.strip()


def _path(path: Path, table: dict[str, Any], key: str, prefix: str) -> Path:
    return path.parent / Path(_text(path, table, key, prefix)).expanduser()

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
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from modelops.builds.manifest import BuildRefused, load_public_key

TOP_LEVEL = {"data_dir", "public_key", "ichlabel", "pacs"}
ICHLABEL_KEYS = {"url", "token_file"}
PACS_KEYS = {"dicomweb_url", "rules", "stable_s"}


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Server:
    """The ICHLabel server the node enrols with, reports to and fetches builds from."""

    url: str
    token_file: Path


@dataclass(frozen=True)
class Pacs:
    """The PACS the node watches over DICOMweb; ``rules``: a MONAI Deploy series-selection
    file (None: the agent's default rules); ``stable_s``: how long a series must not grow."""

    dicomweb_url: str
    rules: Path | None
    stable_s: float


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
        server = Server(
            url=url.rstrip("/"), token_file=_path(path, table, "token_file", "ichlabel.")
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
    url = _text(path, table, "dicomweb_url", "pacs.")
    if urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"{path}: pacs.dicomweb_url must be an http(s) URL, not {url!r}")
    stable_s = table.get("stable_s", 60)
    if isinstance(stable_s, bool) or not isinstance(stable_s, int | float) or stable_s < 0:
        raise ConfigError(f"{path}: pacs.stable_s must be a number of seconds, 0 or more")
    rules = _path(path, table, "rules", "pacs.") if "rules" in table else None
    return Pacs(dicomweb_url=url.rstrip("/"), rules=rules, stable_s=float(stable_s))


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

"""Fixtures of the edge agent's tests: the agent imported from ``edge/`` (its own package, not
installed in the app's environment), a real ONNX scan model made once, and a node with a pinned
key in a temporary data folder. No Django settings or database."""

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[2]
EDGE = ROOT / "edge"
if str(EDGE) not in sys.path:
    sys.path.append(str(EDGE))  # appended: edge/ holds ichlabel_edge only, nothing it could shadow

from ichlabel_edge.config import NodeConfig, load_config  # noqa: E402
from ichlabel_edge.slots import Slots  # noqa: E402

from modelops.builds.manifest import public_key_pem  # noqa: E402
from tests.edge.builds import ModelFiles, make_model_files, write_build  # noqa: E402
from tests.edge.series import PacsSeries, PhantomSeries, pacs_series, phantom_series  # noqa: E402


@pytest.fixture(autouse=True)
def data_dir():
    """Overrides the project-wide fixture: the agent has no Django settings to point."""
    return None


@pytest.fixture(scope="session")
def model_files(tmp_path_factory) -> ModelFiles:
    """A small untrained scan model at 32 px as ONNX, its test scan and the scores it gives."""
    return make_model_files(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="session")
def key() -> Ed25519PrivateKey:
    """ICHLabel's build-signing key, as far as these tests are concerned."""
    return Ed25519PrivateKey.generate()


@dataclass
class Node:
    config: NodeConfig
    slots: Slots
    builds: Path  # where downloaded builds are written before their install

    @property
    def config_path(self) -> Path:
        return self.config.path


@pytest.fixture
def node(tmp_path, key) -> Node:
    """A node whose config pins ``key``'s public half and keeps its builds under tmp_path."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "build-signing.pem").write_text(public_key_pem(key.public_key()))
    (tmp_path / "etc" / "config.toml").write_text(
        'data_dir = "../var"\npublic_key = "build-signing.pem"\n'
    )
    config = load_config(tmp_path / "etc" / "config.toml")
    (tmp_path / "downloads").mkdir()
    return Node(config, Slots(config.data_dir, config.public_key()), tmp_path / "downloads")


@pytest.fixture
def build(node, model_files, key) -> Callable[..., Path]:
    """``build(number, **changes)``: a signed build in the node's downloads folder."""

    def make(number: int, **options) -> Path:
        directory = node.builds / f"build-{number}-{len(list(node.builds.iterdir()))}"
        write_build(directory, model_files, options.pop("key", key), number=number, **options)
        return directory

    return make


@pytest.fixture(scope="session")
def orthanc_server(tmp_path_factory):
    """Debian's Orthanc with its DICOMweb plugin, on a free 127.0.0.1 port, for the session
    (``tests/edge/orthanc.py``)."""
    from tests.edge.orthanc import orthanc_for_test

    server = orthanc_for_test(tmp_path_factory.mktemp("orthanc"))
    yield server
    server.stop()


@pytest.fixture
def orthanc(orthanc_server):
    """The session's Orthanc, emptied for this test."""
    orthanc_server.clear()
    return orthanc_server


@pytest.fixture(scope="module")
def series_files(tmp_path_factory) -> PacsSeries:
    """The series a PACS test pushes into its Orthanc (``series.pacs_series``), made once per
    module."""
    return pacs_series(tmp_path_factory.mktemp("pacs"))


@pytest.fixture(scope="session")
def phantom(tmp_path_factory) -> PhantomSeries:
    """32 slices of 5 mm, 64 x 64 pixels; the files number their instances from the vertex
    down, so InstanceNumber order is the reverse of the anatomy."""
    return phantom_series(tmp_path_factory.mktemp("phantom"), seed=7)


@pytest.fixture
def active(node, build):
    """The node's active build: a 32 px model, thresholds 0.5, installed and health-checked."""
    node.slots.install(build(1))
    return node.slots.active()

"""Fixtures of the pure-ML tests: tiny synthetic head CTs and snapshots, no Django."""

from pathlib import Path

import pytest

from tests.modelops.ml.synthetic import build_snapshot


@pytest.fixture(autouse=True)
def data_dir():
    """Overrides the project-wide fixture: modelops.ml needs no Django settings."""
    return None


@pytest.fixture(scope="session")
def tiny_snapshot(tmp_path_factory) -> Path:
    """Train 12 scans, validation 6, test 4; 24 px phantoms stored at 32 px."""
    directory = tmp_path_factory.mktemp("snapshot") / "snap"
    build_snapshot(directory, counts={"train": 12, "validation": 6, "test": 4}, image_size=32)
    return directory

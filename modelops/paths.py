"""Where modelops keeps its files, all under the installation's data directory."""

from pathlib import Path

from django.conf import settings


def modelops_root() -> Path:
    return Path(settings.DATA_DIR) / "modelops"


def data_path(relative: str) -> Path:
    """A stored relative path (snapshot directory, artifact) as an absolute path."""
    return Path(settings.DATA_DIR) / relative


def relative_to_data(path: Path) -> str:
    return str(path.resolve().relative_to(Path(settings.DATA_DIR).resolve()))


def snapshot_dir(key_sha256: str) -> Path:
    return modelops_root() / "snapshots" / key_sha256


def run_dir(run_id: object) -> Path:
    return modelops_root() / "runs" / str(run_id)


def model_artifact_path(run_id: object) -> Path:
    return modelops_root() / "models" / f"{run_id}.keras"

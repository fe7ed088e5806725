"""The libraries without Django stay without it: importing every module of each, in a fresh
process, loads no ``django`` (and the NumPy-only ones no Keras or TensorFlow either).

The modules are found on disk, so a module added to one of these libraries is checked too.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ML_FRAMEWORKS = ("keras", "tensorflow", "jax", "torch")

# library (a package or a module) -> what importing it must not load besides django. Libraries
# with the same list are imported in one process: Keras takes seconds to load, once is enough.
DJANGO_FREE = {
    "annotations.dicom": ML_FRAMEWORKS,
    "annotations.phantoms": ML_FRAMEWORKS,
    "annotations.agreement.statistics": ML_FRAMEWORKS,
    "annotations.vocabulary": ML_FRAMEWORKS,
    "modelops.metrics": ML_FRAMEWORKS,
    # The reader study is a Django app; its statistics and its plan are not.
    "modelops.reader_study.mrmc": ML_FRAMEWORKS,
    "modelops.reader_study.plan": ML_FRAMEWORKS,
    "modelops.ml": (),  # Keras is its business
    # What a node verifies a build with, and the export (Keras and onnxruntime, no Django).
    "modelops.builds.manifest": ML_FRAMEWORKS,
    "modelops.builds.export": (),
}

# Imports the modules one by one and names the first that loaded a forbidden package.
PROBE = """
import importlib, sys
forbidden = sys.argv[1].split(",")
for name in sys.argv[2:]:
    importlib.import_module(name)
    loaded = [m for m in forbidden if m in sys.modules]
    if loaded:
        sys.exit(f"importing {name} loaded {', '.join(loaded)}")
"""


@pytest.fixture(autouse=True)
def data_dir():
    """Overrides the project-wide fixture: these tests need no Django settings or database."""
    return None


def modules_of(library: str) -> list[str]:
    path = ROOT.joinpath(*library.split("."))
    if not path.is_dir():
        return [library]
    return [library] + [
        f"{library}.{file.stem}" for file in sorted(path.glob("*.py")) if file.stem != "__init__"
    ]


def test_every_module_is_found():
    assert "annotations.dicom.deid" in modules_of("annotations.dicom")
    assert "modelops.ml.train" in modules_of("modelops.ml")
    assert modules_of("annotations.vocabulary") == ["annotations.vocabulary"]


def libraries_by_forbidden() -> dict[tuple[str, ...], list[str]]:
    groups: dict[tuple[str, ...], list[str]] = {}
    for library, forbidden in DJANGO_FREE.items():
        groups.setdefault(("django", *forbidden), []).append(library)
    return groups


@pytest.mark.parametrize(
    ("forbidden", "libraries"), libraries_by_forbidden().items(), ids=lambda v: "+".join(v)
)
def test_libraries_import_without_django(forbidden, libraries):
    modules = [module for library in libraries for module in modules_of(library)]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(forbidden), *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]

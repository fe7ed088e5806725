"""The agent is a package of its own: importing it loads no Django and no Keras, and its wheel,
built from this repository, carries the app's modules it shares (the manifest checks and the
preprocessing, byte for byte) and runs with nothing else of the repository on the path."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

from modelops.builds.manifest import public_key_pem
from tests.edge.conftest import EDGE, ROOT

FORBIDDEN = ("django", "keras", "tensorflow", "jax", "torch", "scipy")
SHARED = [
    "annotations/__init__.py",
    "annotations/vocabulary.py",
    "annotations/dicom/__init__.py",
    "annotations/dicom/link.py",
    "modelops/builds/__init__.py",
    "modelops/builds/manifest.py",
    "modelops/ml/__init__.py",
    "modelops/ml/preprocess.py",
]

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps({"loaded": sorted(m for m in sys.modules if "." not in m),
                  "files": {n: sys.modules[n].__file__ for n in sys.argv[1:]}}))
"""


def modules() -> list[str]:
    package = EDGE / "ichlabel_edge"
    names = sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")
    return ["ichlabel_edge", *(f"ichlabel_edge.{n}" for n in names)]


def probe(python_path: str, cwd, names: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *names],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": python_path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_the_agent_imports_without_django_or_keras():
    names = modules()
    assert "ichlabel_edge.slots" in names and "ichlabel_edge.__main__" in names

    out = probe(os.pathsep.join([str(EDGE), str(ROOT)]), ROOT, names)

    assert not set(FORBIDDEN) & set(out["loaded"])


def test_the_wheel_carries_the_shared_modules_and_runs_alone(tmp_path, build, key):
    # A checkout of what the wheel is built from: edge/ beside the app's packages.
    checkout = tmp_path / "checkout"
    shutil.copytree(
        EDGE,
        checkout / "edge",
        ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__"),
    )
    for package in ("modelops", "annotations"):
        (checkout / package).symlink_to(ROOT / package)
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; "
            "print(build_meta.build_wheel(sys.argv[1]))",
            str(tmp_path / "dist"),
        ],
        cwd=checkout / "edge",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = tmp_path / "dist" / built.stdout.strip().splitlines()[-1]

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    ours = {n for n in names if ".dist-info/" not in n}
    assert {f"ichlabel_edge/{p.name}" for p in (EDGE / "ichlabel_edge").glob("*.py")} | set(
        SHARED
    ) == ours
    for path in SHARED:
        assert (tmp_path / "site" / path).read_bytes() == (ROOT / path).read_bytes()
    requires = [
        line.split(":", 1)[1].strip()
        for line in metadata.decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    assert sorted(r.split(">")[0] for r in requires) == [
        "cryptography",
        "dicomweb-client",
        "highdicom",
        "numpy",
        "onnxruntime",
        "pydicom",
        "pynetdicom",
    ]

    # Only the unpacked wheel on the path, started elsewhere: it installs a build.
    site = str(tmp_path / "site")
    out = probe(site, tmp_path, [*modules(), "modelops.ml.preprocess"])
    assert all(path.startswith(site) for path in out["files"].values())
    assert not set(FORBIDDEN) & set(out["loaded"])
    config = tmp_path / "node.toml"
    (tmp_path / "key.pem").write_text(public_key_pem(key.public_key()))
    config.write_text('data_dir = "node"\npublic_key = "key.pem"\n')
    result = subprocess.run(
        [sys.executable, "-m", "ichlabel_edge", "--config", str(config), "install", str(build(1))],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": site},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["active"] == {"slot": "a", "build": 1}

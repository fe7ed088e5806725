"""Start-up stays light: every Django process (web, worker, management command) imports the URL
conf, so what it imports at module level every process pays for. The heavy libraries load
where they are used (SciPy's statistics in the metrics, highdicom in the SR export, pydicom
where DICOM is read, Keras in training and prediction). Timings: ``bench/startup.py``."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy.stats", "highdicom", "pydicom", "keras", "tensorflow", "jax", "sklearn", "torch")

PROBE = """
import json, sys
import django
django.setup()
before = set(sys.modules)
import ichlabel.urls
print(json.dumps({"setup": sorted(set(sys.argv[1:]) & before),
                  "urls": sorted(set(sys.argv[1:]) & set(sys.modules))}))
"""


@pytest.fixture(autouse=True)
def data_dir():
    """Overrides the project-wide fixture: the probe runs in its own process."""
    return None


def test_setup_and_the_url_conf_load_no_heavy_library():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="ichlabel.settings_test")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *HEAVY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])

    assert loaded == {"setup": [], "urls": []}

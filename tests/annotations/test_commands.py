"""The management commands as a coordinator runs them."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.annotations.factories import series_datasets, write_series

ROOT = Path(__file__).resolve().parents[2]


def test_import_dicom_json_is_the_only_thing_on_stdout_and_exit_is_zero(tmp_path):
    write_series(tmp_path / "in" / "s", series_datasets(3))
    (tmp_path / "in" / "readme.txt").write_text("x")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ichlabel.settings",
        "ICHLABEL_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    done = subprocess.run(
        [
            *manage,
            "import_dicom",
            str(tmp_path / "in"),
            str(tmp_path / "missing"),
            "--center",
            "North",
            "--split",
            "test",
            "--json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["imported_scans"], report["imported_slices"]) == (1, 3)
    assert {r["reason"] for r in report["rejected"]} == {"not a DICOM file", "path does not exist"}
    assert set(report) >= {
        "imported_scans",
        "imported_slices",
        "skipped_scans",
        "skipped_slices",
        "quarantined",
        "rejected",
        "warnings",
    }


@pytest.mark.django_db
def test_import_dicom_prints_a_readable_report(tmp_path):
    write_series(tmp_path / "s", series_datasets(2))
    out = io.StringIO()

    call_command("import_dicom", str(tmp_path), "--center", "South", stdout=out)

    text = out.getvalue()
    assert "imported" in text and "1 scans / 2 slices imported" in text


@pytest.mark.django_db
def test_import_dicom_refuses_a_bad_center_name(tmp_path):
    with pytest.raises(CommandError, match="1 to 64 characters"):
        call_command("import_dicom", str(tmp_path), "--center", "x" * 65, stdout=io.StringIO())

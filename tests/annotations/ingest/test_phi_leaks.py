"""No identifying value survives an import: not in stored files, database rows, API responses
or logs. PHI is planted in every attribute of PS3.15 Table E.1-1 and in private tags."""

import io
import json
import logging
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from annotations.models import Scan
from tests.annotations.factories import series_datasets, write_series
from tests.annotations.phi import plant_phi

pytestmark = pytest.mark.django_db


@pytest.fixture
def planted(tmp_path):
    """Two patients' series with PHI everywhere; returns (folder, strings that must not leak)."""
    secrets: set[str] = set()
    for variant in (1, 2):
        datasets = series_datasets(4)
        for ds in datasets:
            secrets.update(plant_phi(ds, variant=variant))
            secrets.update({ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID})
        write_series(tmp_path / f"patient{variant}", datasets)
    return tmp_path, sorted(secrets)


def leaks(text: str, secrets: list[str]) -> list[str]:
    lowered = text.lower()
    return [secret for secret in secrets if secret.lower() in lowered]


def test_no_planted_value_survives_anywhere(planted, coordinator, caplog):
    folder, secrets = planted
    caplog.set_level(logging.DEBUG)
    stdout = io.StringIO()

    call_command("import_dicom", str(folder), "--center", "Leak Center", "--json", stdout=stdout)

    report = json.loads(stdout.getvalue())
    assert report["imported_scans"] == 2, report
    assert report["rejected"] == [] and report["quarantined"] == []

    stored = list(Path(settings.MEDIA_ROOT).rglob("*.dcm"))
    assert len(stored) == 8
    for path in stored:
        raw = path.read_bytes().decode("latin-1")
        assert leaks(raw, secrets) == [], path

    dump = io.StringIO()
    call_command("dumpdata", "annotations", "auth.user", stdout=dump)
    assert leaks(dump.getvalue(), secrets) == []

    client = APIClient()
    client.force_authenticate(coordinator)
    bodies = [
        client.get("/api/v1/scans/"),
        client.get("/api/v1/import-batches/"),
        client.get("/api/v1/centers/"),
    ]
    bodies += [client.get(f"/api/v1/scans/{scan.pk}/") for scan in Scan.objects.all()]
    for response in bodies:
        assert response.status_code == 200
        assert leaks(response.content.decode(), secrets) == []

    assert leaks(stdout.getvalue(), secrets) == []
    # caplog sees every record this test emitted at any level: what the log files would get.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert leaks(logged, secrets) == []


def test_patients_get_distinct_pseudonyms_and_shifted_dates(planted):
    folder, _ = planted

    call_command(
        "import_dicom", str(folder), "--center", "Leak Center", "--json", stdout=io.StringIO()
    )

    scans = list(Scan.objects.select_related("patient"))
    assert len({scan.patient.pseudonym for scan in scans}) == 2
    assert all(scan.age_band and scan.sex for scan in scans)
    assert all(scan.acquisition_date is None or scan.acquisition_date.year < 2021 for scan in scans)


def test_pydicom_log_messages_lose_quoted_values():
    from ichlabel.logfilters import RedactDicomValues

    record = logging.LogRecord(
        "pydicom",
        logging.WARNING,
        __file__,
        1,
        "Invalid value for VR DA: '%s'",
        ("1954.06.11",),
        None,
    )

    RedactDicomValues().filter(record)

    assert record.getMessage() == "Invalid value for VR DA: '<redacted>'"

"""REST API: the import-batch workflow through a real worker, errors, tokens. Roles per
endpoint: tests/ichlabel/test_permission_matrix.py."""

import io
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.ingest.services import (
    center_get_or_create,
    import_batch_create,
    import_batch_run,
    import_batch_start,
)
from annotations.models import ImportBatch, JobStatus, QuarantinedSeries, Scan
from annotations.phantoms import write_phantoms
from ichlabel import jobs
from ichlabel.errors import DomainError
from tests.annotations.factories import run_import, series_datasets, write_series
from tests.conftest import user_with_role


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_coordinators_open_imports_and_create_centers(coordinator):
    """Who else may: tests/ichlabel/test_permission_matrix.py."""
    client = client_for(coordinator)

    created = client.post("/api/v1/import-batches/create/", {"center": "X"}, format="json")
    center = client.post("/api/v1/centers/create/", {"name": "Y", "split": "test"}, format="json")

    assert created.status_code == 201 and created.json()["center"] == "X"
    assert center.status_code == 201 and center.json()["split"] == "test"
    assert [row["id"] for row in client.get("/api/v1/import-batches/").json()["results"]] == [
        created.json()["id"]
    ]


@pytest.mark.django_db
def test_errors_are_json_with_a_message(coordinator):
    client = client_for(coordinator)

    invalid = client.post("/api/v1/import-batches/create/", {"split": "nonsense"}, format="json")
    missing = client.get("/api/v1/scans/999999/")
    forbidden = client_for(None).get("/api/v1/scans/")

    assert invalid.status_code == 400
    assert invalid.json()["message"] == "Validation error"
    assert set(invalid.json()["extra"]["fields"]) == {"center", "split"}
    assert missing.status_code == 404 and missing.json()["message"]
    assert forbidden.status_code in (401, 403) and forbidden.json()["message"]


@pytest.mark.django_db
def test_token_authentication_for_scripts(coordinator):
    token = Token.objects.create(user=coordinator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.get("/api/v1/centers/").status_code == 200


@pytest.mark.django_db
def test_scan_list_filters_and_does_not_query_per_row(
    tmp_path, coordinator, django_assert_max_num_queries
):
    write_phantoms(tmp_path / "a", scans=3, seed=1, size=64)
    run_import(tmp_path / "a", center="Center A")
    write_series(tmp_path / "b", series_datasets(2))
    run_import(tmp_path / "b", center="Center E", split="validation")
    client = client_for(coordinator)

    with django_assert_max_num_queries(6):
        listed = client.get("/api/v1/scans/", {"split": "validation"})
    centers = client.get("/api/v1/centers/").json()

    assert listed.json()["count"] == 1
    assert listed.json()["results"][0]["center"] == "Center E"
    by_name = {c["name"]: c for c in centers}
    assert by_name["Center A"]["scan_count"] == 3
    assert by_name["Center E"]["slice_count"] == 2


@pytest.mark.django_db
def test_changing_a_centers_split_moves_its_scans(tmp_path, coordinator):
    write_series(tmp_path / "s", series_datasets(2))
    run_import(tmp_path, center="Center F")
    center = Scan.objects.get().center

    response = client_for(coordinator).post(
        f"/api/v1/centers/{center.pk}/split/", {"split": "test"}, format="json"
    )

    assert response.status_code == 200 and response.json()["split"] == "test"
    assert Scan.objects.get().split == "test"


@pytest.mark.django_db
def test_openapi_schema_is_served(coordinator):
    response = client_for(coordinator).get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/v1/import-batches/{batch_id}/files/" in response.content


def upload(client, batch_id, files: dict[str, bytes]):
    payload = {
        "files": [io.BytesIO(content) for content in files.values()],
        "paths": list(files),
    }
    for handle, name in zip(payload["files"], files, strict=True):
        handle.name = Path(name).name
    return client.post(f"/api/v1/import-batches/{batch_id}/files/", payload, format="multipart")


def wait_finished(client, batch_id, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/import-batches/{batch_id}/").json()
        if body["status"] in ("succeeded", "warning", "failed", "canceled"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"import {batch_id} did not finish: {body}")


@pytest.mark.worker
def test_import_batch_through_the_api_and_a_real_worker(worker, tmp_path):
    coordinator = user_with_role("coord-w", "coordinator")
    client = client_for(coordinator)
    write_phantoms(tmp_path / "in", scans=2, seed=3, size=64)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "in").rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tmp_path / "in"))

    created = client.post(
        "/api/v1/import-batches/create/",
        {"center": "API Center", "split": "validation"},
        format="json",
    )
    batch_id = created.json()["id"]
    added = upload(client, batch_id, {"export.zip": archive.getvalue(), "../../escape.txt": b"x"})
    started = client.post(f"/api/v1/import-batches/{batch_id}/start/")
    late = upload(client, batch_id, {"late.dcm": b"x"})
    body = wait_finished(client, batch_id)

    assert created.status_code == 201 and created.json()["status"] == "pending"
    assert added.status_code == 200
    assert started.status_code == 202
    assert late.status_code == 409
    assert body["status"] == "warning", body
    report = body["report"]
    assert report["imported_scans"] == 2
    assert {r["path"]: r["reason"] for r in report["rejected"]} == {
        "escape.txt": "not a DICOM file",
        "export.zip!truth.json": "not a DICOM file",
    }
    assert body["files_done"] == body["files_total"] > 0
    assert Scan.objects.filter(center__name="API Center", split="validation").count() == 2
    assert not (Path(settings.UPLOAD_DIR) / batch_id).exists()  # PHI-bearing uploads are gone


@pytest.mark.django_db
def test_start_without_files_is_refused_and_cancel_before_start_works(coordinator):
    client = client_for(coordinator)
    batch_id = client.post("/api/v1/import-batches/create/", {"center": "C"}, format="json").json()[
        "id"
    ]

    empty = client.post(f"/api/v1/import-batches/{batch_id}/start/")
    canceled = client.post(f"/api/v1/import-batches/{batch_id}/cancel/")
    again = client.post(f"/api/v1/import-batches/{batch_id}/cancel/")

    assert empty.status_code == 400 and "no files" in empty.json()["message"]
    assert canceled.json()["status"] == "canceled"
    assert again.status_code == 409


@pytest.mark.django_db
def test_a_batch_whose_worker_died_is_failed_and_leaves_nothing(tmp_path):
    write_series(tmp_path / "s", series_datasets(3))
    run_import(tmp_path)
    scan = Scan.objects.get()
    batch = scan.import_batch
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=JobStatus.RUNNING,
        finished_at=None,
        heartbeat_at=timezone.now() - timedelta(minutes=30),
    )
    fresh = ImportBatch.objects.create(
        center=center_get_or_create(name="Other"),
        split="train",
        source="api",
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    failed = jobs.fail_stale(ImportBatch, timeout_s=300)

    assert failed["failed"] == 1
    batch.refresh_from_db()
    fresh.refresh_from_db()
    assert batch.status == "failed" and "stopped responding" in batch.message
    assert fresh.status == "running"
    assert Scan.objects.count() == 0
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.dcm"))


@pytest.mark.django_db
def test_a_second_start_is_refused(coordinator):
    client = client_for(coordinator)
    batch_id = client.post("/api/v1/import-batches/create/", {"center": "C"}, format="json").json()[
        "id"
    ]
    upload(client, batch_id, {"a.dcm": b"x"})
    stale_copy = ImportBatch.objects.get(pk=batch_id)  # what a double click's second request holds

    first = client.post(f"/api/v1/import-batches/{batch_id}/start/")
    with pytest.raises(DomainError):
        import_batch_start(batch=stale_copy)

    assert first.status_code == 202


@pytest.mark.django_db
def test_a_run_stops_when_its_batch_was_failed_meanwhile(settings, monkeypatch):
    """A worker judged dead by fail_stale must not go on and overwrite the failure."""
    from annotations.ingest import scan_import as scans

    batch = import_batch_create(center=center_get_or_create(name="C"), split=None, source="api")
    upload_dir = Path(settings.UPLOAD_DIR) / str(batch.pk)
    write_series(upload_dir / "a", series_datasets(2))
    original = scans.read_full

    def read_then_fail_the_batch(header):
        ImportBatch.objects.filter(pk=batch.pk).update(status=JobStatus.FAILED)
        return original(header)

    monkeypatch.setattr(scans, "read_full", read_then_fail_the_batch)

    import_batch_run(batch_id=str(batch.pk))

    batch.refresh_from_db()
    assert batch.status == "failed"
    assert Scan.objects.count() == 0
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.dcm"))
    assert not upload_dir.exists()


@pytest.mark.django_db
def test_a_failed_batch_removes_its_quarantined_originals(tmp_path, settings):
    def burned(index, ds):
        ds.BurnedInAnnotation = "YES"

    write_series(tmp_path / "s", series_datasets(2, edit=burned))
    run_import(tmp_path)
    held = QuarantinedSeries.objects.get()
    batch = held.batch
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=JobStatus.RUNNING, finished_at=None, heartbeat_at=timezone.now() - timedelta(hours=1)
    )

    jobs.fail_stale(ImportBatch, timeout_s=60)

    assert not QuarantinedSeries.objects.exists()
    assert not (Path(settings.QUARANTINE_DIR) / held.directory).exists()

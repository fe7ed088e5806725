"""The DICOM SR zip built as a job on a real worker: started through the API (202), followed to
its end, downloaded byte for byte as the streamed export; a build that fails says why, removes
what it wrote and serves nothing."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from annotations.exports import ExportFilters, iter_sr_zip
from annotations.exports.selectors import export_job_path
from annotations.exports.services import export_job_start
from tests.annotations.exports import test_exports
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

study = test_exports.study  # the same hand-made study and frozen version


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def finished(client, url: str) -> dict:
    return wait_for(
        lambda: client.get(url).json(),
        lambda job: job["status"] in ("succeeded", "failed", "canceled"),
        "the export to finish",
    )


def test_sr_export_runs_as_a_job_and_downloads_the_whole_zip(worker, study):
    version, people = study["version"], study["people"]
    client = client_for(people["ml_engineer"])

    started = client.post(
        f"/api/v1/ground-truth/{version.pk}/export-jobs/", {"kind": "sr.zip"}, format="json"
    )
    job = finished(client, started.json()["url"])
    download = client.get(job["download_url"])
    someone_else = client_for(people["coordinator"]).get(started.json()["url"])

    assert started.status_code == 202
    assert (started.json()["scans_total"], started.json()["download_url"]) == (3, None)
    assert job["status"] == "succeeded", job["message"]
    assert (job["scans_done"], job["scans_total"], job["progress"]) == (3, 3, 1.0)
    body = b"".join(download.streaming_content)
    assert body == b"".join(iter_sr_zip(version=version))
    assert job["file_bytes"] == len(body)
    assert download["Content-Disposition"].startswith("attachment;")
    assert f"-v{version.pk}-sr.zip" in download["Content-Disposition"]
    assert download["X-Ground-Truth-SHA256"] == version.content_sha256
    assert someone_else.status_code == 404  # an export is its starter's own


def test_a_failed_sr_export_says_why_and_serves_no_part_of_its_file(worker, study):
    version, coordinator = study["version"], study["people"]["coordinator"]
    client = client_for(coordinator)
    with transaction.atomic():  # queued when this commits, after the obstacle is in place
        job = export_job_start(
            version_id=version.pk, kind="sr.zip", filters=ExportFilters(), user=coordinator
        )
        # Something else holds the file's name: the zip is built, then cannot take its place.
        final = export_job_path(job)
        final.mkdir(parents=True)

    failed = finished(client, f"/api/v1/export-jobs/{job.pk}/")
    download = client.get(f"/api/v1/export-jobs/{job.pk}/file/")

    assert failed["status"] == "failed"
    assert failed["message"] == "The export could not be written: Is a directory."
    assert failed["download_url"] is None and failed["file_bytes"] is None
    assert download.status_code == 409 and "failed" in download.json()["message"]
    assert not final.with_name(final.name + ".part").exists()
    ours = [path for path in final.parent.iterdir() if path.name.startswith(str(job.pk))]
    assert ours == [final]  # nothing of the build is left beside what held its name

"""Series a node sends for import (the prospective set): imported once per link into the node's
center, every file checked to be of the series its link names, refused whole with the reason
otherwise; only a node token reaches the endpoint."""

import pydicom
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.dicom.link import center_link_key, series_link
from annotations.ingest.services import center_get_or_create, import_batch_run
from annotations.models import ImportBatch, Scan
from annotations.phantoms import write_phantoms
from modelops.models import EdgeNode, NodeSeriesUpload
from modelops.nodes.tokens import token_hash
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

URL = "/api/v1/modelops/node/series/"


@pytest.fixture
def node():
    return EdgeNode.objects.create(
        name="jetson-s",
        center=center_get_or_create(name="Center S", split="test"),
        created_by=user_with_role("mlengineer", "ml_engineer"),
        enrolled_at=timezone.now(),
        token_hash=token_hash("token-s"),
    )


@pytest.fixture
def series(tmp_path):
    """Two phantom series: their files by series UID."""
    write_phantoms(tmp_path, scans=2, seed=5, size=32)
    found: dict[str, list] = {}
    for path in sorted(p for p in tmp_path.rglob("*") if p.parent != tmp_path):
        found.setdefault(str(pydicom.dcmread(path).SeriesInstanceUID), []).append(path)
    return found


def _send(link: str, paths, token: str = "token-s", extra=()):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Node {token}")
    files = [SimpleUploadedFile(p.name, p.read_bytes()) for p in paths] + list(extra)
    return client.post(URL, {"series": link, "files": files}, format="multipart")


def _link(uid: str) -> str:
    return series_link(center_link_key(settings.DEID_SECRET, "Center S"), uid)


def test_a_sent_series_is_imported_once_into_the_nodes_center(node, series, jobs_queued):
    uid, paths = next(iter(series.items()))

    first = _send(_link(uid), paths)
    again = _send(_link(uid), paths)  # its answer lost: sent again

    assert first.status_code == 201 and again.status_code == 200, again.json()
    assert first.json() == again.json() and first.json()["files"] == len(paths)
    upload = NodeSeriesUpload.objects.get()
    assert upload.batch.source == ImportBatch.Source.NODE and upload.batch.center == node.center
    assert ImportBatch.objects.count() == 1 and upload.batch.task_id  # queued
    assert import_batch_run(batch_id=upload.batch_id).status == "succeeded"
    scan = Scan.objects.get()
    assert scan.source_link == _link(uid) and scan.split == "test"


def test_a_series_whose_files_are_not_all_of_its_link_is_refused_whole(node, series):
    (uid, paths), (_other, others) = series.items()

    mixed = _send(_link(uid), [*paths, others[0]])
    not_dicom = _send(_link(uid), paths, extra=[SimpleUploadedFile("notes.dcm", b"not DICOM")])

    assert mixed.status_code == 400 and "is not of the series the link names" in str(mixed.json())
    assert not_dicom.status_code == 400 and "is not a DICOM file" in str(not_dicom.json())
    assert _send("not-a-link", paths).status_code == 400
    assert _send(_link(uid), paths, token="a guess").status_code == 401
    assert not NodeSeriesUpload.objects.exists() and not ImportBatch.objects.exists()

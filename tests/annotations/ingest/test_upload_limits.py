"""What an upload may expand to: zip bombs, oversized members, headers that lie and a batch's
total are refused from sizes alone, before anything is decompressed (annotations.dicom.archives);
through the API a refusal is a JSON 400 that stores nothing, in the import a per-file rejection
in the batch's report."""

import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian
from rest_framework.test import APIClient

from annotations.dicom.archives import KIB, MIB, BoundedReader, ExpansionLimits
from annotations.dicom.errors import RejectedFile
from annotations.dicom.sources import Source, SourceProblem, iter_sources
from annotations.ingest.services import (
    center_get_or_create,
    import_batch_create,
    import_batch_files_add,
    import_batch_run,
)
from annotations.models import ImportBatch, JobStatus, Scan
from tests.annotations.factories import run_import, series_datasets, write_series

pytestmark = pytest.mark.django_db


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def bomb() -> bytes:
    """The measured attack, scaled down: members of zeros that deflate about 1000:1."""
    return zip_bytes({f"slice{i}.dcm": bytes(2 * MIB) for i in range(4)})


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def open_batch(client) -> str:
    response = client.post("/api/v1/import-batches/create/", {"center": "C"}, format="json")
    return response.json()["id"]


def upload(client, batch_id: str, files: dict[str, bytes]):
    handles = []
    for name, content in files.items():
        handle = io.BytesIO(content)
        handle.name = Path(name).name or "file"
        handles.append(handle)
    return client.post(
        f"/api/v1/import-batches/{batch_id}/files/",
        {"files": handles, "paths": list(files)},
        format="multipart",
    )


def stored(settings, batch_id) -> list[str]:
    root = Path(settings.UPLOAD_DIR) / str(batch_id)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_a_zip_bomb_is_refused_whole_before_it_is_stored(coordinator, settings):
    client = client_for(coordinator)
    batch_id = open_batch(client)

    first = upload(client, batch_id, {"good.dcm": b"DICM", "export.zip": bomb()})

    assert first.status_code == 400
    body = first.json()
    assert body["message"].startswith("export.zip: the zip archive expands")
    assert "beyond the limit of 100:1" in body["message"]
    assert "nothing of this upload was stored" in body["message"]
    assert body["extra"] == {"file": "export.zip"}
    assert stored(settings, batch_id) == []
    assert ImportBatch.objects.get(pk=batch_id).status == JobStatus.PENDING


def test_the_measured_attack_is_refused_in_the_request(coordinator, settings):
    """The finding itself: a 1 MB zip of four 250 MiB members of zeros held the only worker
    for 13.6 minutes. It is now a 400 from the zip's directory; nothing is decompressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(4):
            with archive.open(f"slice{index}.dcm", "w") as member:
                for _ in range(250):
                    member.write(bytes(MIB))
    assert buffer.tell() < 1_100_000
    client = client_for(coordinator)
    batch_id = open_batch(client)

    response = upload(client, batch_id, {"export.zip": buffer.getvalue()})

    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("export.zip: the zip archive expands 10")  # about 1000:1
    assert "KiB to 1000 MiB), beyond the limit of 100:1" in message
    assert stored(settings, batch_id) == []


def test_an_upload_past_the_batch_total_is_refused_and_the_earlier_ones_stay(coordinator, settings):
    settings.IMPORT_MAX_BATCH_BYTES = 3000
    client = client_for(coordinator)
    batch_id = open_batch(client)

    first = upload(client, batch_id, {"a.dcm": os.urandom(2000)})
    second = upload(client, batch_id, {"b.dcm": os.urandom(500), "c.dcm": os.urandom(1000)})

    assert first.status_code == 200
    assert second.status_code == 400
    assert (
        "would hold 3.4 KiB uncompressed, beyond its limit of 2.9 KiB" in (second.json()["message"])
    )
    assert stored(settings, batch_id) == ["a.dcm"]


def browser(coordinator) -> APIClient:
    """The import page's client: a session, and the CSRF token in a header."""
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="coord", password="pw-coord")
    token = "k" * 32
    client.cookies["csrftoken"] = token
    client.credentials(HTTP_X_CSRFTOKEN=token)
    return client


@pytest.mark.parametrize("make_client", [client_for, browser], ids=["script", "browser"])
def test_a_body_past_what_the_batch_can_take_is_stopped_as_it_arrives(
    coordinator, settings, make_client
):
    settings.IMPORT_MAX_BATCH_BYTES = 1000
    client = make_client(coordinator)
    batch_id = open_batch(client)

    refused = upload(client, batch_id, {"a.dcm": b"a" * 500, "big.bin": bytes(3 * MIB)})
    accepted = upload(client, batch_id, {"a.dcm": b"a" * 500})

    assert refused.status_code == 400
    message = refused.json()["message"]
    assert "pass the 1 MiB this import can still take" in message
    assert "nothing of this upload was stored" in message
    assert accepted.status_code == 200
    assert stored(settings, batch_id) == ["a.dcm"]


def test_a_zip_counts_at_what_its_directory_declares(coordinator, settings):
    settings.IMPORT_MAX_BATCH_BYTES = 5 * MIB
    client = client_for(coordinator)
    batch_id = open_batch(client)
    # 4 MiB of noise: no ratio to speak of, yet the total counts the 4 MiB, not the zip's size.
    noise = zip_bytes({"a.bin": os.urandom(2 * MIB), "b.bin": os.urandom(2 * MIB)})

    first = upload(client, batch_id, {"noise.zip": noise})
    second = upload(
        client, batch_id, {"more.zip": zip_bytes({"c.bin": os.urandom(MIB + MIB // 2)})}
    )

    assert first.status_code == 200
    assert second.status_code == 400
    assert "would hold 5.5 MiB uncompressed, beyond its limit of 5 MiB" in second.json()["message"]


def test_a_member_bomb_in_an_honest_archive_is_refused_in_the_report_unread(coordinator, settings):
    client = client_for(coordinator)
    batch_id = open_batch(client)
    archive = zip_bytes({"noise.bin": os.urandom(MIB), "zeros.dcm": bytes(4 * MIB)})

    added = upload(client, batch_id, {"export.zip": archive})
    batch = import_batch_run(batch_id=batch_id)

    assert added.status_code == 200
    reasons = {row["path"]: row["reason"] for row in batch.report["rejected"]}
    assert reasons["export.zip!noise.bin"] == "not a DICOM file"
    assert reasons["export.zip!zeros.dcm"].startswith("the compressed member expands")
    assert batch.status == JobStatus.WARNING


def test_an_oversized_member_is_refused_in_the_report_unread(coordinator, settings):
    settings.IMPORT_MAX_FILE_BYTES = MIB
    client = client_for(coordinator)
    batch_id = open_batch(client)

    added = upload(client, batch_id, {"export.zip": zip_bytes({"big.dcm": os.urandom(MIB + 1)})})
    batch = import_batch_run(batch_id=batch_id)

    assert added.status_code == 200
    assert batch.report["rejected"] == [
        {
            "path": "export.zip!big.dcm",
            "reason": (
                "file too large for a CT slice "
                "(1048577 bytes uncompressed; the limit is 1048576 bytes)"
            ),
        }
    ]


def test_limits_lowered_after_the_upload_hold_at_the_import(settings):
    settings.IMPORT_MAX_BATCH_BYTES = 10_000
    batch = import_batch_create(center=center_get_or_create(name="C"), split=None, source="api")
    import_batch_files_add(
        batch=batch, files=[("a.dcm", io.BytesIO(b"a" * 2000)), ("b.dcm", io.BytesIO(b"b" * 2000))]
    )
    settings.IMPORT_MAX_BATCH_BYTES = 3000

    batch = import_batch_run(batch_id=str(batch.pk))

    reasons = {row["path"]: row["reason"] for row in batch.report["rejected"]}
    assert reasons["a.dcm"] == "not a DICOM file"
    assert reasons["b.dcm"].startswith("the import would hold 3.9 KiB uncompressed")


def test_the_command_line_refuses_a_zip_bomb_without_reading_it(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(bomb())

    report = run_import(path)

    assert len(report.rejected) == 1
    assert report.rejected[0]["path"] == str(path)
    assert report.rejected[0]["reason"].startswith(
        "zip archive refused, nothing read: the zip archive expands"
    )


def _lying_zip(path: Path, declared: int) -> None:
    """A zip whose directory (and local header) declare ``declared`` bytes for a member that
    holds 4 MiB of zeros: small enough for every limit, if the header were believed."""
    data = bytearray(zip_bytes({"liar.dcm": bytes(4 * MIB)}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature) + offset
        data[at : at + 4] = struct.pack("<I", declared)
    path.write_bytes(bytes(data))


def test_a_member_that_holds_more_than_its_header_declares_is_refused(tmp_path):
    path = tmp_path / "liar.zip"
    _lying_zip(path, declared=1000)

    report = run_import(path)

    assert report.rejected == [
        {
            "path": f"{path}!liar.dcm",
            "reason": "zip member does not match its header (BadZipFile)",
        }
    ]


def test_a_member_in_a_compression_zipfile_lacks_is_refused_not_fatal(tmp_path):
    path = tmp_path / "deflate64.zip"
    data = bytearray(zip_bytes({"a.dcm": b"x" * 100}))
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.index(signature) + offset
        data[at : at + 2] = struct.pack("<H", 9)  # Deflate64
    path.write_bytes(bytes(data))

    report = run_import(path)

    assert report.rejected == [
        {"path": f"{path}!a.dcm", "reason": "unreadable zip member (NotImplementedError)"}
    ]


def test_the_bounded_reader_stops_at_the_declared_size():
    source = io.BytesIO(b"x" * 10)

    with pytest.raises(RejectedFile, match="holds more than its header declares"):
        BoundedReader(source, 5).read()
    assert source.tell() == 6  # one byte past the limit, never the rest


def test_the_walk_refuses_what_would_pass_the_total(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).write_bytes(b"x" * 400)
    limits = ExpansionLimits(max_total_bytes=1000)

    found = list(iter_sources([tmp_path], base=tmp_path, limits=limits))

    assert [type(item) for item in found] == [Source, Source, SourceProblem]
    assert found[2].reason.startswith("the import would hold 1.2 KiB uncompressed")


def _deflated_slices(folder: Path, *, size: int) -> list[Path]:
    """Two slices in the deflated transfer syntax, each ``size`` pixels square of one value:
    a DICOM file that inflates about 1000:1."""

    def deflate_flat(index, ds):
        ds.PixelData = bytes(size * size * 2)
        ds.Rows = ds.Columns = size
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian

    return write_series(folder, series_datasets(2, edit=deflate_flat))


def test_a_deflated_dicom_bomb_is_refused_as_soon_as_it_passes_the_ratio(tmp_path):
    paths = _deflated_slices(tmp_path / "s", size=1024)  # 2 MiB of pixels each
    assert all(path.stat().st_size < 20 * KIB for path in paths)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:  # ratio 1:1 as a zip
        zf.write(paths[0], "inner.dcm")

    report = run_import(tmp_path / "s", archive)

    assert Scan.objects.count() == 0
    assert len(report.rejected) == 3
    for row in report.rejected:
        assert row["reason"].startswith("the deflated DICOM dataset expands"), row
        assert row["reason"].endswith("; inflating stopped there")


def test_a_deflated_bomb_without_its_meta_group_length_is_refused_too(tmp_path):
    """The group length element is required, but readers take files without it."""
    path = _deflated_slices(tmp_path / "s", size=1024)[0]
    raw = path.read_bytes()
    assert raw[132:138] == b"\x02\x00\x00\x00UL"
    path.write_bytes(raw[:132] + raw[144:])

    report = run_import(path)

    assert len(report.rejected) == 1
    assert report.rejected[0]["reason"].startswith("the deflated DICOM dataset expands")


def test_a_deflated_file_past_the_file_limit_is_refused(tmp_path, settings):
    settings.IMPORT_MAX_FILE_BYTES = 256 * KIB
    _deflated_slices(tmp_path / "s", size=512)  # 512 KiB of pixels each: under the ratio floor

    report = run_import(tmp_path / "s")

    assert [row["reason"].split(" (")[0] for row in report.rejected] == [
        "file too large for a CT slice"
    ] * 2


def test_an_honest_deflated_series_still_imports(tmp_path):
    _deflated_slices(tmp_path / "s", size=32)

    report = run_import(tmp_path / "s")

    assert report.imported_scans == 1, report.rejected


def test_the_batch_total_is_kept_beside_the_uploads_and_goes_with_them(coordinator, settings):
    client = client_for(coordinator)
    imported, canceled = open_batch(client), open_batch(client)
    for batch_id in (imported, canceled):
        assert upload(client, batch_id, {"a.dcm": b"a" * 100}).status_code == 200
        assert upload(client, batch_id, {"b.dcm": b"b" * 50}).status_code == 200
    ledgers = {
        path.name: json.loads(path.read_text())
        for path in Path(settings.UPLOAD_DIR).glob("*.expansion.json")
    }

    batch = import_batch_run(batch_id=imported)
    client.post(f"/api/v1/import-batches/{canceled}/cancel/")

    assert ledgers == {
        f"{batch_id}.expansion.json": {"expanded": 150, "stored": 150}
        for batch_id in (imported, canceled)
    }
    assert sorted(row["path"] for row in batch.report["rejected"]) == ["a.dcm", "b.dcm"]
    assert list(Path(settings.UPLOAD_DIR).iterdir()) == []

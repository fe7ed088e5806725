"""Upload names: whatever a script or a browser's folder upload names a file, it arrives inside
the batch's folder under a normalised name of its own, and no name fails a request half-way
(annotations.ingest.uploads). Every case goes through the real API, as a script (token) and as
the browser (session: the import page sends ``paths`` from each file's webkitRelativePath)."""

import io
from pathlib import Path, PurePosixPath

import pytest
from rest_framework.test import APIClient

from annotations.ingest.services import (
    center_get_or_create,
    import_batch_create,
    import_batch_files_add,
)
from annotations.ingest.uploads import MAX_NAME_BYTES, MAX_PATH_BYTES, upload_name_normalise

pytestmark = pytest.mark.django_db

LONG_NAME = "é" * 300 + ".dcm"  # 300 characters, 604 bytes: over NAME_MAX in bytes only
DEEP_PATH = "/".join(["d" * 200] * 30) + "/deep.dcm"


@pytest.fixture(params=["script", "browser"])
def client(request, coordinator) -> APIClient:
    client = APIClient()
    if request.param == "script":
        client.force_authenticate(coordinator)
    else:
        assert client.login(username="coord", password="pw-coord")
    return client


def open_batch(client) -> str:
    response = client.post("/api/v1/import-batches/create/", {"center": "C"}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def upload(client, batch_id: str, paths: list[str] | None, names: list[str] | None = None):
    # The file's own name as a browser sends it (a file system has no file named '..').
    names = names or [PurePosixPath(path).name.strip(".") or "file" for path in paths or []]
    handles = []
    for index, name in enumerate(names):
        handle = io.BytesIO(f"file {index}".encode())
        handle.name = name
        handles.append(handle)
    data: dict = {"files": handles}
    if paths is not None:
        data["paths"] = paths
    return client.post(f"/api/v1/import-batches/{batch_id}/files/", data, format="multipart")


def stored(settings, batch_id) -> dict[str, str]:
    """The batch folder's files: relative path -> content."""
    root = Path(settings.UPLOAD_DIR) / str(batch_id)
    return {
        str(path.relative_to(root)): path.read_text() for path in root.rglob("*") if path.is_file()
    }


def test_every_odd_name_arrives_inside_the_batch_under_a_name_of_its_own(client, settings):
    batch_id = open_batch(client)
    paths = [
        "scan/a.dcm",
        "scan/a.dcm",
        "../../etc/passwd",
        "/abs/b.dcm",
        "..\\..\\win.dcm",
        "nul\x00name.dcm",
        "e\u0301.dcm",  # decomposed é
        "\u00e9.dcm",  # composed é: the same name once normalised
        "bidi\u202egpj.exe",
        "zero\u200bwidth.dcm",
        "tab\there.dcm",
        LONG_NAME,
        DEEP_PATH,
        "",
        "../",
    ]

    response = upload(client, batch_id, paths)

    assert response.status_code == 200, response.content
    files = stored(settings, batch_id)
    assert len(files) == len(paths)  # nothing overwritten, nothing lost
    assert sorted(files.values()) == sorted(f"file {i}" for i in range(len(paths)))
    by_content = {content: path for path, content in files.items()}
    assert [by_content[f"file {i}"] for i in range(11)] == [
        "scan/a.dcm",
        "scan/a-2.dcm",
        "etc/passwd",
        "abs/b.dcm",
        "win.dcm",
        "nul_name.dcm",
        "\u00e9.dcm",
        "\u00e9-2.dcm",
        "bidigpj.exe",
        "zerowidth.dcm",
        "tab_here.dcm",
    ]
    long_name = by_content["file 11"]
    assert long_name.endswith(".dcm") and len(long_name.encode()) <= MAX_NAME_BYTES
    assert long_name.startswith("é" * 100)
    deep = by_content["file 12"]
    assert deep.endswith("/deep.dcm") and len(deep.encode()) <= MAX_PATH_BYTES
    assert {by_content["file 13"], by_content["file 14"]} == {"unnamed", "unnamed-2"}


def test_a_name_already_in_the_batch_gets_the_next_suffix(client, settings):
    batch_id = open_batch(client)

    first = upload(client, batch_id, ["scan/a.dcm", "scan/a.dcm"])
    second = upload(client, batch_id, ["scan/a.dcm"])
    third = upload(client, batch_id, None, names=["same.dcm", "same.dcm"])

    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 200]
    assert sorted(stored(settings, batch_id)) == [
        "same-2.dcm",
        "same.dcm",
        "scan/a-2.dcm",
        "scan/a-3.dcm",
        "scan/a.dcm",
    ]


def test_a_file_and_a_folder_of_one_name_both_arrive(client, settings):
    batch_id = open_batch(client)

    first = upload(client, batch_id, ["scan", "scan/a.dcm", "x/y.dcm", "x"])
    second = upload(client, batch_id, ["scan/b.dcm", "x/y.dcm/z.dcm"])

    assert first.status_code == second.status_code == 200
    assert stored(settings, batch_id) == {
        "scan": "file 0",
        "scan-2/a.dcm": "file 1",
        "x/y.dcm": "file 2",
        "x-2": "file 3",
        "scan-2/b.dcm": "file 0",
        "x/y-2.dcm/z.dcm": "file 1",
    }


def test_a_long_name_with_a_suffix_stays_within_the_file_name_limit(client, settings):
    batch_id = open_batch(client)

    response = upload(client, batch_id, [LONG_NAME, LONG_NAME])

    assert response.status_code == 200
    names = sorted(stored(settings, batch_id))
    assert len(names) == 2
    assert all(len(name.encode()) <= MAX_NAME_BYTES and name.endswith(".dcm") for name in names)
    assert any(name.endswith("-2.dcm") for name in names)


class FailingStream(io.BytesIO):
    """An upload whose body breaks off, as a dropped connection or a full disk would."""

    def read(self, size: int = -1) -> bytes:
        raise OSError("the upload broke off")


def test_a_file_that_cannot_be_stored_takes_the_request_with_it(settings):
    batch = import_batch_create(center=center_get_or_create(name="C"), split=None, source="api")
    import_batch_files_add(batch=batch, files=[("kept/earlier.dcm", io.BytesIO(b"earlier"))])

    with pytest.raises(OSError, match="broke off"):
        import_batch_files_add(
            batch=batch,
            files=[
                ("new/a.dcm", io.BytesIO(b"a")),
                ("kept/b.dcm", io.BytesIO(b"b")),
                ("new/c.dcm", FailingStream(b"c")),
            ],
        )

    root = Path(settings.UPLOAD_DIR) / str(batch.pk)
    assert stored(settings, batch.pk) == {"kept/earlier.dcm": "earlier"}
    assert sorted(path.name for path in root.iterdir()) == ["kept"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a/./b/../c.dcm", "a/b/c.dcm"),
        ("C:\\Users\\x\\y.dcm", "C:/Users/x/y.dcm"),
        ("lone\ud800surrogate.dcm", "lone_surrogate.dcm"),
        ("private\ue000use.dcm", "private_use.dcm"),
        ("line\u2028break.dcm", "line_break.dcm"),
        ("  spaced   out  .dcm ", "spaced out .dcm"),
        ("1.2.840.113619.2.55", "1.2.840.113619.2.55"),
    ],
)
def test_names_are_normalised(name, expected):
    assert str(upload_name_normalise(name)) == expected


def test_a_uid_named_file_keeps_its_whole_name_when_suffixed(client, settings):
    batch_id = open_batch(client)

    response = upload(client, batch_id, ["1.2.840.113619.2.55", "1.2.840.113619.2.55"])

    assert response.status_code == 200
    assert sorted(stored(settings, batch_id)) == ["1.2.840.113619.2.55", "1.2.840.113619.2.55-2"]

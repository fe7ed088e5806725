"""Reads API: only the reader's own reads exist for them; labels save with versions."""

import json

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from annotations.models import LabelAudit, Scan
from annotations.reading.services import read_assign
from tests.annotations.factories import run_import, series_datasets, write_series
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(tmp_path):
    write_series(tmp_path / "s", series_datasets(5))
    run_import(tmp_path)
    scan = Scan.objects.get()
    alice = user_with_role("alice", "neuroradiologist")
    bob = user_with_role("bob", "neuroradiologist")
    return scan, read_assign(scan=scan, reader=alice), read_assign(scan=scan, reader=bob)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def labels(client, read, *changes):
    return client.post(
        f"/api/v1/reads/{read.pk}/labels/", {"changes": list(changes)}, format="json"
    )


def test_worklist_lists_only_the_readers_own_reads(setting):
    _, alice_read, _ = setting

    body = client_for(alice_read.reader).get("/api/v1/worklist/").json()

    assert [item["id"] for item in body] == [alice_read.pk]
    assert body[0]["slice_count"] == 5 and body[0]["labelled_slices"] == 0


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "", None),
        ("post", "labels/", {"changes": [{"slice_index": 0, "version": 0, "iph": True}]}),
        ("post", "progress/", {"viewed": [0], "slice_index": 0, "seconds": 1}),
        ("post", "flags/", {"version": 0}),
        ("post", "complete/", {"unseen_ok": True}),
    ],
)
def test_another_readers_read_is_not_found_on_every_endpoint(setting, method, path, payload):
    _, alice_read, bob_read = setting
    url = f"/api/v1/reads/{alice_read.pk}/{path}"

    as_bob = getattr(client_for(bob_read.reader), method)(url, payload, format="json")
    coordinator = user_with_role("coord-r", "coordinator")
    as_coordinator = getattr(client_for(coordinator), method)(url, payload, format="json")

    assert as_bob.status_code == 404
    assert as_coordinator.status_code == 403
    assert LabelAudit.objects.count() == 0


def test_labels_save_a_range_and_a_stale_write_gets_409(setting):
    _, read, _ = setting
    client = client_for(read.reader)

    saved = labels(client, read, *({"slice_index": i, "version": 0, "sdh": True} for i in (1, 2)))
    stale = labels(client, read, {"slice_index": 2, "version": 0, "edh": True})
    detail = client.get(f"/api/v1/reads/{read.pk}/").json()

    assert saved.status_code == 200
    assert [(item["slice_index"], item["version"], item["any"]) for item in saved.json()] == [
        (1, 1, True),
        (2, 1, True),
    ]
    assert stale.status_code == 409
    assert stale.json()["extra"]["conflicts"][0]["values"]["sdh"] is True
    assert [label["slice_index"] for label in detail["labels"]] == [1, 2]
    assert detail["status"] == "in_progress"
    positions = detail["slice_positions_mm"]
    assert len(positions) == detail["slice_count"] and positions == sorted(positions)


def test_bad_label_input_is_a_400_with_a_message(setting):
    _, read, _ = setting

    both = labels(
        client_for(read.reader),
        read,
        {"slice_index": 0, "version": 0, "iph": True, "no_hemorrhage": True},
    )
    empty = labels(client_for(read.reader), read)

    assert both.status_code == 400 and "no hemorrhage" in str(both.json())
    assert empty.status_code == 400


def test_completion_lists_unseen_slices_then_completes_when_confirmed(setting):
    _, read, _ = setting
    client = client_for(read.reader)
    client.post(
        f"/api/v1/reads/{read.pk}/progress/",
        {"viewed": [0, 1, 2], "slice_index": 2, "seconds": 12.5},
        format="json",
    )

    warned = client.post(f"/api/v1/reads/{read.pk}/complete/", {}, format="json")
    done = client.post(f"/api/v1/reads/{read.pk}/complete/", {"unseen_ok": True}, format="json")
    late = labels(client, read, {"slice_index": 0, "version": 0, "iph": True})

    assert warned.status_code == 409 and warned.json()["extra"]["unseen_slices"] == [3, 4]
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert done.json()["time_spent_s"] == 12.5
    assert late.status_code == 409


def test_slice_files_follow_the_access_rules_and_revalidate_by_etag(setting):
    scan, read, _ = setting
    outsider = user_with_role("carol", "neuroradiologist")
    url = f"/api/v1/scans/{scan.pk}/slices/0/file"

    own = client_for(read.reader).get(url)
    etag = own["ETag"]
    again = client_for(read.reader).get(url, HTTP_IF_NONE_MATCH=etag)
    other = client_for(outsider).get(url)
    coordinator = client_for(user_with_role("coord-f", "coordinator")).get(url)
    missing = client_for(read.reader).get(f"/api/v1/scans/{scan.pk}/slices/99/file")

    assert own.status_code == 200 and own["Content-Type"] == "application/dicom"
    body = b"".join(own.streaming_content)
    assert body[128:132] == b"DICM"
    assert "private" in own["Cache-Control"]
    assert again.status_code == 304
    assert other.status_code == 404
    assert coordinator.status_code == 200
    assert missing.status_code == 404


def test_a_slice_file_lost_from_the_store_is_a_404_that_says_so(setting, caplog):
    scan, read, _ = setting
    slice_ = scan.slices.get(position_index=1)
    default_storage.delete(slice_.storage_key)

    lost = client_for(read.reader).get(f"/api/v1/scans/{scan.pk}/slices/1/file")
    kept = client_for(read.reader).get(f"/api/v1/scans/{scan.pk}/slices/0/file")

    assert lost.status_code == 404 and "missing" in lost.json()["message"]
    assert kept.status_code == 200
    assert any(slice_.storage_key in record.getMessage() for record in caplog.records)


def test_reading_pages_belong_to_their_reader(setting, client):
    _, read, bob_read = setting
    client.force_login(read.reader)

    worklist = client.get("/reading/")
    own = client.get(f"/reading/{read.pk}/")
    others = client.get(f"/reading/{bob_read.pk}/")
    home = client.get("/")

    assert worklist.status_code == 200 and f'data-read="{read.pk}"' in worklist.content.decode()
    assert f'data-read="{bob_read.pk}"' not in worklist.content.decode()
    assert own.status_code == 200 and b'id="reader"' in own.content
    assert others.status_code == 404
    assert home.status_code == 302 and home["Location"] == "/reading/"


def test_the_reading_page_carries_the_sites_window_presets(setting, client, settings):
    _, read, _ = setting
    settings.WINDOW_PRESETS = [{"key": "k", "name": "Stroke", "center": 35, "width": 40}]
    client.force_login(read.reader)

    page = client.get(f"/reading/{read.pk}/").content.decode()

    assert '<script id="window-presets" type="application/json">' in page
    assert '"name": "Stroke"' in page


def test_the_reading_page_carries_the_read_and_preloads_the_slice_to_show_first(setting, client):
    _, read, _ = setting
    read.last_slice_index = 2
    read.save()
    client.force_login(read.reader)

    response = client.get(f"/reading/{read.pk}/")
    page = response.content.decode()

    assert '<script id="read-data" type="application/json">' in page
    inline = json.loads(
        page.split('id="read-data" type="application/json">')[1].split("</script>")[0]
    )
    assert inline == client.get(f"/api/v1/reads/{read.pk}/").json()
    first = f"/api/v1/scans/{read.scan_id}/slices/2/file"
    assert f'rel="preload" as="fetch" crossorigin="anonymous" href="{first}"' in page
    assert "no-store" in response["Cache-Control"]  # a reload shows the labels saved since


def test_a_label_change_with_an_unknown_key_is_refused_and_changes_nothing(setting):
    _, read, _ = setting
    client = client_for(read.reader)
    labels(client, read, {"slice_index": 2, "version": 0, "sah": True})

    misspelt = labels(client, read, {"slice_index": 2, "version": 1, "hemorrhage_xyz": True})
    nested = client.post(
        f"/api/v1/reads/{read.pk}/labels/",
        {"changes": [{"slice_index": 2, "version": 1}], "force": True},
        format="json",
    )

    assert misspelt.status_code == 400
    assert misspelt.json()["extra"]["fields"] == {"changes[0].hemorrhage_xyz": ["Unknown field."]}
    assert nested.status_code == 400 and "force" in nested.json()["extra"]["fields"]
    (label,) = client.get(f"/api/v1/reads/{read.pk}/").json()["labels"]
    assert label["slice_index"] == 2 and label["version"] == 1 and label["sah"] is True
    assert LabelAudit.objects.count() == 1


def test_a_label_change_sets_what_it_names_and_keeps_the_rest(setting):
    _, read, _ = setting
    client = client_for(read.reader)
    labels(client, read, {"slice_index": 2, "version": 0, "sah": True})

    added = labels(client, read, {"slice_index": 2, "version": 1, "ivh": True})
    empty = labels(client, read, {"slice_index": 2, "version": 2})

    assert added.status_code == 200
    assert (added.json()[0]["sah"], added.json()[0]["ivh"]) == (True, True)
    assert empty.status_code == 400 and "name the labels" in str(empty.json()["extra"])
    assert LabelAudit.objects.count() == 2

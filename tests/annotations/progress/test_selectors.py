"""Reading progress for the dashboard: by reader (with speed), center, split and day, the
adjudication queue's size, CSV downloads and who may see them."""

import csv
import io

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotations.models import Read, Scan
from annotations.reading.services import read_assign, read_complete
from tests.annotations.factories import run_import, series_datasets, write_series
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(tmp_path):
    """Two scans of 5 slices (center A, training; center B, validation); alice completed her
    read of the first in 100 s, bob is reading it, alice has the second still to read."""
    write_series(tmp_path / "a" / "s", series_datasets(5))
    write_series(tmp_path / "b" / "s", series_datasets(5))
    run_import(tmp_path / "a", center="Center A", split="train")
    run_import(tmp_path / "b", center="Center B", split="validation")
    first, second = Scan.objects.order_by("center__name")
    alice = user_with_role("alice", "neuroradiologist")
    bob = user_with_role("bob", "neuroradiologist")
    done = read_assign(scan=first, reader=alice)
    Read.objects.filter(pk=done.pk).update(viewed_slices=list(range(5)), time_spent_s=100.0)
    read_complete(read_id=done.pk, reader=alice)
    Read.objects.filter(pk=read_assign(scan=first, reader=bob).pk).update(status="in_progress")
    read_assign(scan=second, reader=alice)
    return user_with_role("coord", "coordinator"), alice


def get(user, url):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(url)


def test_progress_by_reader_center_split_and_day(study):
    coordinator, _ = study

    body = get(coordinator, "/api/v1/progress/").json()

    alice, bob = body["readers"]
    assert (alice["reader"], alice["assigned"], alice["completed"]) == ("alice", 1, 1)
    assert alice["scans_per_hour"] == 36.0  # one read in 100 s
    assert alice["seconds_per_slice"] == 20.0
    assert (bob["in_progress"], bob["scans_per_hour"], bob["seconds_per_slice"]) == (1, None, None)
    centers = {row["group"]: row for row in body["centers"]}
    assert centers["Center A"] | {} == {
        "group": "Center A", "scans": 1, "scans_read": 0,  # bob is still reading it
        "assigned": 0, "in_progress": 1, "completed": 1, "withdrawn": 0,
    }  # fmt: skip
    assert (centers["Center B"]["scans"], centers["Center B"]["assigned"]) == (1, 1)
    assert [row["group"] for row in body["splits"]] == ["train", "validation"]
    assert [row["completed"] for row in body["days"]] == [1]
    assert body["adjudication"]["open"] == 0


def test_a_scan_counts_as_read_once_no_read_is_open(study):
    coordinator, _ = study
    Read.objects.filter(reader__username="bob").update(
        status="withdrawn", withdrawn_at="2026-01-01T00:00Z"
    )

    centers = {row["group"]: row for row in get(coordinator, "/api/v1/progress/").json()["centers"]}

    assert centers["Center A"]["scans_read"] == 1
    assert centers["Center A"]["withdrawn"] == 1


def test_each_table_downloads_as_csv(study):
    coordinator, _ = study

    response = get(coordinator, "/api/v1/progress/readers.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="progress-readers.csv"' in response["Content-Disposition"]
    assert [(row["reader"], row["completed"], row["scans_per_hour"]) for row in rows] == [
        ("alice", "1", "36.0"),
        ("bob", "0", ""),
    ]
    assert get(coordinator, "/api/v1/progress/nothing.csv").status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/progress/", "/api/v1/progress/readers.csv"])
def test_only_coordinators_see_progress(study, url):
    _, alice = study

    assert get(alice, url).status_code == 403
    assert get(user_with_role("ml", "ml_engineer"), url).status_code == 403
    assert APIClient().get(url).status_code in (401, 403)


def test_reading_speed_comes_from_reads_with_measured_time_and_says_how_many(study):
    coordinator, alice = study
    # A second completed read of alice's without reading time (seeded, or finished without
    # the viewer): it must not make her 5-slice scans look read in no time.
    second = Read.objects.get(reader=alice, status="assigned")
    Read.objects.filter(pk=second.pk).update(viewed_slices=list(range(5)))
    read_complete(read_id=second.pk, reader=alice)

    body = get(coordinator, "/api/v1/progress/").json()
    page = Client()
    page.force_login(coordinator)
    html = page.get("/study/dashboard/").content.decode()

    row = body["readers"][0]
    assert (row["completed"], row["measured_reads"]) == (2, 1)
    assert (row["scans_per_hour"], row["seconds_per_slice"]) == (36.0, 20.0)  # as before
    assert body["speed_basis"] == {"measured": 1, "completed": 2}
    assert "Reading speed from 1 of 2 completed reads with measured time" in html
    assert '<td class="num" data-measured="1">1 of 2</td>' in html

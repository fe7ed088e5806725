"""Statements per request of the reader's worklist, read and label save, pinned.

Each request costs the same for 2 rows as for 6 (reads in the worklist, labelled slices in the
read, slices in one save): a query per row (an N+1) changes the figure and fails here. The
figures were measured when this test was written; a change that adds a statement on purpose
updates its figure and says why.

A request's statements include the user's role groups (one query: each request below gets a
freshly loaded user, as a real request does) and, for pages, the session and the user.
"""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from annotations.models import ReadLevel
from annotations.reading.services import (
    LabelChange,
    read_assign,
    read_flags_set,
    scan_label_save,
    slice_labels_save,
)
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

ROWS = (2, 6)

# Roles; reads with their scan, center and scan label, and their labelled-slice counts.
WORKLIST_API = 2
# Session, user, roles; the reads as above; for the completed ones, the released ground-truth
# version holding each scan (one statement).
WORKLIST_PAGE = 5
# Roles; the read; its labels; its slice positions.
READ_API = 4
# Session, user, roles; the read, its labels, its slice positions.
READ_PAGE = 6
# Roles; savepoint; the read locked with its slices and labels; the labels upserted, their
# audit rows (one statement each); savepoint released. The labels returned are the upsert's.
LABEL_SAVE = 6


@pytest.fixture
def reader():
    return user_with_role("reader", "neuroradiologist")


def fresh(user) -> User:
    """The user as a new request loads it (no roles cached on the instance)."""
    return User.objects.get(pk=user.pk)


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(fresh(user))
    return client


def worklist_of(reader, rows: int) -> None:
    """``rows`` reads: slice-level ones with a labelled slice (every third one completed) and
    scan-level ones with their scan label."""
    for index in range(rows):
        if index % 2:
            scan = make_scan(split="test", center="Center P", slices=2)
            read = read_assign(scan=scan, reader=reader, level=ReadLevel.SCAN)
            scan_label_save(
                read_id=read.pk, reader=reader, values={"sah": True}, expected_version=0
            )
        else:
            read = read_assign(scan=make_scan(split="train", center="Center T"), reader=reader)
            if index % 3 == 0:
                label_and_complete(read, {0: {"iph": True}})
            else:
                slice_labels_save(
                    read_id=read.pk,
                    reader=reader,
                    changes=[LabelChange(slice_index=0, values={"iph": True}, expected_version=0)],
                )


def read_with_labels(reader, rows: int):
    """A read of an 8-slice scan with ``rows`` slices labelled and a flag set."""
    read = read_assign(scan=make_scan(split="train", slices=8), reader=reader)
    slice_labels_save(
        read_id=read.pk,
        reader=reader,
        changes=[
            LabelChange(slice_index=index, values={"sdh": True}, expected_version=0)
            for index in range(rows)
        ],
    )
    read.refresh_from_db()
    read_flags_set(
        read_id=read.pk,
        reader=reader,
        flags={"artifact": True},
        note="motion",
        expected_version=read.version,
    )
    return read


@pytest.mark.parametrize("rows", ROWS)
def test_worklist_api(reader, rows, django_assert_num_queries):
    worklist_of(reader, rows)
    client = api_client(reader)

    with django_assert_num_queries(WORKLIST_API):
        response = client.get("/api/v1/worklist/")

    assert response.status_code == 200 and len(response.json()) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_worklist_page(reader, rows, client, django_assert_num_queries):
    worklist_of(reader, rows)
    client.force_login(reader)

    with django_assert_num_queries(WORKLIST_PAGE):
        response = client.get("/reading/")

    assert response.status_code == 200 and response.content.count(b"data-read=") == rows


@pytest.mark.parametrize("rows", ROWS)
def test_read_api(reader, rows, django_assert_num_queries):
    read = read_with_labels(reader, rows)
    client = api_client(reader)

    with django_assert_num_queries(READ_API):
        response = client.get(f"/api/v1/reads/{read.pk}/")

    assert response.status_code == 200 and len(response.json()["labels"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_read_page(reader, rows, client, django_assert_num_queries):
    read = read_with_labels(reader, rows)
    client.force_login(reader)

    with django_assert_num_queries(READ_PAGE):
        response = client.get(f"/reading/{read.pk}/")

    assert response.status_code == 200 and b'id="reader"' in response.content


@pytest.mark.parametrize("rows", ROWS)
def test_label_save(reader, rows, django_assert_num_queries):
    read = read_assign(scan=make_scan(split="train", slices=8), reader=reader)
    # Half the slices labelled before: the save mixes new labels and changed ones.
    slice_labels_save(
        read_id=read.pk,
        reader=reader,
        changes=[
            LabelChange(slice_index=index, values={"iph": True}, expected_version=0)
            for index in range(rows // 2)
        ],
    )
    client = api_client(reader)
    changes = [
        {"slice_index": index, "version": 1 if index < rows // 2 else 0, "sdh": True}
        for index in range(rows)
    ]

    with django_assert_num_queries(LABEL_SAVE):
        response = client.post(
            f"/api/v1/reads/{read.pk}/labels/", {"changes": changes}, format="json"
        )

    assert response.status_code == 200, response.json()
    assert [label["sdh"] for label in response.json()] == [True] * rows

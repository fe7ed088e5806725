"""Statements per request of the coordinator's dashboard and its progress API, pinned.

Each request costs the same for 2 rows as for 6 (readers, centers, scans, days of completed
reads): a query per row (an N+1) changes the figure and fails here. The figures were measured
when this test was written; a change that adds a statement on purpose updates its figure and
says why.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import Read
from annotations.reading.services import read_assign
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

ROWS = (2, 6)

# Roles; progress by reader (1), by center (3: scans, scans read, reads by status), by split
# (3, the same), completed reads by day (1); the adjudication summary (1).
PROGRESS_API = 10
# Session, user, roles; the four tables and the adjudication summary as above (9); the centers
# of the agreement filter.
DASHBOARD_PAGE = 13


def study_of(rows: int) -> None:
    """``rows`` readers, each with one completed read (on a day of its own) of a scan in a
    center of its own, and one open read."""
    for index in range(rows):
        reader = user_with_role(f"reader{index}", "neuroradiologist")
        done = read_assign(scan=make_scan(center=f"Center {index}"), reader=reader)
        label_and_complete(done, {0: {"iph": True}})
        day = timezone.now() - timedelta(days=index)
        Read.objects.filter(pk=done.pk).update(
            assigned_at=day - timedelta(hours=2),
            started_at=day - timedelta(hours=1),
            finished_at=day,
        )
        read_assign(scan=make_scan(center=f"Center {index}", split="train"), reader=reader)


@pytest.mark.parametrize("rows", ROWS)
def test_progress_api(coordinator, rows, django_assert_num_queries):
    study_of(rows)
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=coordinator.pk))

    with django_assert_num_queries(PROGRESS_API):
        response = client.get("/api/v1/progress/")

    assert response.status_code == 200
    assert len(response.json()["readers"]) == rows and len(response.json()["days"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_dashboard_page(coordinator, rows, client, django_assert_num_queries):
    study_of(rows)
    client.force_login(coordinator)

    with django_assert_num_queries(DASHBOARD_PAGE):
        response = client.get("/study/dashboard/")

    assert response.status_code == 200
    assert all(f"reader{index}".encode() in response.content for index in range(rows))

""" "Labelled" counts the slices that carry a label (a subtype or an explicit no hemorrhage), on
the reader's worklist and in the coordinator's reads table: a slice whose labels were all taken
back keeps its row (version, audit) but no longer counts."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotations.reading.services import read_assign
from tests.annotations.study_factories import make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


def test_labelled_slices_count_only_slices_that_still_carry_a_label():
    scan = make_scan(slices=8)
    reader = user_with_role("reader-count", "neuroradiologist")
    coordinator = user_with_role("coord-count", "coordinator")
    read = read_assign(scan=scan, reader=reader)
    client = APIClient()
    client.force_authenticate(reader)
    page = Client()
    page.force_login(coordinator)

    def save(*changes):
        url = f"/api/v1/reads/{read.pk}/labels/"
        response = client.post(url, {"changes": list(changes)}, format="json")
        assert response.status_code == 200, response.content

    def counts() -> tuple[int, int]:
        """The count on the reader's worklist and in the coordinator's reads table."""
        worklist = client.get("/api/v1/worklist/").json()
        html = page.get("/study/reading/").content.decode()
        table = re.search(rf'data-read="{read.pk}"[^>]*data-labelled="(\d+)"', html)
        assert table is not None
        return worklist[0]["labelled_slices"], int(table.group(1))

    # Five slices with a subtype, one with an explicit "no hemorrhage".
    save(*({"slice_index": i, "version": 0, "sdh": True} for i in range(5)))
    save({"slice_index": 5, "version": 0, "no_hemorrhage": True})
    assert counts() == (6, 6)

    # Two subtypes taken back, and the "no hemorrhage" undone: their rows stay, unlabelled.
    save(*({"slice_index": i, "version": 1, "sdh": False} for i in (1, 2)))
    save({"slice_index": 5, "version": 1, "no_hemorrhage": False})
    assert counts() == (3, 3)

    # A cleared slice labelled again counts once more; a slice with two subtypes counts once.
    save({"slice_index": 1, "version": 2, "no_hemorrhage": True})
    save({"slice_index": 0, "version": 1, "sdh": True, "iph": True})
    assert counts() == (4, 4)

"""The demo seed: users for every role, phantom scans from five centers, and the reads a
coordinator's assignment would give them; a second run changes nothing."""

import pytest
from django.db.models import Count

from annotations.demo import demo_seed
from annotations.models import Read, Scan

pytestmark = pytest.mark.django_db


def test_demo_scans_get_the_reads_their_split_needs_once(settings, tmp_path):
    settings.DATA_DIR = tmp_path

    first = demo_seed(scans_per_center=1, size=32)
    again = demo_seed(scans_per_center=1, size=32)

    assert (first.users_created, first.scans_imported) == (8, 5)
    assert (again.users_created, again.scans_imported) == (0, 0)
    reads = dict(Scan.objects.annotate(n=Count("reads")).values_list("center__name", "n"))
    assert reads == {"Center A": 1, "Center B": 1, "Center C": 1, "Center D": 1, "Center E": 3}
    validation = Read.objects.filter(scan__center__name="Center E")
    assert validation.values("reader").distinct().count() == 3  # three different readers
    assert sorted(validation.values_list("kind", flat=True)) == ["cross", "cross", "primary"]
    assert Read.objects.count() == 7

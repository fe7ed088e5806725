"""The reader study's pages answer whom they serve: the list (with the design's options for
coordinators), the reading page for the study's readers only, the study's page for
coordinators and ML engineers."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.modelops.reader_study.helpers import create

pytestmark = pytest.mark.django_db


def _get(user, url: str):
    browser = Client()
    browser.force_login(user)
    return browser.get(url)


def test_pages_answer_their_roles(world):
    study = create(world)
    reader, outsider = world["readers"][0], world["labeller"]
    coordinator, engineer = world["coordinator"], world["engineer"]

    listing = _get(coordinator, "/reader-studies/")
    assert listing.status_code == 200
    options = json.loads(
        listing.content.decode()
        .split('id="reader-study-options" type="application/json">')[1]
        .split("</script>")[0]
    )
    (version,) = options["ground_truth_versions"]
    assert version["splits"] == {"train": {"positive": 4, "negative": 4}}
    assert [r["username"] for r in options["readers"]] == [
        "neuro1",
        "neuro2",
        "neuro3",
        "neuro4",
        "labeller",
    ]
    assert [m["id"] for m in options["model_versions"]] == [world["model"].pk]
    reader_list = _get(reader, "/reader-studies/")
    assert reader_list.status_code == 200 and b"reader-study-options" not in reader_list.content
    assert _get(engineer, "/reader-studies/").status_code == 200

    read_page = f"/reader-studies/{study['id']}/read/"
    assert _get(reader, read_page).status_code == 200
    assert _get(outsider, read_page).status_code == 404
    assert _get(coordinator, read_page).status_code == 403

    study_page = f"/reader-studies/{study['id']}/"
    assert _get(coordinator, study_page).status_code == 200
    assert _get(engineer, study_page).status_code == 200
    assert _get(reader, study_page).status_code == 403
    assert _get(coordinator, "/reader-studies/99999/").status_code == 404

    # The nav leads a study's readers (and those who watch studies) to the list; other
    # neuroradiologists are not told of reader studies.
    link = b'href="/reader-studies/">Reader studies</a>'
    password = reverse("password-change")
    assert link in _get(reader, password).content
    assert link in _get(engineer, reverse("models-page")).content
    assert link not in _get(outsider, password).content

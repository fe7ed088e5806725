"""The Likert study's pages: the list (a reader's own open studies; all, and the form, for
coordinators), the scoring page for the study's readers only, and the results with the paper's
figures per reader."""

import pytest

from modelops.likert.services import likert_score_set, likert_study_create
from modelops.models import LikertScore, LikertStudy

pytestmark = pytest.mark.django_db


def _study(world, readers=2) -> LikertStudy:
    return likert_study_create(
        name="Study A",
        saliency_run=world["run"],
        readers=world["readers"][:readers],
        created_by=world["coordinator"],
    )


def _score_all(study, reader, by_method: dict) -> None:
    rows = LikertScore.objects.filter(study=study, reader=reader).select_related(
        "case__saliency_map"
    )
    for row in rows:
        score = by_method[row.case.saliency_map.method]
        likert_score_set(study=study, reader=reader, position=row.position, score=score)


def test_a_coordinator_opens_a_study_from_the_form(client, world):
    client.force_login(world["coordinator"])
    page = client.get("/likert/").content.decode()
    reader_ids = [str(r.pk) for r in world["readers"][:2]]

    response = client.post(
        "/likert/",
        {"name": "From the form", "saliency_run": str(world["run"].pk), "readers": reader_ids},
    )
    refused = client.post("/likert/", {"name": "x", "saliency_run": "٣", "readers": reader_ids})

    assert 'id="likert-form"' in page and world["readers"][0].username in page
    study = LikertStudy.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/likert/{study.pk}/results/"
    assert study.readers.count() == 2 and study.cases.count() == 4
    assert refused.status_code == 302 and LikertStudy.objects.count() == 1


def test_readers_see_their_own_open_studies_and_only_their_scoring_page(client, world):
    study = _study(world)
    one, outsider = world["readers"][0], world["readers"][2]

    client.force_login(one)
    listed = client.get("/likert/").content.decode()
    scoring = client.get(f"/likert/{study.pk}/score/")
    results = client.get(f"/likert/{study.pk}/results/")
    client.force_login(outsider)

    assert f'href="/likert/{study.pk}/score/"' in listed and "0 / 4" in listed
    assert "likert-form" not in listed
    assert scoring.status_code == 200 and 'id="likert-reader"' in scoring.content.decode()
    assert "normgrad" not in scoring.content.decode().lower()
    assert results.status_code == 403
    assert client.get(f"/likert/{study.pk}/score/").status_code == 404
    assert f"/likert/{study.pk}/" not in client.get("/likert/").content.decode()


def test_the_results_give_the_papers_figures_per_reader(client, world):
    study = _study(world)
    one, two = world["readers"][:2]
    _score_all(study, one, {"normgrad": 4, "gradcam": 1})
    _score_all(study, two, {"normgrad": 3, "gradcam": 2})
    client.force_login(world["engineer"])

    page = client.get(f"/likert/{study.pk}/results/").content.decode()
    api = client.get(f"/api/v1/modelops/likert-studies/{study.pk}/results/").json()

    assert 'id="likert-results"' in page and 'id="likert-histograms"' in page
    assert "4.0 ± 0.0 (n=2)" in page and "1.0 ± 0.0 (n=2)" in page
    assert "3.5 ± 0.6 (n=4)" in page, "NormGrad over both readers"
    assert api["methods"] == ["normgrad", "gradcam"]
    pooled = next(row for row in api["mann_whitney"] if row["reader"] is None)
    assert pooled["u"] == 16.0 and pooled["rank_biserial"] == 1.0
    assert "likert-close" not in page, "only coordinators close a study"


def test_a_coordinator_closes_a_study_from_its_results(client, world):
    study = _study(world)
    client.force_login(world["coordinator"])
    assert 'id="likert-close"' in client.get(f"/likert/{study.pk}/results/").content.decode()

    response = client.post(f"/likert/{study.pk}/results/")

    study.refresh_from_db()
    assert response.status_code == 302 and study.closed_at is not None
    assert "No score yet" in client.get(f"/likert/{study.pk}/results/").content.decode()

"""The saliency pages: the form and the runs on a model version's page, a request from it, and a
run's page with its localization figures. ML engineers act; coordinators watch; readers do not
get them."""

import pytest

from annotations.models import JobStatus
from modelops.models import SaliencyMap, SaliencyRun
from tests.modelops.registry_factories import seed_registry
from tests.modelops.saliency.factories import finished_saliency_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    return seed_registry()


def test_the_version_page_offers_the_form_to_ml_engineers_and_lists_runs(client, registry):
    run = finished_saliency_run(registry)
    model = run.model_version

    client.force_login(registry["engineer"])
    page = client.get(f"/models/versions/{model.pk}/").content.decode()
    client.force_login(registry["coordinator"])
    watched = client.get(f"/models/versions/{model.pk}/").content.decode()

    assert 'id="saliency-form"' in page and f'href="/models/saliency/{run.pk}/"' in page
    # Only the splits with a positive slice are offered: the version's one validation scan.
    assert '<option value="validation">' in page and '<option value="test">' not in page
    assert 'id="saliency-form"' not in watched and f"/models/saliency/{run.pk}/" in watched


def test_a_request_from_the_form_queues_a_run_or_says_why_not(client, registry, jobs_queued):
    model = registry["models"][0]
    client.force_login(registry["engineer"])
    url = f"/models/versions/{model.pk}/saliency/"

    refused = client.post(url, {"split": "test", "per_subtype": "5", "seed": "0"}, follow=True)
    bad = client.post(url, {"split": "validation", "per_subtype": "٣", "seed": "0"}, follow=True)
    with pytest.raises(SaliencyRun.DoesNotExist):
        SaliencyRun.objects.get()
    response = client.post(url, {"split": "validation", "per_subtype": "5", "seed": "2"})

    assert "nothing to map" in refused.content.decode()
    assert "must be a whole number" in bad.content.decode()
    run = SaliencyRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/models/saliency/{run.pk}/"
    assert (run.split, run.per_subtype, run.seed) == ("validation", 5, 2)


def test_the_run_page_shows_the_localization_figures(client, registry):
    run = finished_saliency_run(registry)
    client.force_login(registry["coordinator"])

    page = client.get(f"/models/saliency/{run.pk}/").content.decode()

    assert 'id="localization-table"' in page and 'id="deletion-table"' in page
    assert "NormGrad" in page and "Grad-CAM" in page and "All subtypes" in page
    # NormGrad hit both lesions, Grad-CAM one of two.
    assert "100.0%" in page and "50.0%" in page


def test_readers_get_no_saliency_page_and_cannot_request(client, registry):
    run = finished_saliency_run(registry)
    client.force_login(registry["reader"])

    assert client.get(f"/models/saliency/{run.pk}/").status_code == 403
    post = client.post(
        f"/models/versions/{run.model_version_id}/saliency/",
        {"split": "validation", "per_subtype": "1"},
    )
    assert post.status_code == 403 and SaliencyRun.objects.count() == 1
    client.force_login(registry["coordinator"])
    watched = client.post(
        f"/models/versions/{run.model_version_id}/saliency/",
        {"split": "validation", "per_subtype": "1"},
    )
    assert watched.status_code == 403


def test_an_engineer_cancels_a_queued_run_from_its_page(client, registry):
    run = finished_saliency_run(registry)
    SaliencyRun.objects.filter(pk=run.pk).update(status=JobStatus.PENDING)
    client.force_login(registry["coordinator"])
    assert 'id="saliency-cancel"' not in client.get(f"/models/saliency/{run.pk}/").content.decode()
    assert client.post(f"/models/saliency/{run.pk}/cancel/").status_code == 403
    client.force_login(registry["engineer"])
    assert 'id="saliency-cancel"' in client.get(f"/models/saliency/{run.pk}/").content.decode()

    response = client.post(f"/models/saliency/{run.pk}/cancel/")

    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == JobStatus.CANCELED


def test_an_overlay_is_served_by_its_token_and_a_lost_file_is_not_found(client, registry):
    from modelops.saliency.selectors import saliency_dir

    run = finished_saliency_run(registry)
    stored, lost = SaliencyMap.objects.filter(item__run=run)[:2]
    (saliency_dir(run.pk) / f"{lost.token}.png").unlink()
    client.force_login(registry["engineer"])

    served = client.get(f"/api/v1/modelops/saliency-maps/{stored.token}.png")
    missing = client.get(f"/api/v1/modelops/saliency-maps/{lost.token}.png")

    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert missing.status_code == 404 and "no longer stored" in missing.json()["message"]

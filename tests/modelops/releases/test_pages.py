"""The version page's card of the model's output for readers: released scans per split and
center for coordinators and ML engineers, Release and Withdraw for coordinators only, and the
release closed until the model is approved. The buttons' requests are the API's
(tests/modelops/saliency/test_scan_maps_api.py)."""

import re

import pytest

from modelops.models import ModelOutputRelease, ModelStatus
from tests.annotations.study_factories import make_scan
from tests.modelops.registry_factories import seed_registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    """The registry (one validation scan of Center V) and three test scans of Center E, one of
    them released by the coordinator for the first model, which is approved."""
    registry = seed_registry()
    model = registry["models"][0]
    model.status = ModelStatus.APPROVED
    model.save()
    scans = [make_scan(center="Center E", split="test") for _ in range(3)]
    ModelOutputRelease.objects.create(
        model_version=model, scan=scans[0], released_by=registry["coordinator"]
    )
    return registry


def _row(html: str, split: str) -> str:
    match = re.search(rf'<tr data-split="{split}".*?</tr>', html, re.S)
    assert match, split
    return match.group(0)


def test_coordinators_release_and_withdraw_per_split_and_center(client, registry):
    model = registry["models"][0]
    client.force_login(registry["coordinator"])
    html = client.get(f"/models/versions/{model.pk}/").content.decode()

    assert "Model output for readers" in html and "the test split or a reader study" in html
    assert f'data-release-url="/api/v1/modelops/models/{model.pk}/releases/"' in html
    assert f'data-withdraw-url="/api/v1/modelops/models/{model.pk}/releases/withdraw/"' in html
    assert 'id="release-closed"' not in html
    test = _row(html, "test")
    assert 'data-center-name="Center E" data-scans="3" data-released="1"' in test
    assert '<td class="num">3</td><td class="num">1</td>' in test
    assert '<button type="button" data-release="release">Release</button>' in test
    assert 'data-release="withdraw">Withdraw</button>' in test
    # nothing released on the validation scan: nothing to withdraw
    validation = _row(html, "validation")
    assert 'data-released="0"' in validation and "Center V" in validation
    assert 'data-release="release">' in validation and "withdraw" not in validation


def test_ml_engineers_see_the_table_without_buttons(client, registry):
    client.force_login(registry["engineer"])
    html = client.get(f"/models/versions/{registry['models'][0].pk}/").content.decode()

    assert "Model output for readers" in html
    assert 'data-scans="3" data-released="1"' in _row(html, "test")
    assert "data-release=" not in html


def test_a_candidate_models_release_buttons_are_disabled(client, registry):
    candidate = registry["models"][1]
    client.force_login(registry["coordinator"])
    html = client.get(f"/models/versions/{candidate.pk}/").content.decode()

    assert "Approve the model first: only an approved model's output reaches readers." in html
    assert '<button type="button" data-release="release" disabled>Release</button>' in html
    assert 'data-released="0"' in _row(html, "test") and 'data-release="withdraw"' not in html

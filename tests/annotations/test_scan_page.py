"""A scan's page: its header and slices for coordinators and ML engineers, with the viewer of
its images (the page script asks the model output API what it may lay over them)."""

import pytest

from tests.annotations.study_factories import make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["coordinator", "ml_engineer"])
def test_the_scan_page_has_a_viewer_of_its_slices(client, role):
    scan = make_scan(slices=3)
    client.force_login(user_with_role("someone", role))

    html = client.get(f"/study/scans/{scan.pk}/").content.decode()

    assert 'id="scan-viewer"' in html
    assert f'data-slice-url="/api/v1/scans/{scan.pk}/slices/{{index}}/file"' in html
    assert 'data-slice-count="3"' in html
    assert f'data-model-output-url="/api/v1/modelops/scans/{scan.pk}/model-output/"' in html
    assert "build/scan.js" in html and 'id="window-presets"' in html


def test_readers_get_no_scan_page(client):
    scan = make_scan(slices=1)
    client.force_login(user_with_role("reader", "neuroradiologist"))
    assert client.get(f"/study/scans/{scan.pk}/").status_code == 403

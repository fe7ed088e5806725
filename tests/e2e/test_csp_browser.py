"""The production Content-Security-Policy lets the app's pages work: the reader's Cornerstone3D
viewer (WebAssembly codecs in web workers) loads and draws a scan with the policy on every
response, and the browser reports no violation.

The live server runs the test settings; the browser adds the production profile's header
(``SECURE_CSP`` of ichlabel/settings_production.py) to every response it receives, as the
production middleware would.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import canvas_is_drawn, log_in

SLICES = 4


@pytest.fixture
def reading(transactional_db, tmp_path):
    from annotations.reading.services import read_assign
    from tests.annotations.factories import import_phantom_slices
    from tests.conftest import user_with_role

    scan = import_phantom_slices(tmp_path, SLICES, seed=3)
    reader = user_with_role("neuro-csp", "neuroradiologist")
    return read_assign(scan=scan, reader=reader)


def _production_policy() -> str:
    from ichlabel import settings_production
    from ichlabel.csp import csp_header_value

    return csp_header_value(settings_production.SECURE_CSP)


def test_the_reader_works_under_the_production_policy(live_server, reading, page, console):
    policy = _production_policy()

    def with_policy(route) -> None:
        response = route.fetch(max_redirects=0)  # a redirect goes back to the browser
        route.fulfill(
            response=response,
            headers={**response.headers, "content-security-policy": policy},
        )

    page.context.route(f"{live_server.url}/**", with_policy)
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    log_in(page, live_server.url, "neuro-csp", "pw-neuro-csp")
    page.goto(f"{live_server.url}/reading/{reading.pk}/")
    reader = page.locator("#reader")
    expect(reader).to_have_attribute("data-loaded", "true", timeout=30_000)
    expect(reader).to_have_attribute("data-prefetched", "true", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#viewer canvas') !== null")

    assert canvas_is_drawn(page, "#viewer canvas"), "the first slice rendered as a blank canvas"
    assert page.evaluate("window.__violations") == []
    response = page.goto(f"{live_server.url}/reading/")
    assert response is not None and response.headers["content-security-policy"] == policy

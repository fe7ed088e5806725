"""The disagreement loop's model side in the browser: from a model's page a coordinator opens
its disagreements, filters them, ticks a missed hemorrhage and sends the scan to a blinded
second read (balanced: the one reader who has not read it); after the reload the row says the
second read is pending and cannot be sent again. An ML engineer sees the same list without the
send controls.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in


@pytest.fixture
def world(transactional_db):
    from tests.modelops.disagreements.factories import disagreement_world

    return disagreement_world()


def test_a_coordinator_sends_a_missed_hemorrhage_to_a_second_read(live_server, world, page):
    from annotations.models import SecondReadRequest

    model, v1 = world["model"], world["scans"]["v1"]
    log_in(page, live_server.url, "coordinator", "pw-coordinator")
    page.goto(f"{live_server.url}/models/versions/{model.pk}/")
    page.locator("#disagreements-link").click()

    root = page.locator("#disagreements")
    expect(root).to_have_attribute("data-ready", "true")
    rows = page.locator("#disagreements-table tbody tr")
    expect(rows).to_have_count(8)
    expect(rows.first).to_contain_text("EDH")
    expect(page.locator('#disagreement-counts tr[data-class="any"]')).to_contain_text("1")

    filters = page.locator("#disagreement-filters")
    filters.locator("select[name=class]").select_option("any")
    filters.locator("select[name=kind]").select_option("false_negative")
    with page.expect_navigation():
        filters.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    send = page.locator("#send-selected")
    expect(send).to_be_disabled()
    row = page.locator(f'#disagreements-table tr[data-scan="{v1.pk}"]')
    expect(row).to_contain_text("Not sent")
    row.locator("input.pick").check()
    expect(send).to_be_enabled()
    send.click()
    expect(page.locator("#send-message")).to_contain_text(
        "1 scan sent to a blinded second read (neuro4)"
    )
    # The page reloads itself to show the scan's new state.
    expect(row).to_contain_text("Second read pending", timeout=10_000)
    expect(row.locator("input.pick")).to_be_disabled()
    request = SecondReadRequest.objects.get(scan=v1)
    assert request.reason["kind"] == "false_negative" and request.reason["class"] == "any"

    # An ML engineer: the same list, no send controls.
    page.context.clear_cookies()
    log_in(page, live_server.url, "mlengineer", "pw-mlengineer")
    page.goto(f"{live_server.url}/models/versions/{model.pk}/disagreements/?class=any")
    expect(page.locator("#disagreements-table tbody tr")).to_have_count(3)
    expect(page.locator("#send-selected")).to_have_count(0)
    expect(page.locator(f'#disagreements-table tr[data-scan="{v1.pk}"]').first).to_contain_text(
        "Second read pending"
    )

"""A whole validation round in the browser: the coordinator assigns a phantom validation scan
to three neuroradiologists, one of them reads and labels it in the reading view (the other two
finish through the services, as their own pages would), the coordinator freezes the ground
truth and downloads the slice-level export, which holds the 2-of-3 vote of what was labelled.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
"""

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in

SLICES = 6


@pytest.fixture
def scan(transactional_db, tmp_path):
    """Six phantom slices imported into a validation center; a coordinator, three readers."""
    from tests.annotations.factories import import_phantom_slices
    from tests.conftest import user_with_role

    scan = import_phantom_slices(tmp_path, SLICES, seed=3, center="Center V", split="validation")
    user_with_role("coord-e2e", "coordinator")
    for number in (1, 2, 3):
        user_with_role(f"neuro{number}", "neuroradiologist")
    return scan


def _log_out(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()


def _read_in_browser(page, base: str, reader: str) -> None:
    """The reader opens the scan, shows every slice, marks IPH on slice 3, SAH on slice 4, done."""
    log_in(page, base, reader, f"pw-{reader}")
    with page.expect_navigation():
        page.get_by_role("link", name="Open").click()
    section = page.locator("#reader")
    expect(section).to_have_attribute("data-prefetched", "true", timeout=30_000)
    for index in range(1, SLICES):
        page.keyboard.press("ArrowUp")
        expect(section).to_have_attribute("data-current", str(index))
        if index == 2:
            page.keyboard.press("1")
        if index == 3:
            page.keyboard.press("3")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    with page.expect_navigation(url=f"{base}/reading/"):
        page.keyboard.press("d")


def test_a_validation_round_from_assignment_to_export(live_server, scan, page, console):
    from annotations.models import Read
    from tests.annotations.study_factories import label_and_complete

    base = live_server.url
    log_in(page, base, "coord-e2e", "pw-coord-e2e")
    page.goto(f"{base}/study/reading/")
    page.locator("#assign-form select[name=split]").select_option("validation")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(f'#preview-table tr[data-scan="{scan.pk}"]')).to_be_visible()
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("#assign-message")).to_contain_text("Assigned 3 reads on 1 scan")

    _log_out(page)
    _read_in_browser(page, base, "neuro1")
    # The two cross-readers: one agrees on IPH (2 of 3), neither marks SAH (1 of 3).
    label_and_complete(Read.objects.get(scan=scan, reader__username="neuro2"), {2: {"iph": True}})
    label_and_complete(Read.objects.get(scan=scan, reader__username="neuro3"), {})
    assert set(Read.objects.filter(scan=scan).values_list("status", flat=True)) == {"completed"}

    _log_out(page)
    log_in(page, base, "coord-e2e", "pw-coord-e2e")
    page.goto(f"{base}/study/ground-truth/")
    expect(page.locator("#ground-truth")).to_have_attribute("data-ready", "true")
    page.get_by_label("Name").fill("validation-1")
    page.get_by_role("button", name="Freeze").click()
    expect(page.locator("#freeze-message")).to_contain_text(f"1 scan, {SLICES} slices")
    with page.expect_download() as download:
        page.locator('[id^="gt-exports-"] a', has_text="slices").first.click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))

    assert len(rows) == SLICES
    by_index = {int(row["slice_index"]): row for row in rows}
    assert (by_index[2]["iph"], by_index[2]["any"]) == ("1", "1")  # 2 of 3 readers
    assert by_index[3]["sah"] == "0"  # 1 of 3
    assert all(row["any"] == "0" for index, row in by_index.items() if index != 2)
    console.assert_clean()

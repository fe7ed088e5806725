"""A reader's finished work in the browser: a completed read opened by its URL is a read-only
view (labels, flags, note, when it was completed, the released ground truth beside the labels)
with no editor keys, saves, progress reports or leave-page prompt; the worklist lists it. A
second tab of an open read follows the first tab's saves and those made elsewhere, and a read
completed elsewhere stops the page's saving at once, says so, and asks nothing on leaving.

Run: `uv run pytest tests/e2e/test_reader_finished_browser.py`.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in

SLICES = 6
# Whether leaving the page would make the browser ask (the page's beforeunload handler).
ASKS_BEFORE_LEAVING = """() => {
    const event = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(event);
    return event.defaultPrevented;
}"""


@pytest.fixture
def reading(transactional_db, tmp_path):
    """A scan of 6 phantom slices, a neuroradiologist and their read of it."""
    from annotations.reading.services import read_assign
    from tests.annotations.factories import import_phantom_slices
    from tests.conftest import user_with_role

    scan = import_phantom_slices(tmp_path, SLICES, seed=2)
    reader = user_with_role("neuro-done", "neuroradiologist")
    return read_assign(scan=scan, reader=reader)


def _row(page, index: int):
    return page.locator(f'#slice-strip li[data-slice="{index}"]')


def _save(read, index: int, **values) -> None:
    """A label saved elsewhere (another device) on the read."""
    from annotations.models import SliceLabel
    from annotations.reading.services import LabelChange, slice_labels_save

    label = SliceLabel.objects.filter(read=read, slice__position_index=index).first()
    version = label.version if label else 0
    change = LabelChange(slice_index=index, values=values, expected_version=version)
    slice_labels_save(read_id=read.pk, reader=read.reader, changes=[change])


def test_a_completed_read_is_a_read_only_view_with_its_released_ground_truth(
    live_server, reading, page, console
):
    from annotations.ground_truth.services import ground_truth_freeze, ground_truth_release
    from annotations.reading.services import read_complete, read_flags_set
    from tests.conftest import user_with_role

    _save(reading, 1, iph=True)
    _save(reading, 2, iph=True, sdh=True)
    read_flags_set(read_id=reading.pk, reader=reading.reader, flags={"artifact": True},
                   note="motion at the vertex", expected_version=0)  # fmt: skip
    read_complete(read_id=reading.pk, reader=reading.reader, unseen_ok=True)
    coordinator = user_with_role("coord-done", "coordinator")
    version = ground_truth_freeze(name="v-release", created_by=coordinator)
    ground_truth_release(version_id=version.pk, released_by=coordinator)

    log_in(page, live_server.url, "neuro-done", "pw-neuro-done")
    sent: list[str] = []
    page.on("request", lambda request: request.method == "POST" and sent.append(request.url))
    page.goto(f"{live_server.url}/reading/")
    expect(page.locator(f'#worklist tr[data-read="{reading.pk}"]')).to_have_count(0)
    row = page.locator(f'#completed-reads tr[data-read="{reading.pk}"]')
    expect(row.locator(".ground-truth")).to_have_text("released in v-release")
    with page.expect_navigation():
        row.get_by_role("link", name="View").click()

    reader = page.locator("#reader")
    expect(reader).to_have_attribute("data-prefetched", "true", timeout=30_000)
    expect(reader).to_have_attribute("data-read-only", "true")
    expect(page.locator("#read-status")).to_have_text(
        re.compile(r"^Completed on \d{4}-\d\d-\d\d · read-only$")
    )
    expect(page.locator("#reader-done")).to_have_count(0)
    expect(page.locator("#current-labels")).to_have_count(0)
    expect(_row(page, 2)).to_have_attribute("data-labels", "IPH SDH")
    # The ground truth of a single read is that read: beside each slice, and for the scan.
    expect(_row(page, 2)).to_have_attribute("data-truth", "IPH SDH")
    expect(_row(page, 0).locator(".truth")).to_have_text("no ICH")
    expect(page.locator("#ground-truth-scan")).to_have_text("Scan: IPH SDH")
    expect(page.locator("#ground-truth")).to_contain_text("Version v-release")
    expect(page.get_by_label("Artifact")).to_be_checked()
    expect(page.get_by_label("Artifact")).to_be_disabled()
    expect(page.get_by_label("Note")).to_have_value("motion at the vertex")
    expect(page.get_by_label("Note")).not_to_be_editable()
    expect(page.locator("#reader-help")).not_to_contain_text("Undo")

    # Editing keys do nothing; the images still scroll.
    page.keyboard.press("ArrowUp")
    expect(reader).to_have_attribute("data-current", "1")
    for key in ("3", "0", "c", "u", "Control+z", "d"):
        page.keyboard.press(key)
    expect(_row(page, 1)).to_have_attribute("data-labels", "IPH")
    assert not page.evaluate(ASKS_BEFORE_LEAVING)
    page.reload()  # a request the page made would be in flight or done by now
    expect(reader).to_have_attribute("data-read-only", "true")
    assert sent == [], sent  # no saves, no progress reports, no completion
    console.assert_clean()


def test_a_second_tab_follows_saves_and_a_read_completed_elsewhere_stops_saving(
    live_server, reading, page, console
):
    from annotations.models import SliceLabel
    from annotations.reading.services import read_complete

    log_in(page, live_server.url, "neuro-done", "pw-neuro-done")
    url = f"{live_server.url}/reading/{reading.pk}/"
    page.goto(url)
    other = page.context.new_page()  # the second tab, same session
    console.attach(other)
    other.goto(url)
    for tab in (page, other):
        expect(tab.locator("#reader")).to_have_attribute("data-loaded", "true", timeout=30_000)

    # A save in the first tab shows in the second (the tabs tell each other).
    page.keyboard.press("1")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    expect(_row(other, 0)).to_have_attribute("data-labels", "IPH")
    # A save made elsewhere (another machine) reaches both by their poll of the read.
    _save(reading, 3, sah=True)
    for tab in (page, other):
        expect(_row(tab, 3)).to_have_attribute("data-labels", "SAH", timeout=15_000)
    # The second tab edits on top of the first tab's label: nothing is lost.
    other.keyboard.press("4")
    expect(other.locator("#save-state")).to_have_attribute("data-state", "saved")
    expect(_row(page, 0)).to_have_attribute("data-labels", "IPH SDH")
    label = SliceLabel.objects.get(read=reading, slice__position_index=0)
    assert (label.iph, label.sdh) == (True, True)
    # Flags too: set in one tab, shown in the other.
    page.get_by_label("Artifact").check()
    expect(page.locator(".flags-status")).to_have_text("Flags saved")
    expect(other.get_by_label("Artifact")).to_be_checked()

    # Completed elsewhere: the next label change is refused (409), the page stops saving, turns
    # read-only, says so once and no longer asks before leaving.
    console.allow(r"status of 409 \(Conflict\) \(.*/api/v1/reads/\d+/labels/\)")
    read_complete(read_id=reading.pk, reader=reading.reader, unseen_ok=True)
    other.keyboard.press("ArrowUp")
    other.keyboard.press("2")
    expect(other.locator("#reader")).to_have_attribute("data-read-only", "true")
    message = other.locator("#reader-message")
    expect(message).to_contain_text("This read was completed (in another tab or window)")
    expect(other.locator("#reader-done")).to_have_count(0)
    expect(_row(other, 1)).to_have_attribute("data-labels", "")
    assert not other.evaluate(ASKS_BEFORE_LEAVING)
    # The first tab learns it by its poll, with no edit of its own to lose.
    expect(page.locator("#reader")).to_have_attribute("data-read-only", "true", timeout=15_000)
    expect(page.locator("#read-status")).to_contain_text("Completed on ")
    assert not SliceLabel.objects.filter(read=reading, ivh=True).exists()
    console.assert_clean()

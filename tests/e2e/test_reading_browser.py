"""A neuroradiologist reads a scan in the browser: the Cornerstone3D reader shows the slices,
keys move and label them (autosaved), the labels survive a reload, and Done completes the read.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
Run: `uv run pytest tests/e2e/test_reading_browser.py`.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import canvas_is_drawn, log_in

SLICES = 8


@pytest.fixture
def reading(transactional_db, tmp_path):
    """A scan of 8 phantom slices, a neuroradiologist and their read of it."""
    from annotations.reading.services import read_assign
    from tests.annotations.factories import import_phantom_slices
    from tests.conftest import user_with_role

    scan = import_phantom_slices(tmp_path, SLICES, seed=1)
    assert scan.slice_count == SLICES
    reader = user_with_role("neuro-e2e", "neuroradiologist")
    return read_assign(scan=scan, reader=reader)


def _strip_row(page, index: int):
    return page.locator(f'#slice-strip li[data-slice="{index}"]')


def test_a_neuroradiologist_labels_slices_and_completes_a_read(live_server, reading, page, console):
    from annotations.models import SliceLabel

    log_in(page, live_server.url, "neuro-e2e", "pw-neuro-e2e")
    page.goto(f"{live_server.url}/reading/")
    with page.expect_navigation():
        page.get_by_role("link", name="Open").click()
    reader = page.locator("#reader")
    expect(reader).to_have_attribute("data-loaded", "true", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#viewer canvas') !== null")
    expect(page.locator("#slice-position")).to_have_text(
        re.compile(rf"^1 / {SLICES} · -?\d+\.\d mm$")
    )
    expect(reader).to_have_attribute("data-prefetched", "true", timeout=30_000)
    expect(page.locator("#load-progress")).to_have_text(f"{SLICES} slices loaded")
    assert canvas_is_drawn(page, "#viewer canvas"), "the first slice rendered as a blank canvas"

    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#slice-position")).to_contain_text(f"3 / {SLICES} · ")
    page.keyboard.press("1")
    page.keyboard.press("4")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    expect(_strip_row(page, 2)).to_have_attribute("data-labels", "IPH SDH")

    page.reload()
    expect(reader).to_have_attribute("data-loaded", "true", timeout=30_000)
    expect(_strip_row(page, 2)).to_have_attribute("data-labels", "IPH SDH")
    label = SliceLabel.objects.get(read=reading, slice__position_index=2)
    assert (label.iph, label.ivh, label.sah, label.sdh, label.edh, label.no_hemorrhage) == (
        True, False, False, True, False, False,
    )  # fmt: skip

    dialogs: list[str] = []
    answers = [False, True]  # keep reading the first time, finish anyway the second

    def answer(dialog) -> None:
        dialogs.append(dialog.message)
        if answers.pop(0):
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    # Slices 4-8 were never shown: Done asks first, without a refused request (the console stays
    # clean), and marks them as never shown, not as a selected range.
    # (A slice the keys passed over before it was drawn counts as never shown too.)
    page.keyboard.press("d")
    message = page.locator("#reader-message")
    expect(message).to_have_text(re.compile(r"^Never shown: slices ([23], )*4, 5, 6, 7, 8$"))
    named = message.text_content().removeprefix("Never shown: slices ").split(", ")
    expect(page.locator("#slice-strip li.unseen")).to_have_count(len(named))
    for index in range(3, SLICES):
        expect(_strip_row(page, index)).to_have_attribute("title", "Never shown")
    expect(page.locator("#slice-strip li.selected")).to_have_count(0)
    reading.refresh_from_db()
    assert reading.status != "completed"
    with page.expect_navigation(url=f"{live_server.url}/reading/"):
        page.keyboard.press("d")
    assert len(dialogs) == 2 and "never shown" in dialogs[0], dialogs
    reading.refresh_from_db()
    assert reading.status == "completed"
    console.assert_clean()


def test_edits_made_elsewhere_are_merged_not_lost(live_server, reading, page, console):
    """A label or flags saved elsewhere after the page loaded: the page's stale version gets a
    409; a label edit is replayed on the server's values, the flags are reloaded and shown."""
    from annotations.models import SliceLabel
    from annotations.reading.services import LabelChange, read_flags_set, slice_labels_save

    log_in(page, live_server.url, "neuro-e2e", "pw-neuro-e2e")
    page.goto(f"{live_server.url}/reading/{reading.pk}/")
    expect(page.locator("#reader")).to_have_attribute("data-loaded", "true", timeout=30_000)
    console.allow(r"status of 409 \(Conflict\) \(.*/api/v1/reads/\d+/(labels|flags)/\)")

    values = dict.fromkeys(["iph", "ivh", "sah", "sdh", "edh", "no_hemorrhage"], False)
    slice_labels_save(
        read_id=reading.pk,
        reader=reading.reader,
        changes=[LabelChange(slice_index=0, values={**values, "sah": True}, expected_version=0)],
    )
    page.keyboard.press("1")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    expect(_strip_row(page, 0)).to_have_attribute("data-labels", "IPH SAH")
    label = SliceLabel.objects.get(read=reading, slice__position_index=0)
    assert (label.iph, label.sah, label.version) == (True, True, 2)

    reading.refresh_from_db()
    read_flags_set(
        read_id=reading.pk,
        reader=reading.reader,
        flags={"artifact": True},
        note="motion",
        expected_version=reading.version,
    )
    # The page's save names the old version: its 409 reloads the flags saved elsewhere (unless
    # the page's poll of the read brought them in first); either way both edits stand.
    page.get_by_label("Mass lesion").check()
    expect(page.get_by_label("Artifact")).to_be_checked()
    expect(page.get_by_label("Note")).to_have_value("motion")
    page.get_by_label("Mass lesion").check()
    expect(page.locator(".flags-status")).to_have_text("Flags saved")
    reading.refresh_from_db()
    assert (reading.flag_artifact, reading.flag_mass_lesion, reading.note) == (True, True, "motion")
    console.assert_clean()


def test_ranges_copy_undo_window_and_zoom_work_from_keys_and_mouse(
    live_server, reading, page, console
):
    """Shift+arrows select a range that one key labels; C copies the previous slice; U and
    Ctrl+Z undo step by step, Ctrl+Shift+Z and Ctrl+Y redo; a preset key, a left drag (window)
    and Ctrl+wheel (zoom) show in the overlay and R resets them; leaving the page reports where
    the reader was."""
    from annotations.models import SliceLabel

    log_in(page, live_server.url, "neuro-e2e", "pw-neuro-e2e")
    page.goto(f"{live_server.url}/reading/{reading.pk}/")
    expect(page.locator("#reader")).to_have_attribute("data-prefetched", "true", timeout=30_000)
    window = page.locator("#window-info")
    expect(window).not_to_be_empty()
    initial = window.text_content()

    page.keyboard.press("Shift+ArrowUp")
    page.keyboard.press("Shift+ArrowUp")
    expect(page.locator("#slice-position")).to_contain_text("selected 1–3")
    page.keyboard.press("2")
    for index in (0, 1, 2):
        expect(_strip_row(page, index)).to_have_attribute("data-labels", "IVH")
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("c")
    expect(_strip_row(page, 3)).to_have_attribute("data-labels", "IVH")
    page.keyboard.press("u")
    expect(_strip_row(page, 3)).to_have_attribute("data-labels", "")
    page.keyboard.press("Control+z")
    for index in (0, 1, 2):
        expect(_strip_row(page, index)).to_have_attribute("data-labels", "")
    # Redo puts an undone step back (Ctrl+Shift+Z or Ctrl+Y), as the keys help lists.
    expect(page.locator("#reader-help")).to_contain_text("Ctrl+Shift+Z or Ctrl+Y")
    page.keyboard.press("Control+Shift+Z")
    for index in (0, 1, 2):
        expect(_strip_row(page, index)).to_have_attribute("data-labels", "IVH")
    page.keyboard.press("Control+z")
    expect(_strip_row(page, 1)).to_have_attribute("data-labels", "")
    page.keyboard.press("Control+y")
    expect(_strip_row(page, 1)).to_have_attribute("data-labels", "IVH")
    page.keyboard.press("Control+z")
    for index in (0, 1, 2):
        expect(_strip_row(page, index)).to_have_attribute("data-labels", "")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    assert not SliceLabel.objects.filter(read=reading, ivh=True).exists()

    page.keyboard.press("b")
    expect(window).to_have_text("Brain 40/80")
    box = page.locator("#viewer").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y + 40, steps=8)
    page.mouse.up()
    expect(window).not_to_have_text("Brain 40/80")
    expect(window).to_contain_text("Window ")
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    expect(window).to_contain_text("×")
    page.keyboard.press("r")
    expect(window).to_have_text(initial)

    page.keyboard.press("ArrowUp")
    expect(page.locator("#slice-position")).to_contain_text(f"5 / {SLICES} · ")
    page.goto(f"{live_server.url}/reading/")  # before the next periodic report
    page.wait_for_function("() => document.readyState === 'complete'")
    for _ in range(50):
        reading.refresh_from_db()
        if reading.last_slice_index == 4:
            break
        page.wait_for_timeout(100)
    assert reading.last_slice_index == 4
    assert set(range(5)) <= set(reading.viewed_slices)
    console.assert_clean()


def test_a_scan_level_read_labels_the_whole_scan(live_server, reading, page, console):
    """A prospective test scan is read at scan level: keys label the scan, not a slice; the
    label is saved, survives a reload, and the read completes once every slice was shown."""
    from annotations.models import Read, ScanLabel

    Read.objects.filter(pk=reading.pk).update(level="scan")
    log_in(page, live_server.url, "neuro-e2e", "pw-neuro-e2e")
    page.goto(f"{live_server.url}/reading/")
    expect(page.locator(f'tr[data-read="{reading.pk}"] .scan-level')).to_be_visible()
    page.goto(f"{live_server.url}/reading/{reading.pk}/")
    reader = page.locator("#reader")
    expect(reader).to_have_attribute("data-prefetched", "true", timeout=30_000)
    expect(reader).to_have_attribute("data-level", "scan")
    expect(page.locator("#slice-labels")).to_have_text("Scan: not labelled")

    page.keyboard.press("3")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("4")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    expect(page.locator("#slice-labels")).to_have_text("Scan: SAH SDH")
    expect(page.locator("#slice-strip .mark.on")).to_have_count(0)  # no slice carries them
    label = ScanLabel.objects.get(read=reading)
    assert (label.sah, label.sdh, label.iph, label.version) == (True, True, False, 2)

    page.reload()
    expect(reader).to_have_attribute("data-loaded", "true", timeout=30_000)
    expect(page.locator("#slice-labels")).to_have_text("Scan: SAH SDH")
    start = int(reader.get_attribute("data-current"))
    for index in range(start + 1, SLICES):  # one at a time: each slice is drawn, so it is seen
        page.keyboard.press("ArrowUp")
        expect(_strip_row(page, index)).to_have_class(re.compile("viewed"))
    with page.expect_navigation(url=f"{live_server.url}/reading/"):
        page.keyboard.press("d")
    reading.refresh_from_db()
    assert reading.status == "completed"
    console.assert_clean()


# The canvas at a selector, drawn into 64x64 grey levels (red channel) through a 2D canvas.
_THUMBNAIL = """(selector) => {
    const source = document.querySelector(selector);
    const copy = document.createElement('canvas');
    copy.width = copy.height = 64;
    const ctx = copy.getContext('2d');
    ctx.drawImage(source, 0, 0, 64, 64);
    return Array.from(ctx.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 0));
}"""


def test_the_first_slice_is_drawn_before_the_viewer_loads_and_handed_over(
    live_server, reading, page, console
):
    """The page draws the slice it opens on by itself, while the viewer's code (held back here)
    has not arrived; once it has, the viewer draws the same image and the page's drawing goes."""
    log_in(page, live_server.url, "neuro-e2e", "pw-neuro-e2e")
    held = []
    page.route("**/build/chunks/viewer.js", lambda route: held.append(route))
    page.goto(f"{live_server.url}/reading/{reading.pk}/")
    reader = page.locator("#reader")
    expect(reader).to_have_attribute("data-first-image", "drawn", timeout=30_000)
    assert canvas_is_drawn(page, "#first-image"), "the first slice was drawn blank"
    first = page.evaluate(_THUMBNAIL, "#first-image")
    assert max(first) - min(first) > 100, "the first slice has no contrast to compare"
    page.wait_for_timeout(300)  # the viewer does not start without its code
    assert len(held) == 1 and reader.get_attribute("data-loaded") is None
    expect(page.locator("#slice-position")).to_contain_text(f"1 / {SLICES}")

    held[0].continue_()
    expect(reader).to_have_attribute("data-loaded", "true", timeout=30_000)
    expect(page.locator("#first-image")).to_have_count(0)
    # The viewer's canvas settles on the same image; on a loaded machine the read right after
    # the hand-over once caught a frame still in progress (mean difference 38), so it is read
    # again for up to 5 s before the images are called different.
    for _ in range(25):
        shown = page.evaluate(_THUMBNAIL, "#viewer canvas")
        difference = sum(abs(a - b) for a, b in zip(first, shown, strict=True)) / len(first)
        if difference < 6:
            break
        page.wait_for_timeout(200)
    assert difference < 6, f"the viewer drew another image (mean difference {difference:.1f})"
    expect(reader).to_have_attribute("data-prefetched", "true", timeout=30_000)
    console.assert_clean()

"""What people meet around the work itself: a coordinator lands on the study, sees a scan's
images with the slices readers marked and their labels beside them, and inside an adjudication
item the disputed slice drawn with every reader's vote; a reader lands on the worklist, and a
page that is not theirs, or no page at all, answers in the site's layout with a way back.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import canvas_is_drawn, log_in

SLICES = 5
DISPUTED = 2  # the slice two of three readers marked IPH on


@pytest.fixture
def decided(transactional_db, tmp_path):
    from annotations.adjudication.services import adjudication_split_votes_create
    from annotations.models import AdjudicationItem, ReadKind, ReadLevel
    from annotations.reading.services import read_assign
    from tests.annotations.factories import import_phantom_slices
    from tests.annotations.study_factories import label_and_complete
    from tests.conftest import user_with_role

    scan = import_phantom_slices(tmp_path, SLICES, seed=5, split="validation")
    coordinator = user_with_role("coord-pages", "coordinator")
    kinds = [ReadKind.PRIMARY, ReadKind.CROSS, ReadKind.CROSS]
    for number, kind in enumerate(kinds):
        reader = user_with_role(f"neuro-pages{number}", "neuroradiologist")
        read = read_assign(scan=scan, reader=reader, kind=kind, level=ReadLevel.SLICE)
        label_and_complete(read, {DISPUTED: {"iph": number < 2}, 0: {"no_hemorrhage": True}})
    adjudication_split_votes_create(subtypes=["iph"], created_by=coordinator)
    return {"scan": scan, "item": AdjudicationItem.objects.get(scan=scan)}


def test_coordinators_see_the_images_they_decide_about_and_readers_find_their_way(
    live_server, decided, page, console
):
    base = live_server.url
    scan, item = decided["scan"], decided["item"]

    # The coordinator lands on the study; the user menu offers the password change.
    log_in(page, base, "coord-pages", "pw-coord-pages")
    assert page.url == f"{base}/study/"
    expect(page.locator("#password-change-link")).to_have_attribute("href", "/password/")
    icon = page.request.get(f"{base}/favicon.ico")  # what browsers ask for by themselves
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")

    # The scan page: the image drawn, the marked slice listed with each reader's labels.
    page.goto(f"{base}/study/scans/{scan.pk}/")
    viewer = page.locator("#scan-viewer")
    expect(viewer).to_have_attribute("data-loaded", "true", timeout=30_000)
    assert canvas_is_drawn(page, "#viewer canvas")
    marked = viewer.locator(f'.slice-votes-table tr[data-slice="{DISPUTED}"]')
    expect(viewer.locator(".slice-votes-table tbody tr")).to_have_count(1)  # not "no hemorrhage"
    expect(marked.locator("td.vote-yes")).to_have_count(2)
    expect(marked).to_contain_text("nothing marked")
    expect(viewer).to_have_attribute("data-current", str(DISPUTED))  # opened on the marked slice
    page.keyboard.press("ArrowDown")
    expect(viewer).to_have_attribute("data-current", str(DISPUTED - 1))
    marked.get_by_role("button").click()
    expect(viewer).to_have_attribute("data-current", str(DISPUTED))
    expect(marked).to_have_class("current")

    # The adjudication item: the disputed slice drawn, the readers' votes beside it.
    page.goto(f"{base}/study/adjudication/")
    page.locator(f'#queue-table tr[data-item="{item.pk}"]').click()
    images = page.locator("#item-images .scan-images-body")
    expect(images).to_have_attribute("data-loaded", "true", timeout=30_000)
    expect(images).to_have_attribute("data-current", str(DISPUTED))
    assert canvas_is_drawn(page, "#item-images canvas")
    beside = images.locator(f'.slice-votes-table tr.current[data-slice="{DISPUTED}"]')
    for number in range(3):
        expect(images.locator(".slice-votes-table thead")).to_contain_text(f"neuro-pages{number}")
    expect(beside.locator("td.vote-yes")).to_have_count(2)
    expect(beside.locator("td.vote-no")).to_have_count(1)
    expect(page.locator("#item-scan-link")).to_have_attribute("href", f"/study/scans/{scan.pk}/")

    # A reader lands on the worklist; the coordinators' pages and a wrong address are pages
    # of the site with the reader's own navigation and a way to their start page.
    page.context.clear_cookies()
    console.allow(r"status of 40[34]")
    log_in(page, base, "neuro-pages0", "pw-neuro-pages0")
    assert page.url == f"{base}/reading/"
    for path, status in ((f"/study/scans/{scan.pk}/", 403), ("/no-such-page/", 404)):
        answer = page.goto(f"{base}{path}")
        assert answer is not None and answer.status == status
        expect(page.locator("#error-page")).to_have_attribute("data-status", str(status))
        expect(page.locator("header nav")).to_contain_text("Worklist")
        expect(page.locator("header nav")).not_to_contain_text("Scans")
        assert page.locator("#scan-viewer").count() == 0
    page.locator("#error-home").click()
    expect(page).to_have_url(f"{base}/reading/")

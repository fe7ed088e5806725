"""Two neuroradiologists score a blinded Likert study of saliency maps in the browser: the
slice drawn by Cornerstone3D with the map laid over it (and kept on it through zoom and pan),
one reader with keys (an undo and changed scores among them), the other with the mouse; every
score reaches the database, the two orders differ, and nothing the browser asked for or showed
names a method or a map. The coordinator then sees the results per reader and method. A score
sent while the connection is down is kept and sent again; a closed study is read-only.

The study is made straight in the database: three imported phantom scans, a finished saliency
run with both maps of one slice of each (overlay PNGs written as the job writes them), and the
study set up by the service for two readers.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
Run: `uv run pytest tests/e2e/test_likert_browser.py`.
"""

import csv
import io
import re

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ConsoleLog, canvas_is_drawn, log_in, wait_for_chart

SCANS = 3
CASES = 2 * SCANS  # both maps of one slice per scan
MAP_SIZE = 16  # the model's input size of this test: the overlay is stretched to 64 x 64
METHOD_WORDS = ("normgrad", "gradcam", "grad-cam")


def _import_phantom_scans(tmp_path) -> list:
    """Three 64-pixel phantom scans, three middle slices of each, imported as a site would."""
    from tests.annotations.factories import import_middle_slices

    return import_middle_slices(tmp_path, SCANS, seed=5, center="Center L", split="validation")


def _blob(center: tuple[float, float], width: float) -> np.ndarray:
    """A map at the model's input size: one bright blob."""
    y, x = np.mgrid[0:MAP_SIZE, 0:MAP_SIZE] / (MAP_SIZE - 1)
    return np.exp(-((x - center[0]) ** 2 + (y - center[1]) ** 2) / (2 * width**2)).astype(
        np.float32
    )


def _finished_saliency_run(registry, scans):
    """A run of the registry's first model with both maps of each scan's middle slice."""
    from annotations.models import JobStatus
    from modelops.models import SaliencyMap, SaliencyRun, SaliencySlice
    from modelops.saliency.render import save_map
    from modelops.saliency.selectors import saliency_dir

    run = SaliencyRun.objects.create(
        model_version=registry["models"][0],
        split="validation",
        per_subtype=1,
        created_by=registry["engineer"],
        status=JobStatus.SUCCEEDED,
        slices_total=len(scans),
        slices_done=len(scans),
        progress=1.0,
    )
    for position, (scan, subtype) in enumerate(zip(scans, ("iph", "sdh", "sah"), strict=True)):
        item = SaliencySlice.objects.create(
            run=run,
            scan=scan,
            slice=scan.slices.get(position_index=1),
            subtype=subtype,
            position=position,
            done=True,
            score=0.8,
        )
        for method, (center, width) in (
            ("normgrad", ((0.3, 0.4), 0.12)),
            ("gradcam", ((0.6, 0.5), 0.25)),
        ):
            saliency_map = SaliencyMap.objects.create(item=item, method=method)
            save_map(_blob(center, width), saliency_dir(run.pk), str(saliency_map.token))
    return run


@pytest.fixture
def study(transactional_db, tmp_path):
    """The study of six maps for neuro1 and neuro2 (passwords "pw-<name>")."""
    from django.contrib.auth.models import User

    from modelops.likert.services import likert_study_create
    from tests.modelops.registry_factories import seed_registry

    registry = seed_registry()
    run = _finished_saliency_run(registry, _import_phantom_scans(tmp_path))
    return likert_study_create(
        name="Saliency maps, round 1",
        saliency_run=run,
        readers=[User.objects.get(username=name) for name in ("neuro1", "neuro2")],
        seed=3,
        created_by=registry["coordinator"],
    )


class Requests:
    """Every URL the browser asked for, over all pages of the test."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def attach(self, page) -> None:
        page.on("request", lambda request: self.urls.append(request.url))


def _open_page(browser, console: ConsoleLog, requests: Requests):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    console.attach(page)
    requests.attach(page)
    return context, page


def _start_scoring(page, base_url: str, username: str) -> None:
    log_in(page, base_url, username, f"pw-{username}")
    page.goto(f"{base_url}/likert/")
    expect(page.locator("#likert-studies")).to_contain_text(f"0 / {CASES}")
    with page.expect_navigation():
        page.get_by_role("link", name="Start").click()
    expect(page.locator("#likert-reader")).to_have_attribute("data-loaded", "true", timeout=30_000)


def _expect_case(page, position: int, scored: int) -> None:
    reader = page.locator("#likert-reader")
    expect(reader).to_have_attribute("data-position", str(position))
    expect(page.locator("#likert-case")).to_have_text(f"Case {position + 1} of {CASES}")
    expect(page.locator("#likert-progress")).to_have_text(f"{scored} of {CASES} scored")
    expect(page.locator("#likert-overlay")).to_have_attribute("data-shown", "true")


def _expect_saved(page) -> None:
    expect(page.locator("#likert-save")).to_have_attribute("data-state", "saved")


def _scores(study, username: str) -> list[int | None]:
    from modelops.models import LikertScore

    return list(
        LikertScore.objects.filter(study=study, reader__username=username)
        .order_by("position")
        .values_list("score", flat=True)
    )


def _means_by_method(study, username: str) -> list[float]:
    """The reader's mean score of NormGrad's maps, then of Grad-CAM's (the results' columns)."""
    from modelops.models import LikertScore

    rows = LikertScore.objects.filter(study=study, reader__username=username).values_list(
        "case__saliency_map__method", "score"
    )
    methods = ("normgrad", "gradcam")
    return [float(np.mean([s for m, s in rows if m == method])) for method in methods]


def _box(page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    assert box, f"{selector} is not on the page"
    return box


def _near(a: dict, b: dict, tolerance: float = 2.0) -> bool:
    return all(abs(a[k] - b[k]) <= tolerance for k in ("x", "y", "width", "height"))


def _drag(page, button: str, dx: float, dy: float) -> None:
    box = _box(page, "#likert-viewer")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down(button=button)
    page.mouse.move(x + dx, y + dy, steps=8)
    page.mouse.up(button=button)


def _score_with_keys(page, study) -> None:
    """neuro1: the overlay follows zoom and pan; keys score, undo, change and finish."""
    _expect_case(page, 0, 0)
    assert canvas_is_drawn(page, "#likert-viewer canvas"), "the slice rendered as a blank canvas"

    # The 64 x 64 slice fills the square viewer, and so does its map; zoom and pan take it along.
    viewer = _box(page, "#likert-viewer")
    fitted = _box(page, "#likert-overlay")
    assert _near(fitted, viewer), (fitted, viewer)
    _drag(page, "right", 0, 120)
    expect(page.locator("#likert-window")).to_contain_text("×")
    zoomed = _box(page, "#likert-overlay")
    assert zoomed["width"] > fitted["width"] * 1.2, (zoomed, fitted)
    _drag(page, "middle", 60, 40)
    panned = _box(page, "#likert-overlay")
    assert abs(panned["x"] - zoomed["x"] - 60) < 4 and abs(panned["y"] - zoomed["y"] - 40) < 4
    page.keyboard.press("r")
    page.wait_for_function(
        "() => Math.abs(document.querySelector('#likert-overlay').getBoundingClientRect().width"
        " - document.querySelector('#likert-viewer').getBoundingClientRect().width) < 2"
    )

    # Overlay off and on, its opacity, a window preset, the help.
    page.keyboard.press("t")
    expect(page.locator("#likert-reader")).to_have_attribute("data-overlay", "off")
    expect(page.locator("#likert-overlay")).to_be_hidden()
    page.keyboard.press("t")
    expect(page.locator("#likert-overlay")).to_be_visible()
    page.locator("#likert-opacity").fill("80")
    expect(page.locator("#likert-opacity-value")).to_have_text("80%")
    expect(page.locator("#likert-overlay")).to_have_css("opacity", "0.8")
    page.locator("#likert-viewer").focus()  # the focused slider keeps its arrow keys
    page.keyboard.press("b")
    expect(page.locator("#likert-window")).to_have_text("Brain 40/80")
    page.keyboard.press("h")
    expect(page.locator("#likert-help")).to_be_visible()
    expect(page.locator("#likert-help")).to_contain_text("Undo the last score")
    page.keyboard.press("Escape")
    expect(page.locator("#likert-help")).to_be_hidden()

    # Score, undo (back to the case, its score taken back), score again.
    page.keyboard.press("3")
    _expect_case(page, 1, 1)
    page.keyboard.press("4")
    _expect_case(page, 2, 2)
    page.keyboard.press("u")
    _expect_case(page, 1, 1)
    expect(page.locator("#likert-current")).to_have_text("Not scored yet")
    _expect_saved(page)
    assert _scores(study, "neuro1")[:2] == [3, None]
    page.keyboard.press("2")
    _expect_case(page, 2, 2)
    # Back with the arrow key: a changed score, then on to the next unscored case.
    page.keyboard.press("ArrowLeft")
    _expect_case(page, 1, 2)
    expect(page.locator("#likert-current")).to_have_text("Your score: 2 (acceptable)")
    expect(page.locator('#likert-scale button[data-score="2"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    page.keyboard.press("1")
    _expect_case(page, 2, 2)
    for position, key in zip(range(2, CASES), "4321", strict=True):
        _expect_case(page, position, position)
        page.keyboard.press(key)
    expect(page.locator("#likert-done")).to_be_visible()
    expect(page.locator("#likert-done")).to_contain_text("All scored")
    expect(page.locator("#likert-progress")).to_have_text(f"{CASES} of {CASES} scored")
    # Ctrl+Z takes the last one back; scoring it ends the study again.
    page.keyboard.press("Control+z")
    expect(page.locator("#likert-done")).to_be_hidden()
    _expect_case(page, CASES - 1, CASES - 1)
    page.keyboard.press("2")
    expect(page.locator("#likert-done")).to_be_visible()
    _expect_saved(page)
    assert _scores(study, "neuro1") == [3, 1, 4, 3, 2, 2]


def _score_with_the_mouse(page, study) -> None:
    """neuro2: buttons score, undo and move; keys still work after a click."""
    _expect_case(page, 0, 0)
    scale = page.locator("#likert-scale")
    scale.get_by_role("button", name="4 Excellent").click()
    _expect_case(page, 1, 1)
    scale.get_by_role("button", name="1 Bad").click()
    _expect_case(page, 2, 2)
    page.get_by_role("button", name="Undo (U)").click()
    _expect_case(page, 1, 1)
    page.get_by_role("button", name="← Previous").click()
    _expect_case(page, 0, 1)
    expect(page.locator("#likert-current")).to_have_text("Your score: 4 (excellent)")
    page.get_by_role("button", name="Next →").click()
    _expect_case(page, 1, 1)
    scale.get_by_role("button", name="2 Acceptable").click()
    _expect_case(page, 2, 2)
    # The overlay button and the slider take the focus; the keys keep working.
    page.get_by_role("button", name="Overlay (T)").click()
    expect(page.locator("#likert-overlay")).to_be_hidden()
    page.keyboard.press("t")
    expect(page.locator("#likert-overlay")).to_be_visible()
    page.locator("#likert-opacity").click()
    page.keyboard.press("3")
    _expect_case(page, 3, 3)
    for position, name in zip(range(3, CASES), ("3 Good", "4 Excellent", "1 Bad"), strict=True):
        _expect_case(page, position, position)
        scale.get_by_role("button", name=name).click()
    expect(page.locator("#likert-done")).to_contain_text("All scored")
    _expect_saved(page)
    assert _scores(study, "neuro2") == [4, 2, 3, 3, 4, 1]


def _assert_blind(page, urls: list[str]) -> None:
    from modelops.models import SaliencyMap

    tokens = [str(token) for token in SaliencyMap.objects.values_list("token", flat=True)]
    asked = "\n".join(urls).lower()
    assert "likert-cases/" in asked and "/slice/" in asked and "overlay.png" in asked
    for text in (asked, page.content().lower(), page.inner_text("body").lower()):
        assert not any(word in text for word in METHOD_WORDS)
        assert not any(token in text for token in tokens)


def test_two_readers_score_a_blinded_study(live_server, study, browser, console):
    from modelops.models import LikertScore

    requests = Requests()
    contexts = []
    try:
        context, page = _open_page(browser, console, requests)
        contexts.append(context)
        _start_scoring(page, live_server.url, "neuro1")
        _assert_blind(page, requests.urls)
        _score_with_keys(page, study)
        _assert_blind(page, requests.urls)

        context, page = _open_page(browser, console, requests)
        contexts.append(context)
        _start_scoring(page, live_server.url, "neuro2")
        _score_with_the_mouse(page, study)
        _assert_blind(page, requests.urls)
        with page.expect_navigation():
            page.get_by_role("link", name="Back to the studies").click()
        expect(page.locator("#likert-studies")).to_contain_text(f"{CASES} / {CASES}")

        orders = {
            reader: list(
                LikertScore.objects.filter(study=study, reader__username=reader)
                .order_by("position")
                .values_list("case_id", flat=True)
            )
            for reader in ("neuro1", "neuro2")
        }
        assert sorted(orders["neuro1"]) == sorted(orders["neuro2"])
        assert orders["neuro1"] != orders["neuro2"], "each reader has an order of their own"
        assert not LikertScore.objects.filter(study=study, score__isnull=True).exists()

        # The coordinator sees the results per reader and method, and gets every score as CSV.
        context, page = _open_page(browser, console, requests)
        contexts.append(context)
        log_in(page, live_server.url, "coordinator", "pw-coordinator")
        page.goto(f"{live_server.url}/likert/{study.pk}/results/")
        expect(page.locator("#likert-progress")).to_have_text(
            f"neuro1 {CASES}/{CASES} · neuro2 {CASES}/{CASES}"
        )
        results = page.locator("#likert-results")
        expect(results.locator("thead")).to_contain_text("NormGrad")
        expect(results.locator("thead")).to_contain_text("Grad-CAM")
        for reader in ("neuro1", "neuro2"):
            cells = results.locator("tbody tr", has_text=reader).locator("td")
            for column, mean in enumerate(_means_by_method(study, reader)):
                expect(cells.nth(column)).to_contain_text(f"{mean:.1f}")
                expect(cells.nth(column)).to_contain_text(f"(n={SCANS})")
        expect(results.locator("tbody tr", has_text="All readers")).to_be_visible()
        # The score distributions as a chart, one series per method.
        wait_for_chart(page, "likert-histogram-chart")
        expect(page.locator("#likert-histogram-figure")).to_have_attribute("data-drawn", "true")
        expect(page.locator("#likert-histograms")).to_be_hidden()
        response = page.request.get(
            f"{live_server.url}/api/v1/modelops/likert-studies/{study.pk}/scores.csv"
        )
        assert response.ok, response.status
        rows = list(csv.DictReader(io.StringIO(response.text())))
        got = {(row["reader"], int(row["position"])): int(row["score"]) for row in rows}
        assert [got["neuro1", p] for p in range(CASES)] == [3, 1, 4, 3, 2, 2]
        assert [got["neuro2", p] for p in range(CASES)] == [4, 2, 3, 3, 4, 1]
        assert {row["method"] for row in rows} == {"normgrad", "gradcam"}
    finally:
        for context in contexts:
            context.close()
    console.assert_clean()


def test_a_closed_study_is_read_only(live_server, study, page, console):
    """Scores given before the study closed are shown; 1-4 and undo change nothing."""
    from modelops.likert.services import likert_score_set, likert_study_close

    reader = study.readers.get(username="neuro1")
    likert_score_set(study=study, reader=reader, position=0, score=4)
    likert_study_close(study=study)
    log_in(page, live_server.url, "neuro1", "pw-neuro1")
    page.goto(f"{live_server.url}/likert/{study.pk}/score/")
    section = page.locator("#likert-reader")
    expect(section).to_have_attribute("data-loaded", "true", timeout=30_000)
    expect(section).to_have_attribute("data-read-only", "true")
    expect(page.locator("#likert-closed")).to_contain_text("closed")
    _expect_case(page, 1, 1)
    expect(page.locator('#likert-scale button[data-score="3"]')).to_be_disabled()
    page.keyboard.press("3")
    expect(page.locator("#likert-message")).to_contain_text("closed")
    page.keyboard.press("ArrowLeft")
    _expect_case(page, 0, 1)
    expect(page.locator("#likert-current")).to_have_text("Your score: 4 (excellent)")
    assert _scores(study, "neuro1") == [4] + [None] * (CASES - 1)
    console.assert_clean()


def test_a_score_outlives_a_lost_connection_and_a_closed_study_turns_read_only(
    live_server, study, page, console
):
    """A score the server never got is kept and sent again; when the coordinator closes the
    study while the page is open, the next score gets a 409 and the page shows what was kept."""
    from modelops.likert.services import likert_study_close

    scores_api = re.compile(r"/api/v1/modelops/likert-studies/\d+/scores/$")
    console.allow(r"request failed: POST .*/likert-studies/\d+/scores/ ")
    console.allow(r"net::ERR_FAILED")
    console.allow(r"status of 409 \(Conflict\) \(.*/api/v1/modelops/likert-studies/\d+/scores/\)")
    log_in(page, live_server.url, "neuro1", "pw-neuro1")
    page.goto(f"{live_server.url}/likert/{study.pk}/score/")
    expect(page.locator("#likert-reader")).to_have_attribute("data-loaded", "true", timeout=30_000)
    _expect_case(page, 0, 0)

    page.route(scores_api, lambda route: route.abort())
    page.keyboard.press("4")
    expect(page.locator("#likert-save")).to_have_attribute("data-state", "retrying")
    expect(page.locator("#likert-message")).to_contain_text("not saved yet")
    _expect_case(page, 1, 1)
    page.unroute(scores_api)
    _expect_saved(page)
    expect(page.locator("#likert-message")).to_be_empty()
    assert _scores(study, "neuro1")[:2] == [4, None]

    likert_study_close(study=study)
    page.keyboard.press("2")
    expect(page.locator("#likert-reader")).to_have_attribute("data-read-only", "true")
    expect(page.locator("#likert-message")).to_contain_text("closed")
    expect(page.locator("#likert-progress")).to_have_text(f"1 of {CASES} scored")
    expect(page.locator('#likert-scale button[data-score="4"]')).to_be_disabled()
    assert _scores(study, "neuro1")[:2] == [4, None]
    console.assert_clean()

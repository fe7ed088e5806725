"""The saliency overlay in the viewer, in the browser, with its maps computed by a real Celery
worker on the ``train`` queue from a real (small, untrained) scan model.

A reader's reading view offers nothing of the model until a coordinator releases the approved
model's output for the reader's scans on the model's page; then the reader turns the overlay on
(T), waits while the worker computes the maps, and scrolls: every slice shows its own map over
it, through zoom; they change the method, the class and the opacity and turn it off again. Once
the coordinator withdraws the release, the reader's view has no model output again. An ML
engineer opens any scan's page from a link with the model, class and method chosen, and sees the
overlay at once; a coordinator's scan page has the viewer and nothing of the model.

Needs PostgreSQL, Redis, Node/npm for the frontend build and Debian's Chromium.
Run: `uv run pytest tests/e2e/test_overlay_browser.py`.
"""

import hashlib
import re
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import celery_worker_env, celery_worker_spawn, celery_worker_stop
from tests.e2e.browser import canvas_is_drawn, log_in

pytestmark = pytest.mark.worker

SIZE = 64  # phantom pixels
MODEL_SIZE = 32  # the model's input


@pytest.fixture
def train_worker(worker, worker_data_dir):
    """A real worker on the ``train`` queue for the test."""
    process = celery_worker_spawn(
        celery_worker_env(worker_data_dir),
        queues="train",
        log_path=worker_data_dir / "overlay-train-worker.log",
        name="overlay-train",
    )
    yield process
    celery_worker_stop(process)


def _import_phantom_scans(tmp_path, scans: int = 2) -> list:
    from annotations.models import Scan
    from annotations.phantoms import write_phantoms
    from tests.annotations.factories import run_import

    write_phantoms(tmp_path / "phantoms", scans=scans, seed=8, size=SIZE)
    report = run_import(tmp_path / "phantoms", center="Center T", split="test")
    assert report.imported_scans == scans, report
    return list(Scan.objects.filter(center__name="Center T").order_by("id"))


def _approved_small_model(registry):
    """A real small scan model at 32 px, saved where the registry's first version points."""
    import keras

    from modelops.ml.model import build_backbone, build_scan_model, build_sequence_head
    from modelops.models import ModelStatus
    from modelops.paths import data_path

    version = registry["models"][0]
    snapshot = version.snapshot
    snapshot.image_size = MODEL_SIZE
    snapshot.save()
    keras.utils.set_random_seed(0)
    model = build_scan_model(
        build_backbone("small", MODEL_SIZE),
        build_sequence_head(256, rnn_units=8, attention_units=8),
    )
    model.save(data_path(version.artifact))
    version.artifact_sha256 = hashlib.sha256(data_path(version.artifact).read_bytes()).hexdigest()
    version.status = ModelStatus.APPROVED
    version.save()
    return version


@pytest.fixture
def world(worker, tmp_path):
    """Two imported test scans, neuro1's scan-level read of the first, an approved model."""
    from annotations.models import ReadLevel
    from annotations.reading.services import read_assign
    from tests.modelops.registry_factories import seed_registry

    registry = seed_registry()
    scans = _import_phantom_scans(tmp_path)
    read = read_assign(scan=scans[0], reader=registry["reader"], level=ReadLevel.SCAN)
    return {**registry, "scans": scans, "read": read, "model": _approved_small_model(registry)}


def _open_read(page, base_url: str, read) -> None:
    page.goto(f"{base_url}/reading/{read.pk}/")
    expect(page.locator("#reader[data-prefetched]")).to_have_count(1, timeout=30_000)


def _wait_for_overlay(page, timeout_s: float = 120) -> None:
    """Until the panel has loaded its maps (the worker computes them meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.locator("#model-output[data-loaded]").count():
            return
        state = page.locator("#model-output-state").inner_text()
        assert "could not" not in state, state
        time.sleep(0.5)
    raise AssertionError(f"no overlay: {page.locator('#model-output-state').inner_text()}")


def _shown(page) -> str:
    return page.locator("#map-overlay").get_attribute("data-shown") or ""


def _release(page, base_url: str, model, button: str) -> None:
    """The coordinator releases (or withdraws) the model's output for Center T's scans."""
    log_in(page, base_url, "coordinator", "pw-coordinator")
    page.goto(f"{base_url}/models/versions/{model.pk}/")
    row = page.locator("#release-table tr", has_text="Center T")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=button).click()
    expect(page.locator("#release-message")).not_to_have_text("")


def test_a_reader_lays_released_maps_over_their_scan(
    live_server, world, train_worker, browser, console
):
    base = live_server.url
    coordinator = browser.new_context()
    reader = browser.new_context(viewport={"width": 1280, "height": 900})
    for context in (coordinator, reader):
        context.set_default_timeout(15_000)
    page = reader.new_page()
    console.attach(page)
    log_in(page, base, "neuro1", "pw-neuro1")
    _open_read(page, base, world["read"])
    assert page.locator("#model-output").count() == 0

    coordination = coordinator.new_page()
    console.attach(coordination)
    _release(coordination, base, world["model"], "Release")
    page.reload()
    _open_read(page, base, world["read"])
    panel = page.locator("#model-output")
    expect(panel).to_contain_text(world["model"].name)
    page.keyboard.press("t")
    _wait_for_overlay(page)

    # Every slice shows its own map, through scrolling and zoom.
    start = int(page.locator("#reader").get_attribute("data-current"))
    expect(page.locator("#map-overlay")).to_have_attribute("data-shown", str(start))
    assert canvas_is_drawn(page, "#map-overlay")
    for step in (1, 2, 3):
        page.keyboard.press("ArrowUp")
        expect(page.locator("#map-overlay")).to_have_attribute("data-shown", str(start + step))
    before = page.locator("#map-overlay").evaluate("e => e.style.transform")
    page.locator("#viewer").hover()
    page.keyboard.down("Control")
    page.mouse.wheel(0, -120)
    page.keyboard.up("Control")
    expect(page.locator("#map-overlay")).not_to_have_attribute(
        "style", re.compile(re.escape(before))
    )
    expect(page.locator("#model-output-scores")).to_contain_text("Any")

    # Method, class and opacity; off and on again.
    first_loaded = panel.get_attribute("data-loaded")
    page.select_option("#model-output-method", "gradcam")
    expect(panel).not_to_have_attribute("data-loaded", first_loaded)
    _wait_for_overlay(page)
    gradcam_any = panel.get_attribute("data-loaded")
    page.select_option("#model-output-class", "sdh")
    _wait_for_overlay(page)
    expect(panel).to_have_attribute("data-loaded", re.compile(r"\|gradcam$"))
    assert panel.get_attribute("data-loaded") != gradcam_any  # the maps of SDH, computed now
    page.locator("#model-output-opacity").fill("40")
    assert page.locator("#map-overlay").evaluate("e => e.style.opacity") == "0.4"
    page.keyboard.press("t")
    expect(page.locator("#map-overlay")).to_be_hidden()
    page.keyboard.press("t")
    expect(page.locator("#map-overlay")).to_be_visible()

    # Withdrawn: the reader's view has nothing of the model again.
    _release(coordination, base, world["model"], "Withdraw")
    page.reload()
    _open_read(page, base, world["read"])
    assert page.locator("#model-output").count() == 0
    coordinator.close()
    reader.close()
    console.assert_clean()


def test_an_engineer_opens_any_scan_with_the_overlay(live_server, world, jobs_queued, page):
    """The maps are made here by the job's own code (the worker's part is the test above)."""
    from django.contrib.auth.models import User

    from modelops.scan_saliency.services import scan_saliency_execute, scan_saliency_request

    base = live_server.url
    scan = world["scans"][1]
    engineer = User.objects.get(username="mlengineer")
    run, _ = scan_saliency_request(
        model_version=world["model"], scan=scan, label="any", requested_by=engineer
    )
    assert scan_saliency_execute(run_id=run.pk).status == "succeeded"
    log_in(page, base, "mlengineer", "pw-mlengineer")
    page.goto(f"{base}/study/scans/{scan.pk}/?model={world['model'].pk}&class=any&slice=3")
    expect(page.locator("#scan-viewer[data-loaded]")).to_have_count(1, timeout=30_000)
    _wait_for_overlay(page)
    expect(page.locator("#map-overlay")).to_have_attribute("data-shown", "3")
    assert canvas_is_drawn(page, "#map-overlay")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#map-overlay")).to_have_attribute("data-shown", "2")
    page.context.clear_cookies()

    log_in(page, base, "coordinator", "pw-coordinator")
    page.goto(f"{base}/study/scans/{scan.pk}/")
    expect(page.locator("#scan-viewer[data-prefetched]")).to_have_count(1, timeout=30_000)
    assert page.locator("#model-output").count() == 0

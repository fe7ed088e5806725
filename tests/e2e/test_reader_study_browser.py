"""Two neuroradiologists read four cases of a reader study in the browser, once per modality
(unaided, aided with the model's scores, aided with scores and the saliency overlay), one with
keys and one with the mouse; the aided sessions show the model panel (and the overlay), the
unaided ones nothing of the model, in the page and in every answer the browser got. The
worklist points a reader to the study. Before any read opens, the coordinator edits the design
on the study's page (the list page's form, prefilled; a refused change says why; a saved one
draws the plan anew). The coordinator then reads the results: the reader x modality table, the
ROC and reading-time charts, the OR analysis, the CSV of every read; the frozen design has no
edit button.

The world is made with services, not the browser: four imported phantom scans (two with ICH in
the ground truth, two without), a frozen ground-truth version, a model version with frozen
thresholds and its finished output for every scan (scores and overlay PNGs written as the job
writes them: no model runs), and the study created by the service with a washout of 0 days.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
Run: `uv run pytest tests/e2e/test_reader_study_browser.py`.
"""

import csv
import io
import json
import re

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ConsoleLog, canvas_is_drawn, log_in, wait_for_chart

SCANS = 4
SLICES = 3
MODALITIES = ["unaided", "aided_scores", "aided_saliency"]
THRESHOLDS = {"any": 0.4, "iph": 0.5, "ivh": 0.5, "sah": 0.5, "sdh": 0.5, "edh": 0.5}
# Each reader's confidence per modality: [first positive, second positive, first negative,
# second negative] (by case number); "yes" from 50 up. Imperfect on purpose (the OR analysis
# needs variance): the AUCs are reader 1 0.75 / 1.0 / 0.75, reader 2 0.5 / 0.75 / 1.0.
CONFIDENCE = {
    "neuro1": {
        "unaided": [70, 40, 50, 20],
        "aided_scores": [90, 60, 30, 10],
        "aided_saliency": [85, 45, 55, 15],
    },
    "neuro2": {
        "unaided": [60, 30, 40, 50],
        "aided_scores": [80, 55, 60, 20],
        "aided_saliency": [75, 65, 45, 25],
    },
}
MODEL_WORDS = ("model output", "threshold", "saliency", "scores")


def _scores(index: int) -> dict:
    """The model's scan scores of scan ``index``: recognisable values."""
    return {"any": round(0.111 + 0.2 * index, 3), "iph": 0.6123, "ivh": 0.0456, "sah": 0.0789,
            "sdh": 0.0321, "edh": 0.0135}  # fmt: skip


def _import_phantom_scans(tmp_path) -> list:
    """Four 64-pixel phantom scans, three middle slices each, imported as a site would."""
    from tests.annotations.factories import import_middle_slices

    return import_middle_slices(tmp_path, SCANS, seed=7, center="Center R", split="train")


def _finished_output(model, scan, index: int, user):
    """The model's output of a scan as the job leaves it: scores and every slice's overlay."""
    from django.utils import timezone

    from annotations.models import JobStatus
    from modelops.models import ScanSaliencyRun
    from modelops.reader_study.services import OVERLAY_METHOD
    from modelops.saliency.render import overlay_png, write_whole
    from modelops.scan_saliency.selectors import scan_saliency_png

    now = timezone.now()
    run = ScanSaliencyRun.objects.create(
        model_version=model, scan=scan, label="any", scores=_scores(index),
        status=JobStatus.SUCCEEDED, progress=1.0, created_by=user, started_at=now, finished_at=now,
    )  # fmt: skip
    y, x = np.mgrid[0:16, 0:16] / 15
    blob = np.exp(-((x - 0.4) ** 2 + (y - 0.5) ** 2) / (2 * 0.15**2)).astype(np.float32)
    for position in range(SLICES):
        path = scan_saliency_png(run, OVERLAY_METHOD, position)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(path, overlay_png(blob))
    return run


@pytest.fixture
def study(transactional_db, tmp_path):
    """The open study of four cases for neuro1 and neuro2 (passwords "pw-<name>")."""
    from annotations.ground_truth.services import ground_truth_freeze
    from annotations.reading.services import read_assign
    from modelops.reader_study.models import StudyStatus
    from modelops.reader_study.services import reader_study_create
    from tests.annotations.study_factories import label_and_complete
    from tests.conftest import user_with_role
    from tests.modelops.registry_factories import make_run, make_snapshot, make_version

    coordinator = user_with_role("coordinator", "coordinator")
    engineer = user_with_role("mlengineer", "ml_engineer")
    readers = [user_with_role(name, "neuroradiologist") for name in ("neuro1", "neuro2")]
    labeller = user_with_role("labeller", "neuroradiologist")
    scans = _import_phantom_scans(tmp_path)
    for index, scan in enumerate(scans):
        labels = {1: {"iph": True}} if index % 2 == 0 else None
        label_and_complete(read_assign(scan=scan, reader=labeller), labels)
    version = ground_truth_freeze(name="gt-study", created_by=coordinator)
    snapshot = make_snapshot(version=version, user=engineer)
    model = make_version(run=make_run(snapshot=snapshot, user=engineer), name="m-study")
    model.evaluation = {"thresholds": {c: {"value": v} for c, v in THRESHOLDS.items()}}
    model.save()
    for index, scan in enumerate(scans):
        _finished_output(model, scan, index, engineer)
    created = reader_study_create(
        name="Does the model help?",
        description="Four cases, three modalities.",
        ground_truth_version=version,
        case_count=SCANS,
        readers=readers,
        modalities=MODALITIES,
        model_version=model,
        washout_days=0,
        seed=5,
        created_by=coordinator,
    )
    assert created.status == StudyStatus.OPEN, created.status
    return created


class Responses:
    """Every reader-study read the browser got (JSON bodies: the reads and the answers' echoes,
    taken as they pass, before the page navigates on) and every URL it asked for."""

    READS = re.compile(r"/api/v1/reader-study-reads/\d+/(answer/)?$")

    def __init__(self) -> None:
        self.reads: list[dict] = []
        self.urls: list[str] = []
        # Requests not answered yet (by id), to tell what a page that does not load waits for.
        self.pending: dict[int, str] = {}

    def attach(self, context, page) -> None:
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("request", lambda r: self.pending.__setitem__(id(r), r.url))
        page.on("requestfinished", lambda r: self.pending.pop(id(r), None))
        page.on("requestfailed", lambda r: self.pending.pop(id(r), None))
        context.route(self.READS, self._pass_on)

    def _pass_on(self, route) -> None:
        response = route.fetch()
        if response.ok:
            self.reads.append(response.json())
        route.fulfill(response=response)


def _open_page(browser, console: ConsoleLog, responses: Responses):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    console.attach(page)
    responses.attach(context, page)
    return context, page


def _confidence_for(read_id: int, reader: str, modality: str) -> tuple[bool, int]:
    """The planned answer of a read: its case's rank among positives or negatives."""
    from modelops.reader_study.models import ReaderStudyRead

    read = ReaderStudyRead.objects.select_related("case").get(pk=read_id)
    cases = list(
        read.case.study.cases.filter(reference_any=read.case.reference_any)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    slot = cases.index(read.case_id) + (0 if read.case.reference_any else 2)
    confidence = CONFIDENCE[reader][modality][slot]
    return confidence >= 50, confidence


def _answer_with_keys(page, confidence: int, positive: bool) -> None:
    """Y/N, subtypes on and off, the confidence from the 50 an unset one starts at ([ and ] by
    5, { and } by 1)."""
    page.keyboard.press("y" if positive else "n")
    if positive:
        page.keyboard.press("1")
        page.keyboard.press("4")
        page.keyboard.press("4")  # and off again
    value = 50
    if confidence == value:  # set it: up and down again
        page.keyboard.press("]")
        page.keyboard.press("[")
    while abs(confidence - value) >= 5:
        page.keyboard.press("]" if confidence > value else "[")
        value += 5 if confidence > value else -5
    while value != confidence:
        page.keyboard.press("}" if confidence > value else "{")
        value += 1 if confidence > value else -1
    expect(page.locator("#reader-study-read")).to_have_attribute("data-confidence", str(confidence))


def _answer_with_the_mouse(page, confidence: int, positive: bool) -> None:
    page.locator("#study-any").get_by_role(
        "button", name="Yes (Y)" if positive else "No (N)"
    ).click()
    if positive:
        page.locator("#study-subtypes").get_by_role("button", name="3 SAH").click()
    page.locator("#study-confidence-number").fill(str(confidence))
    expect(page.locator("#reader-study-read")).to_have_attribute("data-confidence", str(confidence))


def _read_session(page, reader: str, responses: Responses, keys: bool) -> str:
    """Answer the four cases of the session on screen; its modality."""
    section = page.locator("#reader-study-read")
    modality = ""
    for position in range(SCANS):
        try:
            expect(section).to_have_attribute("data-loaded", "true", timeout=30_000)
        except AssertionError:
            print("requests still pending:", list(responses.pending.values()))
            print("last requests:", responses.urls[-30:])
            raise
        modality = section.get_attribute("data-modality") or ""
        expect(page.locator("#study-case")).to_have_text(f"Case {position + 1} of {SCANS}")
        read_id = int(section.get_attribute("data-read") or 0)
        assert canvas_is_drawn(page, "#study-viewer canvas"), "the slice rendered as a blank canvas"
        model_panel = page.locator("#study-model")
        if modality == "unaided":
            expect(model_panel).to_have_count(0)
            expect(page.locator("#map-overlay")).to_have_count(0)
            text = page.inner_text("#reader-study-read").lower()
            assert not any(word in text for word in MODEL_WORDS), text
        else:
            index = _scan_index(read_id)
            expect(model_panel.locator('tr[data-class="any"]')).to_contain_text(
                f"{_scores(index)['any'] * 100:.1f}%"
            )
            expect(model_panel.locator('tr[data-class="iph"]')).to_have_attribute(
                "data-positive", "true"
            )
            expect(model_panel.locator('tr[data-class="ivh"]')).to_have_attribute(
                "data-positive", "false"
            )
            if modality == "aided_saliency":
                expect(section).to_have_attribute("data-overlay-loaded", "true", timeout=30_000)
                expect(page.locator("#map-overlay")).to_be_visible()
                page.keyboard.press("t")
                expect(page.locator("#map-overlay")).to_be_hidden()
                page.keyboard.press("t")
                expect(page.locator("#map-overlay")).to_be_visible()
            else:
                expect(page.locator("#map-overlay")).to_have_count(0)
        if position == 0:
            # The viewer's keys: a slice up, a window preset, the help.
            page.keyboard.press("ArrowUp")
            expect(section).to_have_attribute("data-current", "2")
            page.keyboard.press("b")
            expect(page.locator("#window-info")).to_have_text("Brain 40/80")
            page.keyboard.press("h")
            expect(page.locator("#study-help")).to_contain_text("Confidence")
            page.keyboard.press("Escape")
            expect(page.locator("#study-help")).to_be_hidden()
            # Submitting before answering is refused, with the reason.
            page.keyboard.press("Enter")
            expect(page.locator("#study-message")).to_contain_text("any hemorrhage")
        positive, confidence = _confidence_for(read_id, reader, modality)
        if keys:
            _answer_with_keys(page, confidence, positive)
        else:
            _answer_with_the_mouse(page, confidence, positive)
        last = position == SCANS - 1 and section.get_attribute("data-sequence") == str(
            len(MODALITIES)
        )
        if last:
            (
                page.keyboard.press("Enter")
                if keys
                else page.get_by_role("button", name="Submit and next (Enter)").click()
            )
            expect(section).to_have_attribute("data-state", "done")
        else:
            with page.expect_navigation():
                if keys:
                    page.keyboard.press("Enter")
                else:
                    page.get_by_role("button", name="Submit and next (Enter)").click()
    return modality


def _scan_index(read_id: int) -> int:
    """The scan's place among the study's scans (by id): which scores the model gave it."""
    from annotations.models import Scan
    from modelops.reader_study.models import ReaderStudyRead

    read = ReaderStudyRead.objects.select_related("case__scan").get(pk=read_id)
    scans = list(
        Scan.objects.filter(center=read.case.scan.center)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    return scans.index(read.case.scan_id)


def _assert_blind_in_unaided(responses: Responses) -> None:
    """Every read of an unaided session reached the browser with "model": null and nothing
    else of the model; its overlay route answers 404 (checked in the test)."""
    unaided = [body for body in responses.reads if body["session"]["modality"] == "unaided"]
    aided = [body for body in responses.reads if body["session"]["modality"] != "unaided"]
    assert unaided and aided
    for body in unaided:
        assert body["model"] is None
        assert "0.6123" not in json.dumps(body) and "overlay" not in json.dumps(body).replace(
            '"model": null', ""
        )
    for body in aided:
        assert body["model"]["scores"]["IPH"] == 0.6123


def _read_everything(browser, console, responses, base: str, reader: str, keys: bool) -> list[str]:
    """Every session of the reader, from the worklist's pointer to the study on; the order of
    the modalities met."""
    context, page = _open_page(browser, console, responses)
    try:
        log_in(page, base, reader, f"pw-{reader}")
        # The worklist points to the study.
        page.goto(f"{base}/reading/")
        notice = page.locator("#reader-study-notice")
        expect(notice).to_contain_text("Does the model help?")
        with page.expect_navigation():
            notice.get_by_role("link", name="Start").click()
        order = []
        for _ in MODALITIES:
            order.append(_read_session(page, reader, responses, keys))
        page.goto(f"{base}/reader-studies/")
        card = page.locator("#reader-studies .reader-study")
        expect(card).to_contain_text("All your sessions are done")
        expect(card.locator("li")).to_have_count(len(MODALITIES))
        return order
    finally:
        context.close()


def _edit_the_design(browser, console, responses: Responses, base: str, study) -> None:
    """The coordinator changes the description and the washout in the prefilled form (PATCH
    with only those fields), after a change the server refuses (one reader); the plan shows the
    new washout. The washout then goes back to 0 days so that the readers read on at once."""
    context, page = _open_page(browser, console, responses)
    try:
        log_in(page, base, "coordinator", "pw-coordinator")
        page.goto(f"{base}/reader-studies/{study.pk}/")
        expect(page.locator("#reader-study")).to_have_attribute("data-loaded", "true")
        plan = page.locator("#study-plan")
        expect(plan).to_contain_text("0 days between a reader's sessions")
        page.get_by_role("button", name="Edit the design").click()
        form = page.locator("#study-edit-form")
        expect(form.locator("[name=description]")).to_have_value("Four cases, three modalities.")
        expect(form.locator("[name=washout_days]")).to_have_value("0")
        expect(form.locator("[name=seed]")).to_have_value("5")
        expect(form.locator("[name=modalities][value=aided_saliency]")).to_be_checked()
        neuro2 = form.locator("#reader-study-readers").get_by_label("neuro2")
        expect(neuro2).to_be_checked()
        console.allow(rf"status of 400 \(Bad Request\) \(.*/api/v1/reader-studies/{study.pk}/\)")
        neuro2.uncheck()
        form.get_by_role("button", name="Save the design").click()
        expect(form.locator(".message")).to_contain_text(re.compile(r"not saved: .*readers"))
        neuro2.check()
        form.locator("[name=description]").fill("Edited in the browser.")
        form.locator("[name=washout_days]").fill("14")
        with page.expect_request(lambda r: r.method == "PATCH") as patch:
            form.get_by_role("button", name="Save the design").click()
        assert patch.value.post_data_json == {
            "description": "Edited in the browser.",
            "washout_days": 14,
        }
        expect(plan).to_contain_text("14 days between a reader's sessions")
        expect(page.locator("#study-overview")).to_contain_text("Edited in the browser.")
        expect(page.locator("#study-page-message")).to_contain_text("drawn anew")
        expect(form).to_have_count(0)
        page.get_by_role("button", name="Edit the design").click()
        expect(form.locator("[name=washout_days]")).to_have_value("14")
        form.locator("[name=washout_days]").fill("0")
        form.get_by_role("button", name="Save the design").click()
        expect(plan).to_contain_text("0 days between a reader's sessions")
    finally:
        context.close()
    study.refresh_from_db()
    assert (study.description, study.washout_days, study.plan_frozen_at) == (
        "Edited in the browser.",
        0,
        None,
    )


def test_two_readers_read_unaided_and_aided_and_the_coordinator_reads_the_results(
    live_server, study, browser, console
):
    from modelops.reader_study.models import ReaderStudyRead

    responses = Responses()
    _edit_the_design(browser, console, responses, live_server.url, study)
    orders = {
        "neuro1": _read_everything(
            browser, console, responses, live_server.url, "neuro1", keys=True
        ),
        "neuro2": _read_everything(
            browser, console, responses, live_server.url, "neuro2", keys=False
        ),
    }
    assert sorted(orders["neuro1"]) == sorted(orders["neuro2"]) == sorted(MODALITIES)
    assert orders["neuro1"][0] != orders["neuro2"][0], "the readers meet the modalities in turn"
    _assert_blind_in_unaided(responses)

    reads = ReaderStudyRead.objects.filter(session__study=study).select_related("session__reader")
    assert reads.count() == 2 * SCANS * len(MODALITIES)
    for read in reads:
        assert read.answered_at is not None and read.opened_at is not None
        assert 0 <= read.active_time_s <= (read.answered_at - read.opened_at).total_seconds()
        positive, confidence = _confidence_for(
            read.pk, read.session.reader.username, read.session.modality
        )
        assert (read.any_ich, read.confidence) == (positive, confidence)
        if read.session.reader.username == "neuro1":
            assert (read.iph, read.sdh) == (positive, False)
        else:
            assert read.sah == positive
    # An unaided session's overlay route is a 404 for its own reader too.
    context, page = _open_page(browser, console, responses)
    try:
        log_in(page, live_server.url, "neuro1", "pw-neuro1")
        unaided = reads.filter(session__reader__username="neuro1", session__modality="unaided")[0]
        response = page.request.get(
            f"{live_server.url}/api/v1/reader-study-reads/{unaided.pk}/overlay/0.png"
        )
        assert response.status == 404
    finally:
        context.close()

    # The coordinator reads the results.
    context, page = _open_page(browser, console, responses)
    try:
        log_in(page, live_server.url, "coordinator", "pw-coordinator")
        page.goto(f"{live_server.url}/reader-studies/")
        # The form refuses a design the service refuses, saying why (one reader only).
        console.allow(r"status of 400 \(Bad Request\) \(.*/api/v1/reader-studies/\)")
        form = page.locator("#reader-study-form")
        expect(form.locator("#reader-study-counts")).to_have_text(
            "2 scans with hemorrhage, 2 without"
        )
        form.get_by_label("Name").fill("Too few readers")
        form.locator("#reader-study-readers").get_by_label("neuro1").check()
        form.get_by_role("button", name="Create the study").click()
        expect(form.locator("#reader-study-form-message")).to_contain_text(
            re.compile(r"not created: .*readers")
        )
        with page.expect_navigation():
            page.locator("#reader-study-table").get_by_role("link", name="Open").click()
        section = page.locator("#reader-study")
        expect(section).to_have_attribute("data-loaded", "true", timeout=30_000)
        expect(page.locator("#study-plan")).to_contain_text("frozen")
        expect(page.locator("#study-design-frozen")).to_contain_text("The design is frozen")
        expect(page.get_by_role("button", name="Edit the design")).to_have_count(0)
        expect(page.locator("#study-progress-table tbody tr")).to_have_count(2 * len(MODALITIES))
        table = page.locator("#study-results-table tbody tr")
        expect(table).to_have_count(2 * len(MODALITIES))
        expected_auc = {
            ("neuro1", "Unaided"): "0.750",
            ("neuro1", "Aided: model scores"): "1.000",
            ("neuro2", "Unaided"): "0.500",
            ("neuro2", "Aided: scores and saliency overlay"): "1.000",
        }
        for (reader, modality), auc in expected_auc.items():
            row = table.filter(has_text=reader).filter(
                has=page.get_by_role("cell", name=modality, exact=True)
            )
            expect(row.locator("td").nth(2)).to_have_text(auc)
        expect(page.locator("#study-results-readers")).to_contain_text("neuro1, neuro2")
        analysis = page.locator("#study-analysis")
        expect(analysis.locator("section.comparison")).to_have_count(2)
        expect(analysis).to_contain_text("Reader-averaged AUC was")
        expect(analysis).to_contain_text("random readers, random cases")
        expect(analysis).to_contain_text(re.compile(r"F\(1, [\d.]+\) = [\d.]+, p"))
        expect(page.locator("#study-overall")).to_contain_text("AUC: F(2, ")
        expect(page.locator("#study-reading-time")).to_contain_text("ratio")
        wait_for_chart(page, "study-roc-average")
        wait_for_chart(page, "study-roc-reader-0")
        wait_for_chart(page, "study-roc-reader-1")
        wait_for_chart(page, "study-time-chart")
        href = page.locator("#study-csv").get_attribute("href")
        response = page.request.get(f"{live_server.url}{href}")
        assert response.ok, response.status
        rows = list(csv.DictReader(io.StringIO(response.text())))
        assert len(rows) == 2 * SCANS * len(MODALITIES)

        # Closing asks first; the page then shows the study closed, without the button.
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.get_by_role("button", name="Close the study").click()
        expect(section).to_have_attribute("data-status", "closed", timeout=30_000)
        expect(page.get_by_role("button", name="Close the study")).to_have_count(0)
        study.refresh_from_db()
        assert study.status == "closed" and study.closed_at is not None
    finally:
        context.close()
    console.assert_clean()

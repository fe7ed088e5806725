"""A coordinator imports DICOM through the browser: upload (zip or folder, in chunks), a real
worker, the live batch page, the final report, and the study overview that follows it.

Needs PostgreSQL and Redis (the test settings), Node/npm for the frontend build and Debian's
Chromium. Run: `uv run pytest tests/e2e`.
"""

import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotations.ingest.services import center_get_or_create, import_batch_create
from annotations.models import Center, ImportBatch
from tests.e2e.browser import BATCH_PAGE, log_in, wait_for_batch_end

NOT_DICOM = "notes.txt"


@pytest.fixture
def phantom_zip(tmp_path) -> tuple[Path, int]:
    """Two 64-pixel phantom scans and a text file in one zip; returns it and the scans' slices."""
    from annotations.phantoms import write_phantoms

    out = tmp_path / "phantoms"
    write_phantoms(out, scans=2, seed=7, size=64)
    truth = json.loads((out / "truth.json").read_text())
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for scan in truth:
            for item in scan["slices"]:  # file names follow each scan's vendor habit, .dcm or not
                path = out / scan["scan"] / item["file"]
                zf.write(path, path.relative_to(out).as_posix())
        zf.writestr(NOT_DICOM, "Scanned on the night shift; ask Dr. Who about series 3.\n")
    return archive, sum(scan["n_slices"] for scan in truth)


def test_coordinator_imports_a_zip_in_the_browser(
    live_server, worker, worker_data_dir, coordinator, phantom_zip, page, console
):
    archive, slices = phantom_zip
    log_in(page, live_server.url, "coord", "pw-coord")

    page.goto(f"{live_server.url}/study/import/")
    form = page.locator("#import-form")
    form.locator("input[name=center]").fill("Browser Center")
    form.locator("select[name=split]").select_option("validation")
    page.set_input_files("input[name=files]", archive)
    batch_loads: list[str] = []
    page.on("load", lambda p: batch_loads.append(p.url) if BATCH_PAGE.search(p.url) else None)
    form.get_by_role("button", name="Import").click()

    wait_for_batch_end(page, worker_data_dir / "worker.log")
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "warning")
    expect(page.locator("#batch-status-label")).to_have_text("Succeeded with warnings")
    expect(page.locator("#imported-scans")).to_have_text("2 scans")
    rejected = page.locator("#report-rejected tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.first).to_contain_text(NOT_DICOM)
    expect(rejected.first).to_contain_text("not a DICOM file")
    expect(page.locator("#batch-cancel")).to_have_count(0)
    assert len(batch_loads) <= 2, f"the batch page kept reloading: {batch_loads}"

    page.goto(f"{live_server.url}/study/")
    row = page.locator('#centers tr[data-center="Browser Center"]')
    cells = row.locator("td")
    expect(cells.nth(2)).to_have_text("2")
    expect(cells.nth(3)).to_have_text(str(slices))
    expect(row.locator("select[name=split]")).to_have_value("validation")
    validation = page.locator('.totals [data-split="validation"] .big').inner_text()
    assert int(validation.split()[0]) >= 2, validation
    console.assert_clean()


def test_a_folder_upload_resumes_after_a_broken_chunk(
    live_server, worker, worker_data_dir, coordinator, tmp_path, page, console
):
    """Over 50 files go up in 3 requests; the 2nd breaks; Import again sends only the rest."""
    from annotations.phantoms import write_phantoms

    folder = tmp_path / "export"
    write_phantoms(folder, scans=2, seed=11, size=64)
    truth = json.loads((folder / "truth.json").read_text())
    (folder / "truth.json").unlink()  # the folder holds only the scans' files
    files = sum(scan["n_slices"] for scan in truth)
    assert 50 < files <= 75, "the test needs three chunks of at most 25 files"

    calls = {"create": 0, "files": 0}

    def count_create(route):
        calls["create"] += 1
        route.continue_()

    def break_second_chunk(route):
        calls["files"] += 1
        if calls["files"] == 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/import-batches/create/", count_create)
    page.route("**/api/v1/import-batches/*/files/", break_second_chunk)
    console.allow(r"/files/")  # the request the test breaks
    log_in(page, live_server.url, "coord", "pw-coord")
    page.goto(f"{live_server.url}/study/import/")
    form = page.locator("#import-form")
    import_button = form.get_by_role("button", name="Import")
    form.locator("input[name=center]").fill("Folder Center")
    page.set_input_files("input[name=folder]", folder)
    import_button.click()

    message = page.locator("#upload-message")
    stopped = rf"The upload stopped after 25 of {files} files: .*Press Import to try again"
    expect(message).to_have_text(re.compile(stopped))
    expect(message).to_have_class(re.compile(r"\berror\b"))
    expect(import_button).to_be_enabled()

    import_button.click()
    wait_for_batch_end(page, worker_data_dir / "worker.log")
    assert calls == {"create": 1, "files": 4}, calls  # one batch; chunk 1 was not sent again
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#imported-scans")).to_have_text("2 scans")
    page.goto(f"{live_server.url}/study/")
    cells = page.locator('#centers tr[data-center="Folder Center"] td')
    expect(cells.nth(3)).to_have_text(str(files))
    console.assert_clean()


def test_a_refused_import_shows_why_and_gives_the_form_back(
    live_server, coordinator, tmp_path, page, console
):
    console.allow(r"status of 400")  # the refused request, on purpose
    log_in(page, live_server.url, "coord", "pw-coord")
    page.goto(f"{live_server.url}/study/import/")
    form = page.locator("#import-form")
    center = form.locator("input[name=center]")
    import_button = form.get_by_role("button", name="Import")
    message = page.locator("#upload-message")

    center.fill("Some Center")
    import_button.click()
    expect(message).to_have_text(re.compile("Choose DICOM files"))
    expect(message).to_have_class(re.compile(r"\berror\b"))

    (tmp_path / "one.dcm").write_bytes(b"not really")
    page.set_input_files("input[name=files]", tmp_path / "one.dcm")
    center.evaluate("el => { el.value = 'x'.repeat(65); }")  # maxlength only stops typing
    import_button.click()
    expect(message).to_have_text(re.compile(r"Could not open the import: .*center.*64 characters"))
    expect(message).to_have_class(re.compile(r"\berror\b"))
    expect(import_button).to_be_enabled()
    expect(center).to_be_enabled()
    assert page.url.endswith("/study/import/")
    assert not Center.objects.filter(name__startswith="xxx").exists()
    console.assert_clean()


def test_coordinator_cancels_a_batch_that_never_started(live_server, coordinator, page, console):
    center = center_get_or_create(name="Cancel Center", split="train")
    batch = import_batch_create(
        center=center, split=None, source=ImportBatch.Source.UPLOAD, user=coordinator
    )
    log_in(page, live_server.url, "coord", "pw-coord")
    page.goto(f"{live_server.url}/study/imports/{batch.pk}/")
    cancel = page.locator("#batch-cancel")

    page.once("dialog", lambda dialog: dialog.dismiss())
    cancel.click()
    page.wait_for_timeout(1500)  # a poll goes by; nothing changes
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "pending")

    page.once("dialog", lambda dialog: dialog.accept())
    cancel.click()
    # Canceled at once (no task was queued): the page reloads into its final state.
    expect(page.locator("#batch-status-label")).to_have_text("Canceled")
    expect(page.locator("#batch-cancel")).to_have_count(0)
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "canceled")
    batch.refresh_from_db()
    assert batch.status == "canceled"
    console.assert_clean()

"""The ML engineer's pages in the browser: the workspace lists snapshots, runs and models; a
run is started through the form (queued: no training worker here) and canceled on its page;
a model's report shows Table 2 and draws its ROC curves, is approved, and is compared with
another. Form errors show the server's message next to the form.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in, wait_for_chart

RUN_PAGE = re.compile(r"/models/runs/[0-9a-f-]{36}/$")


@pytest.fixture
def registry(transactional_db):
    from tests.modelops.registry_factories import seed_registry

    return seed_registry()


def test_the_engineer_starts_and_cancels_a_run(live_server, registry, page, console):
    from modelops.models import ModelVersion, TrainingRun

    console.allow(r"status of 400 \(Bad Request\) \(.*/api/v1/modelops/(snapshots|runs)/\)")
    log_in(page, live_server.url, "mlengineer", "pw-mlengineer")
    page.get_by_role("link", name="Models").click()
    snapshot = registry["snapshot"]

    row = page.locator(f'#snapshots-table tr[data-snapshot="{snapshot.pk}"]')
    expect(row).to_contain_text("gt-v1-128px")
    expect(row).to_contain_text("240 scans · 7200 slices · 108 positive")
    expect(row.locator("code").nth(1)).to_have_text(snapshot.files_sha256[:12])
    building = page.locator(f'#snapshots-table tr[data-snapshot="{registry["building"].pk}"]')
    expect(building).to_contain_text("120 / 400 scans")
    expect(page.locator("#runs-table tbody tr")).to_have_count(3)
    expect(page.locator("#versions-table tbody tr")).to_have_count(2)
    expect(page.locator("#refresh-note")).to_contain_text("Refreshing every 3 s")
    # a worker takes the queued run: the table follows without a reload
    queued = registry["runs"][2]
    TrainingRun.objects.filter(pk=queued.pk).update(status="running", progress=0.4)
    queued_row = page.locator(f'#runs-table tr[data-run="{queued.pk}"]')
    expect(queued_row).to_have_attribute("data-status", "running", timeout=10_000)
    expect(queued_row).to_contain_text("40%")

    # a new snapshot: out of range, then one that exists already
    form = page.locator("#snapshot-form")
    expect(form.locator("select[name=ground_truth] option")).to_have_count(1)
    expect(form.locator("select[name=ground_truth]")).to_contain_text("gt-v1")
    form.locator("input[name=image_size]").fill("2000")
    form.get_by_role("button", name="Create snapshot").click()
    expect(page.locator("#snapshot-message")).to_contain_text("image_size")
    expect(page.locator("#snapshot-message")).to_contain_text("1024")
    expect(page.locator("#snapshot-message")).to_have_class(re.compile("error"))
    form.locator("input[name=image_size]").fill("128")
    form.get_by_role("button", name="Create snapshot").click()
    expect(page.locator("#snapshot-message")).to_contain_text(
        "This snapshot exists already: gt-v1-128px (succeeded)"
    )

    # the building snapshot is canceled from its row, after a confirmation
    building = page.locator(f'#snapshots-table tr[data-snapshot="{registry["building"].pk}"]')
    page.once("dialog", lambda dialog: dialog.accept())
    building.get_by_role("button", name="Cancel build").click()
    expect(page.locator("#snapshot-message")).to_contain_text("cancel requested")
    expect(building).to_have_attribute("data-status", "canceling")
    expect(building.get_by_role("button", name="Cancel build")).to_have_count(0)

    # the training form: every field from the API, the image size following the snapshot
    run_form = page.locator("#run-form")
    expect(run_form).to_have_attribute("data-ready", "true")
    expect(run_form.locator("select[name=backbone]")).to_have_value("small")
    expect(run_form.locator("input[name=augment]")).to_be_checked()
    expect(run_form.locator("input[name=image_size]")).to_have_value("128")
    run_form.locator("input[name=learning_rate]").fill("5")
    run_form.get_by_role("button", name="Start run").click()
    expect(page.locator("#run-message")).to_contain_text("learning_rate must lie in (0, 1]")

    run_form.get_by_role("button", name="Reset to defaults").click()
    expect(run_form.locator("input[name=learning_rate]")).to_have_value("0.001")
    run_form.locator("input[name=name]").fill("e2e-run")
    run_form.locator("input[name=epochs]").fill("2")
    run_form.locator("select[name=rnn]").select_option("lstm")
    run_form.locator("input[name=augment]").uncheck()
    run_form.get_by_role("button", name="Start run").click()

    page.wait_for_url(RUN_PAGE)
    run = TrainingRun.objects.get(name="e2e-run")
    assert run.config["epochs"] == 2 and run.config["rnn"] == "lstm"
    assert run.config["augment"] is False and run.config["image_size"] == 128
    expect(page.locator("#run-status")).to_have_text("pending")
    expect(page.locator('#config-table tr[data-key="rnn"] code')).to_have_text("lstm")
    expect(page.locator("#run-log")).to_contain_text("The log starts when a worker takes the run")

    page.get_by_role("button", name="Cancel run…").click()
    dialog = page.locator("#cancel-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel run").click()
    expect(page.locator("#run-status")).to_have_text("canceled")
    expect(page.locator("#run-message")).to_have_text("Canceled before it started.")
    expect(page.get_by_role("button", name="Cancel run…")).to_be_hidden()
    run.refresh_from_db()
    assert run.status == "canceled"

    # fine-tuning: choosing a model to start from takes its architecture and end-to-end mode
    page.goto(f"{live_server.url}/models/")
    expect(run_form).to_have_attribute("data-ready", "true")
    run_form.locator("input[name=rnn_units]").fill("8")
    baseline = ModelVersion.objects.get(name="baseline-1")
    run_form.locator("select[name=initial_model]").select_option(str(baseline.pk))
    expect(run_form.locator("select[name=mode]")).to_have_value("end_to_end")
    expect(run_form.locator("input[name=rnn_units]")).to_have_value("64")
    run_form.locator("input[name=name]").fill("e2e-finetune")
    run_form.get_by_role("button", name="Start run").click()
    page.wait_for_url(RUN_PAGE)
    expect(page.locator("#run-initial-model")).to_contain_text(
        "End-to-end fine-tuning of baseline-1"
    )
    tuned = TrainingRun.objects.get(name="e2e-finetune")
    assert tuned.initial_model.name == "baseline-1" and tuned.config["mode"] == "end_to_end"
    console.assert_clean()


def test_the_run_page_follows_a_running_run(live_server, registry, page, console):
    from modelops.models import TrainingRun

    run = registry["runs"][2]  # queued
    log_in(page, live_server.url, "mlengineer", "pw-mlengineer")
    page.goto(f"{live_server.url}/models/runs/{run.pk}/")
    expect(page.locator("#run-status")).to_have_text("pending")

    TrainingRun.objects.filter(pk=run.pk).update(
        status="running",
        stage="cnn",
        epoch=1,
        epochs=2,
        step=3,
        steps=10,
        progress=0.25,
        worker="train@gpu-1",
        step_losses=[["cnn", 1, n, 1 / n] for n in range(1, 4)],
        history=[{"stage": "cnn", "epoch": 1, "loss": 0.5, "val_auroc_any": 0.8}],
    )
    expect(page.locator("#run-status")).to_have_text("running")
    expect(page.locator("#run-epoch")).to_have_text("1 / 2")
    expect(page.locator("#run-step")).to_have_text("3 / 10")
    expect(page.locator("#run-percent")).to_have_text("25%")
    expect(page.locator("#run-worker")).to_have_text("train@gpu-1")
    expect(page.locator("#history-table tbody tr")).to_have_count(1)
    wait_for_chart(page, "chart-steps")

    page.get_by_role("button", name="Cancel run…").click()
    page.locator("#cancel-dialog").get_by_role("button", name="Cancel run").click()
    expect(page.locator("#run-status")).to_have_text("canceling")
    expect(page.locator("#cancel-message")).to_contain_text("stops after its current step")
    expect(page.locator("#run-polling")).to_contain_text("Updating every 2 s")
    console.assert_clean()


def test_a_finished_run_shows_its_curves_and_log(live_server, registry, page, console):
    from modelops.paths import run_dir

    run = registry["runs"][0]
    log_path = run_dir(run.pk) / "train.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("".join(f"epoch {n}: loss <{n}>\n" for n in range(1, 200)))
    log_in(page, live_server.url, "mlengineer", "pw-mlengineer")
    page.goto(f"{live_server.url}/models/runs/{run.pk}/")

    expect(page.locator("#run")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#run-epoch")).to_have_text("3 / 3")
    expect(page.locator("#history-table tbody tr")).to_have_count(6)
    wait_for_chart(page, "chart-steps")
    wait_for_chart(page, "chart-epochs")
    log = page.locator("#run-log")
    expect(log).to_contain_text("epoch 199: loss <199>")  # text, never markup
    assert log.evaluate("pre => pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 2")
    page.get_by_role("link", name="baseline-1").click()
    expect(page.locator("h1")).to_contain_text("Model baseline-1")
    console.assert_clean()


def test_the_engineer_reviews_approves_and_compares_models(live_server, registry, page, console):
    from modelops.models import ModelVersion

    console.allow(r"status of 409 \(Conflict\) \(.*/status/\)")
    first, second = registry["models"]
    log_in(page, live_server.url, "mlengineer", "pw-mlengineer")
    page.goto(f"{live_server.url}/models/")
    page.locator("#versions-table").get_by_role("link", name="baseline-1").click()

    row = first.evaluation["splits"]["test"]["rows"][0]
    auroc = row["auroc"]
    text = f"{auroc['value'] * 100:.1f}% ({auroc['lower'] * 100:.1f}–{auroc['upper'] * 100:.1f})"
    test_any = page.locator('#report-test tr[data-class="any"]')
    expect(test_any.locator('td[data-metric="auroc"]')).to_have_text(text)
    expect(page.locator("#report-validation tbody tr")).to_have_count(6)
    expect(page.locator("#thresholds-table tbody tr")).to_have_count(6)
    for split in ("train", "validation", "test"):
        wait_for_chart(page, f"roc-{split}")
        # Each ROC chart carries a visible caption that names it.
        caption = page.locator(f"#roc-figure-{split} figcaption")
        expect(caption).to_be_visible()
        expect(caption).to_contain_text(f"ROC curves on the {split} split")
        expect(page.locator(f"#roc-{split}")).to_have_attribute(
            "aria-labelledby", f"roc-caption-{split}"
        )
    expect(page.locator("#model-version")).to_have_attribute("data-ready", "true")

    page.get_by_role("button", name="Approve…").click()
    page.locator("#status-dialog").get_by_role("button", name="Approve").click()
    expect(page.locator("#version-status")).to_have_text("Approved")
    expect(page.locator("#status-message")).to_contain_text("baseline-1 is now approved")
    assert ModelVersion.objects.get(pk=first.pk).status == "approved"
    expect(page.get_by_role("button", name="Approve…")).to_have_count(0)

    # someone else retired the other model meanwhile: the server refuses, the page says why
    page.goto(f"{live_server.url}/models/versions/{second.pk}/")
    ModelVersion.objects.filter(pk=second.pk).update(status="retired")
    page.get_by_role("button", name="Approve…").click()
    page.locator("#status-dialog").get_by_role("button", name="Approve").click()
    expect(page.locator("#status-message")).to_have_text("A retired model cannot become approved.")

    page.goto(f"{live_server.url}/models/")
    compare = page.get_by_role("button", name="Compare selected")
    expect(compare).to_be_disabled()
    page.get_by_label("Compare baseline-1").check()
    page.get_by_label("Compare wider-1").check()
    expect(compare).to_be_enabled()
    compare.click()
    page.wait_for_url(re.compile(r"/models/compare/\?ids=\d+,\d+$"))
    table = page.locator("#compare-table")
    expect(table.locator("thead th")).to_have_count(3)
    expect(table.locator('tr[data-key="rnn_units"]')).to_have_class("differs")
    expect(table.locator('tr[data-key="backbone"]')).not_to_have_class("differs")
    for split in ("train", "validation", "test"):
        expect(table.locator(f'tr[data-split="{split}"][data-metric="auroc"]')).to_have_count(6)
    assert table.locator("td.best").count() > 10
    console.assert_clean()


def test_coordinators_watch_and_readers_are_refused(live_server, registry, page, console):
    console.allow(r"status of 403 \(Forbidden\) \(.*/models/\)")
    log_in(page, live_server.url, "coordinator", "pw-coordinator")
    page.get_by_role("link", name="Models").click()
    expect(page.locator("#versions-table tbody tr")).to_have_count(2)
    expect(page.locator("#snapshot-form")).to_have_count(0)
    expect(page.locator("#run-form")).to_have_count(0)

    page.context.clear_cookies()
    log_in(page, live_server.url, "neuro1", "pw-neuro1")
    expect(page.get_by_role("link", name="Models")).to_have_count(0)
    assert page.goto(f"{live_server.url}/models/").status == 403
    console.assert_clean()

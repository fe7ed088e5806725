"""The inference nodes and a model's prospective performance in the browser: the engineer adds
a node (its one-time token shown once), sees the nodes' predictions per day and each stage's
median seconds drawn as charts, follows a model to its prospective page, reads the weekly drift
against validation (the shifted week flagged, its chart drawn) for another class too.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
"""

import hashlib
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in, wait_for_chart

CLASSES = ("any", "iph", "ivh", "sah", "sdh", "edh")


@pytest.fixture
def world(transactional_db):
    from django.utils import timezone

    from annotations.ingest.services import center_get_or_create
    from modelops.models import EdgeNode, ModelBuild
    from modelops.monitoring.services import prediction_record
    from tests.modelops.registry_factories import seed_registry

    registry = seed_registry()
    version = registry["models"][0]
    ModelBuild.objects.create(
        model_version=version,
        number=4,
        expires_at=timezone.now() + timedelta(days=9),
        created_by=registry["engineer"],
        status="succeeded",
    )
    node = EdgeNode.objects.create(
        name="jetson-e",
        center=center_get_or_create(name="Center E", split="test"),
        created_by=registry["engineer"],
        enrolled_at=timezone.now(),
    )
    reference = version.evaluation["reference_scores"]["scores"]
    last_monday = timezone.now() - timedelta(days=timezone.now().weekday() + 7)
    for number in range(24):  # last week like validation, this week near 1
        row = reference[number % len(reference)]
        scores = dict(zip(CLASSES, row, strict=True))
        at = last_monday + timedelta(hours=number)
        if number >= 12:
            scores["any"], at = 0.98, at + timedelta(days=7)
        link = hashlib.sha1(f"s{number}".encode()).hexdigest()
        report = {
            "key": f"{link}-b4",
            "series": link,
            "build": 4,
            "scored_at": at,
            "scores": scores,
            "decision": {c: s >= 0.5 for c, s in scores.items()},
            "timings_ms": {"transfer": 900 + number, "inference": 4000, "total": 6000 + number},
        }
        prediction_record(node=node, report=report)
    return {**registry, "version": version}


def test_the_engineer_adds_a_node_and_reads_monitoring_and_drift(live_server, world, page):
    log_in(page, live_server.url, "mlengineer", "pw-mlengineer")
    page.goto(f"{live_server.url}/models/nodes/")

    form = page.locator("#node-form")
    form.locator("input[name=name]").fill("jetson-new")
    form.get_by_role("button", name="Add node").click()
    expect(page.locator("main")).to_contain_text("one-time enrolment token (shown once)")
    expect(page.locator("#monitoring-charts")).to_have_attribute("data-drawn", "true")
    wait_for_chart(page, "per-day-chart")
    wait_for_chart(page, "latency-chart")
    expect(page.locator('tr[data-monitoring="jetson-e"]')).to_contain_text("24")

    page.get_by_role("link", name=world["version"].name).click()
    expect(page.locator("h1")).to_contain_text("Prospective performance")
    expect(page.locator('[data-count="predictions"]')).to_have_text("24")
    expect(page.locator("#no-reference")).to_be_visible()  # nobody has read these scans yet
    wait_for_chart(page, "drift-chart")
    shifted = page.locator('#drift-table tr.warn[data-group="All nodes"]')
    expect(shifted).to_have_count(1)
    expect(shifted).to_contain_text("shifted")

    page.get_by_role("link", name="IPH", exact=True).click()
    expect(page.locator('#drift-table tr[data-group="All nodes"]')).to_have_count(2)
    expect(page.locator("#drift-table tr.warn")).to_have_count(0)  # IPH did not move
    wait_for_chart(page, "drift-chart")

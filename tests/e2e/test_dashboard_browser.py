"""The coordinator's dashboard in the browser: progress tables and charts, reading speed from
the reads with measured time only, reader agreement (table, reader-pair heatmap with every
name whole, agreement over time with one week's point inside the chart) computed for the chosen
split, and the CSV downloads.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in, wait_for_chart


@pytest.fixture
def round_(transactional_db):
    """Two validation scans read by the same three neuroradiologists, who disagree once."""
    from annotations.reading.services import read_assign
    from tests.annotations.study_factories import label_and_complete, make_scan
    from tests.conftest import user_with_role

    user_with_role("coord-e2e", "coordinator")
    # A long name: the heatmap's slanted column heads must hold it whole.
    names = ("neuro1", "neuro2", "neuroradiologist-three")
    readers = [user_with_role(name, "neuroradiologist") for name in names]
    for number in range(2):
        scan = make_scan(split="validation", slices=4)
        for position, reader in enumerate(readers):
            labels = {0: {"iph": True}} if number == 0 else {}
            if number == 1 and position == 0:
                labels = {2: {"sdh": True}}
            label_and_complete(read_assign(scan=scan, reader=reader), labels)


# A chart's layout as Chart.js computed it: its instance is found through the page's own
# Chart.js module (a module imported again is the same instance).
CHART_GEOMETRY = """async (id) => {
    const canvas = document.getElementById(id);
    const urls = performance.getEntriesByType("resource").map((entry) => entry.name)
        .filter((url) => /\\/static\\/build\\/.*\\.js(\\?|$)/.test(url));
    for (const url of new Set(urls)) {
        for (const value of Object.values(await import(url))) {
            const chart = typeof value?.getChart === "function" ? value.getChart(canvas) : null;
            if (!chart) continue;
            const { left, right, top, bottom } = chart.chartArea;
            const points = chart.data.datasets.flatMap((_, index) =>
                chart.getDatasetMeta(index).data.filter((point) => !point.skip)
                    .map((point) => [point.x, point.y]));
            const y = chart.scales.y;
            return { area: { left, right, top, bottom }, weeks: chart.data.labels.length,
                     y: [y.min, y.max], points };
        }
    }
    return null;
}"""

# The heatmap's texts that stick out of its drawing (by more than half a pixel).
HEATMAP_CUT = """() => {
    const svg = document.querySelector("#agreement-heatmap svg");
    const box = svg.getBoundingClientRect();
    return [...svg.querySelectorAll("text")].filter((text) => {
        const r = text.getBoundingClientRect();
        return r.left < box.left - 0.5 || r.top < box.top - 0.5
            || r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5;
    }).map((text) => text.textContent);
}"""


def test_the_coordinator_watches_progress_and_agreement(live_server, round_, page, console):
    log_in(page, live_server.url, "coord-e2e", "pw-coord-e2e")
    page.goto(f"{live_server.url}/study/")
    page.get_by_role("link", name="Dashboard").click()

    expect(page.locator('#progress-readers tr[data-reader="neuro1"] td').nth(3)).to_have_text("2")
    # Reads finished through the services record no reading time: no speed is made of them.
    expect(page.locator("#speed-basis")).to_contain_text(
        "Reading speed from 0 of 6 completed reads with measured time"
    )
    expect(page.locator('#progress-readers tr[data-reader="neuro1"] td').nth(8)).to_have_text("—")
    expect(page.locator('#progress-splits tr[data-group="validation"] td').nth(2)).to_have_text("2")
    wait_for_chart(page, "chart-readers")
    wait_for_chart(page, "chart-days")

    dashboard = page.locator("#dashboard")
    expect(dashboard).to_have_attribute("data-agreement-loaded", "true", timeout=30_000)
    expect(page.locator("#agreement-status")).to_contain_text("2 scans, 6 completed reads")
    expect(page.locator("#agreement-table tbody tr")).to_have_count(12)  # 6 labels x 2 levels
    any_scan = page.locator('#agreement-table tr[data-label="any"][data-level="scan"] td')
    expect(any_scan.nth(2)).to_have_text("2")
    expect(page.locator("#agreement-heatmap svg rect")).to_have_count(9)  # 3 x 3 readers
    assert page.evaluate(HEATMAP_CUT) == []
    wait_for_chart(page, "chart-agreement-time")
    # All reads in one week: its point (one per line) sits inside the chart, clear of its edges.
    chart = page.evaluate(CHART_GEOMETRY, "chart-agreement-time")
    area = chart["area"]
    assert chart["weeks"] == 1 and chart["y"] == [-1.1, 1.1]
    assert len(chart["points"]) == 2
    for x, y in chart["points"]:
        assert area["left"] + 20 < x < area["right"] - 20, (x, area)
        assert area["top"] + 5 < y < area["bottom"] - 5, (y, area)

    page.locator("#agreement-filters select[name=split]").select_option("train")
    page.get_by_role("button", name="Compute").click()
    expect(page.locator("#agreement-status")).to_contain_text("No completed reads")
    expect(page.locator("#agreement-table tbody tr")).to_have_count(0)

    csv = page.request.get(page.locator("#agreement-csv").evaluate("link => link.href"))
    assert csv.ok and csv.headers["content-type"].startswith("text/csv")
    readers_csv = page.request.get(f"{live_server.url}/api/v1/progress/readers.csv")
    assert readers_csv.text().splitlines()[1].startswith("neuro1,0,0,2,0,")
    console.assert_clean()


def test_the_dashboard_is_for_coordinators_only(live_server, round_, page, console):
    console.allow(r"status of 403 \(Forbidden\) \(.*/study/dashboard/\)")
    log_in(page, live_server.url, "neuro1", "pw-neuro1")
    response = page.goto(f"{live_server.url}/study/dashboard/")
    assert response.status == 403

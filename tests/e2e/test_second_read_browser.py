"""The disagreement loop's labeling side in the browser. A training scan read once was sent to
a second read because a model saw SDH the read did not; the second read (done through the
services, as the reader's own page would) marks it. The coordinator finds the request on the
reading page, decides the disagreement on the adjudication page by keyboard, freezes the next
version, and follows "Changes since ..." to the scan and why it changed. Then active learning:
the never-read scans assigned most uncertain first.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in


@pytest.fixture
def loop(transactional_db, tmp_path, data_dir):
    from annotations.assignment.second_reads import second_read_request
    from annotations.ground_truth.services import ground_truth_freeze
    from annotations.models import ReadKind
    from annotations.reading.services import read_assign
    from modelops.disagreements.services import model_scan_scores_store
    from modelops.models import ModelStatus
    from tests.annotations.factories import import_phantom_slices
    from tests.annotations.study_factories import label_and_complete, make_scan
    from tests.conftest import user_with_role
    from tests.modelops.registry_factories import make_run, make_snapshot, make_version

    coordinator = user_with_role("coord-e2e", "coordinator")
    engineer = user_with_role("ml-e2e", "ml_engineer")
    first = user_with_role("neuro1", "neuroradiologist")
    second = user_with_role("neuro2", "neuroradiologist")
    scan = import_phantom_slices(tmp_path, 4, seed=11, center="Center T", split="train")
    label_and_complete(
        read_assign(scan=scan, reader=first, kind=ReadKind.PRIMARY), {1: {"iph": True}}
    )
    v1 = ground_truth_freeze(name="gt-1", created_by=coordinator)
    model = make_version(
        run=make_run(snapshot=make_snapshot(version=v1, user=engineer), user=engineer),
        name="m-e2e",
    )
    model.evaluation = {"thresholds": {"any": {"value": 0.5}}}
    model.status = ModelStatus.APPROVED
    model.save()
    reason = {
        "source": "model",
        "model_version": model.pk,
        "model_version_name": model.name,
        "class": "sdh",
        "kind": "false_positive",
        "score": 0.91,
        "against": "single_read",
    }
    (request,) = second_read_request(
        scans=[(scan, reason)], requested_by=coordinator, reader=second
    ).requests
    label_and_complete(request.read, {1: {"iph": True}, 2: {"sdh": True}})
    # Never-read scans for active learning: scores 0.9, 0.52 and one unscored.
    pool = [make_scan(center="Center T", split="train") for _ in range(3)]
    model_scan_scores_store(
        model_version=model,
        split="",
        scan_ids=[pool[0].pk, pool[1].pk],
        scores=[[0.9, 0, 0, 0, 0, 0], [0.52, 0, 0, 0, 0, 0]],
    )
    return {"scan": scan, "v1": v1, "model": model, "pool": pool}


def _go(page, link: str, root: str) -> None:
    page.get_by_role("link", name=link, exact=True).click()
    expect(page.locator(f"#{root}")).to_have_attribute("data-ready", "true")


def test_a_second_read_disagreement_is_decided_and_explained(live_server, loop, page):
    from annotations.models import GroundTruthScanLabel, GroundTruthVersion

    scan, base = loop["scan"], live_server.url
    log_in(page, base, "coord-e2e", "pw-coord-e2e")
    page.goto(f"{base}/study/")
    _go(page, "Reading", "reading-round")
    request = page.locator(f'#second-reads-table tr[data-scan="{scan.pk}"]')
    expect(request).to_contain_text("Model m-e2e: SDH false positive, score 0.91")
    expect(request).to_contain_text("neuro2")
    request.get_by_role("link", name="1 open item").click()

    expect(page.locator("#adjudication")).to_have_attribute("data-ready", "true")
    row = page.locator("#queue-table tr[data-item]")
    expect(row).to_have_count(1)
    row.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#adjudication")).to_contain_text("A second read disagrees")
    expect(page.locator("#votes-table tbody tr")).to_have_count(2)
    expect(page.locator("#votes-table .vote-yes")).to_have_count(1)
    page.locator("#decision-form input[value=yes]").focus()
    page.keyboard.press("y")
    page.locator("#decision-form textarea[name=reason]").fill("Thin SDH along the falx.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#queue-message")).to_contain_text("decided: present")

    _go(page, "Ground truth", "ground-truth")
    page.get_by_label("Name").fill("gt-2")
    page.get_by_role("button", name="Freeze").click()
    expect(page.locator("#freeze-message")).to_contain_text("Frozen gt-2")
    v2 = GroundTruthVersion.objects.get(name="gt-2")
    assert GroundTruthScanLabel.objects.get(version=v2, scan=scan).sdh
    page.reload()
    page.locator(f'#versions-table tr[data-version="{v2.pk}"] a.changes-link').click()
    expect(page.locator("#change-summary")).to_contain_text("1 scan differs: 1 changed")
    changed = page.locator(f'#changes-table tr[data-scan="{scan.pk}"]')
    expect(changed.locator(".why-second-read")).to_contain_text(
        "Model m-e2e: SDH false positive, score 0.91 (against the single read)"
    )
    expect(changed.locator(".why-adjudication")).to_contain_text("SDH present")
    expect(changed.locator(".why-adjudication")).to_contain_text("Thin SDH along the falx.")
    expect(page.locator('#class-change-table tr[data-class="sdh"] td').nth(1)).to_have_text("1")

    # Active learning: the never-read scans, most uncertain first.
    pool = loop["pool"]
    _go(page, "Reading", "reading-round")
    form = page.locator("#assign-form")
    form.locator("select[name=split]").select_option("train")
    form.locator("select[name=order]").select_option("uncertainty")
    expect(page.locator("#uncertainty-pool")).to_contain_text(
        "2 of 3 never-read scans scored by m-e2e (threshold for any ICH 0.50)"
    )
    expect(page.locator("#uncertainty-score")).to_have_text("Score the 1 unscored")
    form.get_by_label("At most this many scans").fill("1")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-uncertainty")).to_contain_text(f"scan {pool[1].pk} (0.52)")
    expect(page.locator(f'#preview-table tr[data-scan="{pool[1].pk}"]')).to_be_visible()
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("#assign-message")).to_contain_text("Assigned 1 read on 1 scan")
    assert pool[1].reads.count() == 1 and pool[0].reads.count() == 0

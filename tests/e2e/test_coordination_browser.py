"""A coordinator runs a reading round in the browser: previews and assigns a validation scan
(primary reader plus two cross-readers), sees the three reads; once the reads are completed
(through the services, as the readers' own pages would), queues the 2:1 vote and decides it
with the keyboard and finds the decision in the resolved list, freezes a ground-truth version,
builds its DICOM SR zip on the worker (the page follows the job, then downloads the file) and
releases it.

Needs PostgreSQL (the test settings), Node/npm for the frontend build and Debian's Chromium.
Run: `uv run pytest tests/e2e/test_coordination_browser.py`.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in


@pytest.fixture
def round_(transactional_db, tmp_path):
    from tests.annotations.factories import import_phantom_slices
    from tests.conftest import user_with_role

    user_with_role("coord-e2e", "coordinator")
    readers = [user_with_role(f"neuro{n}", "neuroradiologist") for n in (1, 2, 3)]
    # Stored images: an adjudication item shows the scan's slices.
    scan = import_phantom_slices(tmp_path, 4, seed=7, center="Center V", split="validation")
    return {"scan": scan, "readers": readers}


def _complete_reads(scan) -> None:
    """Three readers finish: all mark IPH on slice 1; two of three SDH on slice 2 (a 2:1)."""
    from annotations.models import Read
    from tests.annotations.study_factories import label_and_complete

    reads = list(Read.objects.filter(scan=scan).order_by("id"))
    for number, read in enumerate(reads):
        labels = {0: {"iph": True}}
        if number < 2:
            labels[1] = {"sdh": True}
        label_and_complete(read, labels)


def _go(page, link: str, root: str) -> None:
    """Follow a nav link and wait until the page script has made the page live."""
    page.get_by_role("link", name=link, exact=True).click()
    expect(page.locator(f"#{root}")).to_have_attribute("data-ready", "true")


# Every text the export's status line shows, recorded as the page changes it.
RECORD_EXPORT_TEXTS = """() => {
    window.exportTexts = [];
    new MutationObserver(() => {
        const line = document.querySelector(".export-job [role=status], .export-job [role=alert]");
        if (line) window.exportTexts.push(line.textContent);
    }).observe(document.getElementById("ground-truth"),
               { subtree: true, childList: true, characterData: true });
}"""


def test_a_coordinator_assigns_adjudicates_and_freezes(live_server, worker, round_, page, console):
    from annotations.exports import iter_sr_zip
    from annotations.models import AdjudicatedLabel, AdjudicationItem, GroundTruthVersion

    scan = round_["scan"]
    base = live_server.url
    log_in(page, base, "coord-e2e", "pw-coord-e2e")

    # Preview, then assign exactly the previewed plan.
    page.goto(f"{base}/study/")
    _go(page, "Reading", "reading-round")
    page.locator("#assign-form select[name=split]").select_option("validation")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(f'#preview-table tr[data-scan="{scan.pk}"]')
    expect(preview).to_be_visible()
    cells = preview.locator("td")
    primary = cells.nth(2).inner_text()
    cross = cells.nth(3).inner_text().split(", ")
    assert sorted([primary, *cross]) == ["neuro1", "neuro2", "neuro3"]
    expect(page.locator("#assign-message")).to_contain_text("3 reads on 1 scan")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("#assign-message")).to_contain_text("Assigned 3 reads on 1 scan")
    rows = page.locator(f'#reads-table tr[data-scan="{scan.pk}"]')
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="Primary read")).to_contain_text(primary)
    expect(rows.filter(has_text="Cross-read")).to_have_count(2)
    for reader in round_["readers"]:  # open reads per reader
        workload = page.locator(f'#workload-table tr[data-reader="{reader.pk}"] td')
        expect(workload.nth(1)).to_have_text("1")

    # Nothing is final yet: the freeze is refused with the server's reason.
    console.allow(r"status of 409")
    _go(page, "Ground truth", "ground-truth")
    page.get_by_label("Name").fill("round-1")
    page.get_by_role("button", name="Freeze").click()
    expect(page.locator("#freeze-message")).to_have_text(
        "No scan has all its reads completed yet: nothing to freeze."
    )
    expect(page.locator("#freeze-message")).to_have_attribute("role", "alert")

    _complete_reads(scan)

    # Queue the 2:1 SDH vote and decide it by keyboard.
    _go(page, "Adjudication", "adjudication")
    page.locator("#split-votes-form").get_by_label("SDH").check()
    page.get_by_role("button", name="Queue 2:1 votes").click()
    expect(page.locator("#queue-message")).to_contain_text("1 item queued")
    row = page.locator("#queue-table tr[data-item]")
    expect(row).to_have_count(1)
    row.focus()
    page.keyboard.press("Enter")
    votes = page.locator("#votes-table tbody tr")
    expect(votes).to_have_count(3)
    expect(page.locator("#votes-table")).to_contain_text("neuro1")
    expect(page.locator("#votes-table .vote-yes")).to_have_count(2)
    page.locator("#decision-form input[value=yes]").focus()
    page.keyboard.press("n")
    page.locator("#decision-form textarea[name=reason]").fill(
        "Thin extra-axial density is a vessel, not SDH."
    )
    page.keyboard.press("Control+Enter")
    expect(page.locator("#queue-message")).to_contain_text("decided: absent")
    expect(page.locator("#queue-table")).to_contain_text("Nothing to adjudicate here.")
    item = AdjudicationItem.objects.get()
    assert item.status == "resolved" and item.decided_by.username == "coord-e2e"
    assert AdjudicatedLabel.objects.get(item=item).sdh is False
    # The resolved list says what was decided, and why.
    page.locator("#queue select[name=status]").select_option("resolved")
    page.locator("#queue").get_by_role("button", name="Filter").click()
    decided = page.locator(f'#queue-table tr[data-item="{item.pk}"] td.decision')
    expect(decided).to_contain_text("SDH absent")
    expect(decided).to_contain_text("Thin extra-axial density is a vessel, not SDH.")

    # Freeze: the version is listed with its counts, hash and export links; then released.
    _go(page, "Ground truth", "ground-truth")
    page.get_by_label("Name").fill("round-1")
    page.get_by_label("Note").fill("first validation round")
    page.get_by_role("button", name="Freeze").click()
    expect(page.locator("#freeze-message")).to_contain_text("Frozen round-1: 1 scan, 4 slices")
    version = GroundTruthVersion.objects.get()
    listed = page.locator(f'#versions-table tr[data-version="{version.pk}"]')
    expect(listed).to_contain_text("round-1")
    expect(listed).to_contain_text(version.content_sha256[:12])
    expect(listed).to_contain_text("IPH 1")
    expect(listed).to_contain_text("SDH 0")  # the adjudicator's decision overrode the 2:1
    expect(listed.locator(f"#gt-exports-{version.pk} a")).to_have_count(5)

    # The DICOM SR zip builds on the worker: the page shows how far it got, then downloads it.
    page.evaluate(RECORD_EXPORT_TEXTS)
    with page.expect_download() as sr_download:
        listed.get_by_role("link", name="sr.zip", exact=True).click()
    panel = listed.locator('.export-job[data-kind="sr.zip"]')
    expect(panel).to_have_attribute("data-status", "succeeded")
    expect(panel).to_contain_text("Ready: 1 scan,")
    assert panel.locator("progress").evaluate("bar => bar.value") == 1
    shown = page.evaluate("window.exportTexts")
    assert any(text.startswith(("Export queued", "Building the reports")) for text in shown)
    download = sr_download.value
    assert download.suggested_filename == f"ichlabel-gt-round-1-v{version.pk}-sr.zip"
    with open(download.path(), "rb") as file:
        assert file.read() == b"".join(iter_sr_zip(version=version))

    listed.get_by_role("button", name="Release…").click()
    # The confirmation states the server's numbers: who will see what.
    expect(page.locator("#release-consequences")).to_contain_text(
        "3 neuroradiologists will see its ground truth, each only for the scans they completed"
    )
    page.locator("#release-dialog").get_by_role("button", name="Release", exact=True).click()
    expect(listed.locator(".badge.released")).to_be_visible()
    version.refresh_from_db()
    assert version.released

    # A version compared with itself is identical.
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#compare-headline")).to_contain_text("identical")


def test_reassigning_a_read_with_labels_asks_for_force_and_a_reason(
    live_server, round_, page, console
):
    from annotations.models import Read, ReadStatus
    from annotations.reading.services import LabelChange, read_assign, slice_labels_save

    neuro1, neuro2, _ = round_["readers"]
    read = read_assign(scan=round_["scan"], reader=neuro1)
    slice_labels_save(
        read_id=read.pk,
        reader=neuro1,
        changes=[LabelChange(slice_index=0, values={"iph": True}, expected_version=0)],
    )
    log_in(page, live_server.url, "coord-e2e", "pw-coord-e2e")
    page.goto(f"{live_server.url}/study/")
    _go(page, "Reading", "reading-round")

    page.locator(f'#reads-table tr[data-read="{read.pk}"]').get_by_role(
        "button", name="Reassign"
    ).click()
    dialog = page.locator("#read-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#read-dialog-consequences")).to_contain_text(
        "neuro1's read has 1 labelled slice. It will be withdrawn"
    )
    dialog.get_by_label("New reader").select_option(label="neuro2")
    dialog.get_by_role("button", name="Withdraw and reassign").click()
    # The reason is required: the browser holds the form back and points at the field.
    expect(dialog.get_by_label("Reason")).to_be_focused()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").fill("neuro1 is on leave")
    dialog.get_by_role("button", name="Withdraw and reassign").click()

    expect(dialog).to_be_hidden()
    expect(page.locator("#assign-message")).to_have_text(
        f"Read {read.pk} was withdrawn; neuro2 has a fresh read of scan {round_['scan'].pk}."
    )
    rows = page.locator(f'#reads-table tr[data-scan="{round_["scan"].pk}"]')
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Withdrawn")).to_contain_text("neuro1 is on leave")
    read.refresh_from_db()
    assert read.status == ReadStatus.WITHDRAWN and read.withdrawn_reason == "neuro1 is on leave"
    assert Read.objects.get(scan=round_["scan"], reader=neuro2).status == ReadStatus.ASSIGNED


def test_study_changes_ask_first_with_the_servers_numbers(live_server, round_, page, console):
    """A split change shows its consequences, changes nothing when cancelled, applies when
    confirmed and shows the server's reason when refused; on the Reading page the reads of a
    test scan are named alike in the preview and the table, Assign refreshes the open counts
    beside the reader checkboxes, and Unassign says what the scan keeps."""
    from django.contrib.auth import get_user_model

    from annotations.assignment.services import scans_assign
    from annotations.models import Center, Read, Scan
    from tests.annotations.study_factories import make_scan

    coordinator = get_user_model().objects.get(username="coord-e2e")
    running, waiting = (make_scan(center="Center P", split="test", slices=2) for _ in range(2))
    scans_assign(scans=Scan.objects.filter(pk=running.pk), assigned_by=coordinator, seed=1)
    validation = Center.objects.get(name="Center V")
    console.allow(r"status of 409")
    log_in(page, live_server.url, "coord-e2e", "pw-coord-e2e")
    page.goto(f"{live_server.url}/study/")

    # Validation -> training: the consequences first; Cancel leaves everything as it was.
    split_v = page.get_by_label("Split of Center V")
    split_v.select_option("train")
    dialog = page.locator("#split-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text(
        "Move Center V from the validation to the training split?"
    )
    expect(dialog).to_contain_text("1 scan (4 slices) move to the training split.")
    expect(dialog).to_contain_text("No reads are assigned on these scans yet.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(split_v).to_have_value("validation")
    validation.refresh_from_db()
    assert validation.split == "validation"

    # Confirmed, it moves (and its scan with it).
    split_v.select_option("train")
    dialog.get_by_role("button", name="Move the center").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#centers tr[data-center='Center V'] .split-note")).to_have_text(
        "saved: training"
    )
    assert Scan.objects.get(pk=round_["scan"].pk).split == "train"

    # Test -> validation while three scan-level reads run: refused with the reason.
    split_p = page.get_by_label("Split of Center P")
    split_p.select_option("validation")
    expect(dialog.locator("#split-dialog-refused")).to_contain_text(
        "3 reads (scan-level read of the test set) assigned and not finished on this "
        "center's scans: as validation scans they would be read slice by slice."
    )
    expect(dialog.get_by_role("button", name="Move the center")).to_be_disabled()
    page.keyboard.press("Escape")
    expect(split_p).to_have_value("test")
    assert Center.objects.get(name="Center P").split == "test"

    # Reading page: the test reads are named alike in the table and the preview.
    _go(page, "Reading", "reading-round")
    table_rows = page.locator(f'#reads-table tr[data-scan="{running.pk}"]')
    expect(table_rows.filter(has_text="Scan-level read of the test set")).to_have_count(3)
    for reader in round_["readers"]:  # one scan-level read each so far
        expect(page.locator(f'[data-open-reads="{reader.pk}"]')).to_have_text("1 open")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(f'#preview-table tr[data-scan="{waiting.pk}"]')).to_contain_text(
        "scan-level reads of the test set: "
    )
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("#assign-message")).to_contain_text("Assigned 4 reads on 2 scans")
    for reader in round_["readers"]:
        open_reads = Read.objects.filter(reader=reader, status="assigned").count()
        expect(page.locator(f'[data-open-reads="{reader.pk}"]')).to_have_text(f"{open_reads} open")
    assert Read.objects.filter(status="assigned").count() == 7  # 3 before, 4 assigned here

    # Unassign an untouched test read: the dialog says it is removed and what the scan keeps.
    read = Read.objects.filter(scan=waiting).first()
    page.locator(f'#reads-table tr[data-read="{read.pk}"]').get_by_role(
        "button", name="Unassign"
    ).click()
    consequences = page.locator("#read-dialog-consequences")
    expect(consequences).to_contain_text("holds no work yet: it is removed, nothing is lost.")
    expect(consequences).to_contain_text(
        f"Scan {waiting.pk} then keeps 2 of the 3 reads it needs and appears in the "
        "adjudication queue as missing a read."
    )
    page.locator("#read-dialog").get_by_role("button", name="Unassign", exact=True).click()
    expect(page.locator("#read-dialog")).to_be_hidden()
    assert not Read.objects.filter(pk=read.pk).exists()
    expect(page.locator(f'[data-open-reads="{read.reader_id}"]')).to_have_text(
        f"{Read.objects.filter(reader_id=read.reader_id, status='assigned').count()} open"
    )

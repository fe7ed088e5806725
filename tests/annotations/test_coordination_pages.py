"""The coordinator's reading-round pages: reading (assignment and reads), adjudication and
ground truth. Only coordinators get them; each page renders its tables from the database."""

import pytest

from annotations.adjudication.services import adjudication_split_votes_create
from annotations.ground_truth.services import ground_truth_freeze, ground_truth_release
from annotations.models import ReadKind
from annotations.reading.services import read_assign
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

PAGES = ("/study/reading/", "/study/adjudication/", "/study/ground-truth/")


@pytest.fixture
def round_():
    """A validation scan read by three (2:1 on SDH of slice 1), its SDH split vote queued, a
    frozen version, and an untouched training read."""
    coordinator = user_with_role("coord", "coordinator")
    readers = [user_with_role(f"neuro{n}", "neuroradiologist") for n in (1, 2, 3)]
    scan = make_scan(split="validation", slices=3)
    reads = [
        read_assign(scan=scan, reader=reader, kind=kind)
        for reader, kind in zip(
            readers, (ReadKind.PRIMARY, ReadKind.CROSS, ReadKind.CROSS), strict=True
        )
    ]
    label_and_complete(reads[0], {0: {"iph": True}, 1: {"sdh": True}})
    label_and_complete(reads[1], {0: {"iph": True}})
    label_and_complete(reads[2], {0: {"iph": True}, 1: {"sdh": True}})
    adjudication_split_votes_create(subtypes=["sdh"], created_by=coordinator)
    version = ground_truth_freeze(name="round-1", note="first round", created_by=coordinator)
    train = make_scan(split="train", center="Center T")
    untouched = read_assign(scan=train, reader=readers[1])
    return {
        "coordinator": coordinator,
        "readers": readers,
        "scan": scan,
        "reads": reads,
        "version": version,
        "untouched": untouched,
    }


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_users_are_sent_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ["ml_engineer", "neuroradiologist"])
@pytest.mark.parametrize("path", PAGES)
def test_only_coordinators_get_the_pages(client, path, role):
    client.force_login(user_with_role(f"someone-{role}", role))

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["ml_engineer", "neuroradiologist"])
def test_the_nav_links_show_for_coordinators_only(client, round_, role):
    client.force_login(round_["coordinator"])
    nav = client.get("/study/").content.decode()
    client.force_login(user_with_role(f"other-{role}", role))
    other = client.get("/" if role == "neuroradiologist" else "/study/", follow=True)

    for path in PAGES:
        assert f'href="{path}"' in nav
        assert f'href="{path}"' not in other.content.decode()


def test_the_reading_page_lists_workload_and_reads(client, round_):
    client.force_login(round_["coordinator"])

    page = client.get("/study/reading/").content.decode()

    assert 'id="assign-form"' in page and 'id="readers-data"' in page
    for reader in round_["readers"]:
        assert f'<tr data-reader="{reader.pk}">' in page
        assert f'name="reader" value="{reader.pk}" checked' in page
    for read in [*round_["reads"], round_["untouched"]]:
        assert f'data-read="{read.pk}"' in page
    # neuro2: one completed cross-read and one open training read
    row = page.split(f'<tr data-reader="{round_["readers"][1].pk}">')[1].split("</tr>")[0]
    cells = [cell.split(">", 1)[1].split("<")[0] for cell in row.split('<td class="num"')[1:]]
    assert cells == ["1", "1", "0"]
    # The same open count beside the reader's checkbox (the page script keeps the two alike).
    assert f'data-open-reads="{round_["readers"][1].pk}">1 open<' in page


def test_the_reading_page_filters_reads(client, round_):
    client.force_login(round_["coordinator"])
    neuro2 = round_["readers"][1]

    page = client.get(f"/study/reading/?reader={neuro2.pk}&status=assigned").content.decode()

    assert f'data-read="{round_["untouched"].pk}"' in page
    assert all(f'data-read="{read.pk}"' not in page for read in round_["reads"])
    assert "1 read<" in page


def test_the_adjudication_page_lists_open_items_by_default(client, round_):
    client.force_login(round_["coordinator"])
    item = round_["scan"].adjudication_items.get()

    open_page = client.get("/study/adjudication/").content.decode()
    resolved_page = client.get("/study/adjudication/?status=resolved").content.decode()

    assert f'data-item="{item.pk}"' in open_page and 'data-level="slice"' in open_page
    assert 'data-slice-count="3"' in open_page and "SDH" in open_page and "2 of 3" in open_page
    assert "1 open" in open_page
    assert f'data-item="{item.pk}"' not in resolved_page


def test_the_ground_truth_page_lists_versions_with_their_exports(client, round_):
    version = round_["version"]
    ground_truth_release(version_id=version.pk, released_by=round_["coordinator"])
    ground_truth_freeze(name="round-2", created_by=round_["coordinator"])
    client.force_login(round_["coordinator"])

    page = client.get("/study/ground-truth/").content.decode()

    assert f'data-version="{version.pk}"' in page and "round-2" in page
    assert version.content_sha256[:12] in page and "first round" in page
    assert 'data-action="release"' in page  # round-2 only; round-1 is released
    assert page.count('data-action="release"') == 1
    assert f'id="gt-exports-{version.pk}"' in page
    for kind in ("slices.csv", "rsna.csv", "scans.csv", "reader-labels.csv", "sr.zip"):
        assert f'href="/api/v1/ground-truth/{version.pk}/exports/{kind}/"' in page
    assert "IPH 1" in page and "SDH 1" in page  # positive scans per class


def test_the_ground_truth_page_without_versions_says_so(client):
    client.force_login(user_with_role("coord", "coordinator"))

    page = client.get("/study/ground-truth/").content.decode()

    assert "No version frozen yet." in page

"""PostgreSQL restarted (``pg_ctl restart -m fast``: every session cut) during label saves and
during an import, on a private cluster that holds a copy of the test database.

Label saves: every save the client got a 200 for is in the database afterwards (its audit row
and a version at least as new); a save caught by the restart gets a JSON 503 that says to
retry, never an HTML page or a hang; the app serves again once the database is back.
Import: the worker's series caught by the restart is removed whole and the batch is tried
again, then imports every series once.
"""

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rest_framework.authtoken.models import Token

from annotations.reading.services import read_assign
from tests.annotations.study_factories import make_scan
from tests.conftest import user_with_role
from tests.faults.conftest import (
    FINISHED,
    AppServer,
    PrivatePostgres,
    api_session,
    coordinator_token,
    eventually,
    fault_env,
    import_start,
    series_zip,
    shared_db_url,
    stored_files,
    table_locked,
    waiting_on,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    # Not under pytest's folders: the server runs as ``postgres``, which cannot enter them.
    folder = Path(tempfile.mkdtemp(prefix="ichlabel-faults-pg-"))
    server = PrivatePostgres(folder)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


class PrivateApp:
    """The app on the private cluster: ``start`` copies the test database as it then stands
    (the rows the test made) and serves it with gunicorn."""

    def __init__(self, pg: PrivatePostgres, broker_url: str, folder: Path) -> None:
        self.pg = pg
        self.folder = folder
        self.env = fault_env(folder / "data", broker_url, database_url=pg.url())
        self.store = folder / "data" / "store"
        self.server: AppServer | None = None

    def start(self) -> str:
        self.pg.copy_database(shared_db_url())
        self.server = AppServer(self.env, self.folder / "gunicorn.log")
        return self.server.url


@pytest.fixture
def private_app(private_pg, redis, tmp_path) -> Iterator[PrivateApp]:
    app = PrivateApp(private_pg, redis.url, tmp_path)
    yield app
    if app.server is not None:
        app.server.stop()


def assert_retry_error(response: requests.Response) -> None:
    """What a client gets while the database is away: JSON that says to retry."""
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"] == "application/json"
    assert "database is unavailable" in response.json()["message"]
    assert response.headers["Retry-After"]


class Reader(threading.Thread):
    """A reader who saves one slice's label over and over, flipping IPH, and keeps every
    answer. A 409 (a save the server did commit but could not acknowledge) is taken up from
    the version it reports, as the reading page does."""

    def __init__(self, base: str, token: str, read_id: int, slice_index: int) -> None:
        super().__init__(daemon=True)
        self.url = f"{base}/api/v1/reads/{read_id}/labels/"
        self.session = api_session(token)
        self.slice_index = slice_index
        self.stop = threading.Event()
        self.acked: list[tuple[int, bool]] = []  # (version, iph) of each save answered 200
        self.refused: list[requests.Response] = []
        self.failures: list[BaseException] = []

    def run(self) -> None:
        version, iph = 0, False
        while not self.stop.is_set():
            change = {"slice_index": self.slice_index, "version": version, "iph": not iph}
            try:
                response = self.session.post(self.url, json={"changes": [change]}, timeout=20)
            except requests.RequestException as error:  # a hang or a dropped connection
                self.failures.append(error)
                return
            if response.status_code == 200:
                version, iph = response.json()[0]["version"], not iph
                self.acked.append((version, iph))
            elif response.status_code == 409:
                current = response.json()["extra"]["conflicts"][0]
                version, iph = current["version"], current["values"]["iph"]
            else:
                self.refused.append(response)


def test_label_saves_through_a_database_restart_lose_no_acknowledged_write(private_app, private_pg):
    reader = user_with_role("faults-reader", "neuroradiologist")
    read = read_assign(scan=make_scan(slices=4), reader=reader)
    token = Token.objects.create(user=reader).key
    base = private_app.start()
    readers = [Reader(base, token, read.pk, index) for index in range(4)]
    for thread in readers:
        thread.start()

    eventually(lambda: all(len(r.acked) >= 2 for r in readers), "saves before the restart")
    with table_locked(private_pg.url(), "annotations_slicelabel"):
        # Saves in flight, waiting on the lock, when the server cuts every session.
        eventually(lambda: waiting_on(private_pg.url(), "annotations_slicelabel"), "a save waits")
        before = [len(r.acked) for r in readers]
        private_pg.restart("fast")
    eventually(
        lambda: all(len(r.acked) >= n + 2 for r, n in zip(readers, before, strict=True)),
        "saves after the restart",
    )
    for thread in readers:
        thread.stop.set()
        thread.join(timeout=30)

    assert not [r.failures for r in readers if r.failures]
    refused = [response for r in readers for response in r.refused]
    assert refused  # the saves caught by the restart
    for response in refused:
        assert_retry_error(response)
    audit = {
        (index, version, after["iph"])
        for index, version, after in private_pg.query(
            "SELECT s.position_index, a.version, a.after FROM annotations_labelaudit a "
            "JOIN annotations_slice s ON s.id = a.slice_id WHERE a.read_id = %s",
            (read.pk,),
        )
    }
    current = dict(
        private_pg.query(
            "SELECT s.position_index, l.version FROM annotations_slicelabel l "
            "JOIN annotations_slice s ON s.id = l.slice_id WHERE l.read_id = %s",
            (read.pk,),
        )
    )
    for r in readers:
        for version, iph in r.acked:
            assert (r.slice_index, version, iph) in audit
        assert current[r.slice_index] >= r.acked[-1][0]


def test_an_import_through_a_database_restart_is_tried_again_and_stored_once(
    private_app, private_pg, workers
):
    api = api_session(coordinator_token())
    base = private_app.start()
    workers(private_app.env)
    url = private_pg.url()

    with table_locked(url, "annotations_scan"):
        batch_id = import_start(api, base, series_zip((4, 32), (4, 32), (4, 32)), "Restarted")
        # The first series is written; its scan waits to be recorded when the server restarts.
        eventually(lambda: waiting_on(url, "annotations_scan"), "the worker's INSERT")
        private_pg.restart("fast")

    def finished() -> dict | None:
        response = api.get(f"{base}/api/v1/import-batches/{batch_id}/", timeout=30)
        if response.status_code != 200:
            assert_retry_error(response)
            return None
        body = response.json()
        return body if body["status"] in FINISHED else None

    ended = eventually(finished, "the import finishes")

    assert ended["status"] == "succeeded", ended
    assert ended["report"]["imported_scans"] == 3
    assert private_pg.query("SELECT attempts FROM annotations_importbatch") == [(2,)]
    scans = private_pg.query(
        "SELECT sc.slice_count, count(s.id) FROM annotations_scan sc "
        "LEFT JOIN annotations_slice s ON s.scan_id = sc.id GROUP BY sc.id"
    )
    assert scans == [(4, 4)] * 3  # each series once, whole
    keys = {key for (key,) in private_pg.query("SELECT storage_key FROM annotations_slice")}
    assert stored_files(private_app.store) == keys  # the interrupted try left no file
    uploads = private_app.folder / "data" / "uploads" / batch_id
    eventually(lambda: not uploads.exists(), "the uploads are removed")

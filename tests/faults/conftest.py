"""Faults survived, with real processes: the app under gunicorn, Celery workers, Redis and
PostgreSQL, killed or restarted in the middle of work.

Every server a test kills or restarts is its own: a private redis-server and, for the database
tests, a private PostgreSQL cluster, each on a free port of 127.0.0.1 in a temporary folder.
The shared PostgreSQL and Redis that the rest of the suite uses are never stopped. Where a test
needs a worker to be caught in the middle of a series, it holds a lock on the scan table: the
worker writes the series' files and then waits to record them, which is the moment a fault
hurts most.
"""

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
import requests
from celery import Celery
from kombu import Connection

from annotations.phantoms import dataset_bytes
from tests.annotations.factories import series_datasets
from tests.conftest import ROOT, celery_worker_env, wait_for

# Short job timings, so a dead worker is noticed in seconds (the defaults are a minute).
FAST_JOBS = {
    "ICHLABEL_JOBS_HEARTBEAT_INTERVAL_S": "0.5",
    "ICHLABEL_JOBS_HEARTBEAT_TIMEOUT_S": "3",
    "ICHLABEL_JOBS_RETRY_BACKOFF_S": "0.5",
    "ICHLABEL_JOBS_REQUEUE_PENDING_S": "2",
    "ICHLABEL_JOBS_PROGRESS_INTERVAL_S": "0.2",
}
FINISHED = ("succeeded", "warning", "failed", "canceled")
# How long a test waits for the system to react; never part of what it asserts.
PATIENCE_S = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def eventually(check: Callable[[], object], what: str, timeout_s: float = PATIENCE_S):
    """``check()``'s first truthy answer, polled; fails the test with ``what`` when none comes."""
    return wait_for(check, bool, what, timeout_s)


# -- Redis ------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the test's own, stopped and started at will. Data survives a
    ``restart(keep=True)`` (saved to disk at shutdown, as an AOF/RDB broker does) and is lost
    with ``keep=False`` (a broker without persistence)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )
        eventually(self.ping, "redis-server answers", 10)

    def ping(self) -> bool:
        try:
            return self.command("PING") == "+PONG"
        except OSError:
            return False

    def command(self, *words: str) -> str:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall((" ".join(words) + "\r\n").encode())
            return sock.recv(4096).decode().strip()

    def stop(self, *, keep: bool) -> None:
        if self.process is None:
            return
        # A server that shuts down closes the connection without an answer.
        with contextlib.suppress(OSError):
            self.command("SHUTDOWN", "SAVE" if keep else "NOSAVE")
        self.process.wait(timeout=20)
        self.process = None
        if not keep:
            (self.folder / "dump.rdb").unlink(missing_ok=True)

    def restart(self, *, keep: bool) -> None:
        self.stop(keep=keep)
        self.start()

    def queued(self, queue: str) -> int:
        return int(self.command("LLEN", queue).lstrip(":"))


@pytest.fixture(scope="module")
def redis(tmp_path_factory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop(keep=False)


def send(broker_url: str, task: str, *args, queue: str) -> None:
    """Put one task message on the private broker, as beat or a web process would."""
    # Not the current app: the suite's shared tasks would send through it afterwards, without
    # the project's routes (to the default queue, where no worker of later tests listens).
    app = Celery("faults", set_as_current=False)
    # An explicit connection: Celery prefers CELERY_BROKER_URL (the shared broker) to its conf.
    with Connection(broker_url) as connection:
        app.send_task(task, args=list(args), queue=queue, connection=connection)
    app.close()


def recover(broker_url: str) -> None:
    """What beat sends every 30 s: the jobs recovery (run by a worker on ``default``)."""
    send(broker_url, "ichlabel.jobs.tasks.jobs_recover", queue="default")


# -- PostgreSQL -----------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"PostgreSQL's {name} is not installed")
    return path


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, a free port),
    run as the ``postgres`` user when the tests run as root (the server refuses root)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(folder, "postgres")

    def url(self, database: str = "app") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        # Not captured: a server started by pg_ctl would hold the pipe open.
        subprocess.run(
            [*self.as_user, *command], check=True, stdout=subprocess.DEVNULL, timeout=120
        )

    def start(self) -> None:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}",
            "-w",
            "start",
        )

    def restart(self, mode: str = "fast") -> None:
        """Stop the server (every connection is cut) and start it again; returns once it
        accepts connections."""
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-m",
            mode,
            "-w",
            "restart",
        )

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, _pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )

    def copy_database(self, source_url: str) -> None:
        """This cluster's ``app`` database as a copy of ``source_url`` (schema and rows)."""
        dump = self.folder / "source.dump"
        with open(dump, "wb") as out:
            subprocess.run(
                [_pg_bin("pg_dump"), "-Fc", "--no-owner", "-d", source_url],
                stdout=out,
                check=True,
                timeout=120,
            )
        subprocess.run(
            [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "app"],
            check=True,
            timeout=60,
        )
        subprocess.run(
            [_pg_bin("pg_restore"), "--no-owner", "-d", self.url(), str(dump)],
            check=True,
            timeout=120,
        )

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return query(self.url(), sql, params)


def shared_db_url() -> str:
    """The URL of the test database that pytest-django made (the workers' and servers')."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of one statement on its own connection (autocommit)."""
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


@contextmanager
def table_locked(url: str, table: str) -> Iterator[None]:
    """Hold a lock on ``table`` that lets others read it but not write it: a worker that
    reaches its INSERT waits there until the block ends."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        yield
    finally:
        # A restarted server has already dropped the connection (and the lock).
        with contextlib.suppress(psycopg2.Error):
            conn.rollback()
        conn.close()


def waiting_on(url: str, table: str) -> bool:
    """Whether some session waits for a lock on ``table``."""
    rows = query(
        url,
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE NOT l.granted AND c.relname = %s",
        (table,),
    )
    return bool(rows[0][0])


# -- The app and its workers ----------------------------------------------------------------


def fault_env(data_dir: Path, broker_url: str, database_url: str | None = None, **extra) -> dict:
    env = celery_worker_env(data_dir)
    env.update(FAST_JOBS)
    env["CELERY_BROKER_URL"] = broker_url
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


class AppServer:
    """The app under gunicorn (one process, threads), as production serves it."""

    def __init__(self, env: dict, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "ichlabel.wsgi"]
                + ["--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "8"]
                + ["--timeout", "60", "--log-level", "warning"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            eventually(self._up, "gunicorn answers", 60)
        except BaseException:
            self.stop()
            raise

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            requests.get(f"{self.url}/login/", timeout=10)  # the first loads the app
            return True
        except requests.RequestException:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_worker(env: dict, log_path: Path, name: str = "faults") -> subprocess.Popen:
    """A real Celery worker (solo pool) on ``ingest`` and ``default`` (the recovery's queue).
    Unlike the suite's worker it finds the queues as they are: what a broker kept across a
    restart is what these tests are about."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ichlabel", "worker", "--pool=solo"]
            + ["-Q", "ingest,default", "--loglevel=INFO", "-n", f"{name}-{os.getpid()}@%h"]
            + ["--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    eventually(lambda: _ready(process, log_path), "the worker is ready", 60)
    return process


def _ready(process: subprocess.Popen, log_path: Path) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"celery worker exited:\n{log_path.read_text()}")
    return b" ready." in log_path.read_bytes()


def kill_hard(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=20)


def api_session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    return session


def coordinator_token(username: str = "faults-coord") -> str:
    from rest_framework.authtoken.models import Token

    from tests.conftest import user_with_role

    return Token.objects.create(user=user_with_role(username, "coordinator")).key


def series_zip(*series: tuple[int, int]) -> bytes:
    """A zip of CT series, each given as (slices, pixels a side), in that order."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for number, (slices, size) in enumerate(series):
            for ds in series_datasets(slices, size=size):
                zf.writestr(f"series{number}/{ds.SOPInstanceUID}.dcm", dataset_bytes(ds))
    return archive.getvalue()


def import_start(api: requests.Session, base: str, archive: bytes, center: str) -> str:
    """Create a batch, upload ``archive`` and start it; the batch's id."""
    created = api.post(f"{base}/api/v1/import-batches/create/", json={"center": center}, timeout=30)
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]
    added = api.post(
        f"{base}/api/v1/import-batches/{batch_id}/files/",
        files=[("files", ("export.zip", archive, "application/zip"))],
        timeout=60,
    )
    assert added.status_code == 200, added.text
    started = api.post(f"{base}/api/v1/import-batches/{batch_id}/start/", timeout=30)
    assert started.status_code == 202, started.text
    return batch_id


def batch_status(api: requests.Session, base: str, batch_id: str) -> dict:
    response = api.get(f"{base}/api/v1/import-batches/{batch_id}/", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def wait_finished(
    api: requests.Session, base: str, batch_id: str, *, nudge: Callable[[], None] | None = None
) -> dict:
    """The batch once it has finished; ``nudge`` (the recovery, say) is called once a second
    meanwhile."""
    last = 0.0

    def finished() -> dict | None:
        nonlocal last
        if nudge is not None and time.monotonic() - last >= 1:
            nudge()
            last = time.monotonic()
        body = batch_status(api, base, batch_id)
        return body if body["status"] in FINISHED else None

    return eventually(finished, f"batch {batch_id} finishes")


def stored_files(store: Path) -> set[str]:
    """The storage keys of every file under the DICOM store."""
    return {str(path.relative_to(store)) for path in store.rglob("*") if path.is_file()}


class Stack:
    """The app and its broker for one module's tests: gunicorn on the test database, a
    private Redis, a data folder shared with the workers the tests start."""

    def __init__(self, data_dir: Path, env: dict, server: AppServer, redis: PrivateRedis) -> None:
        self.data_dir = data_dir
        self.env = env
        self.server = server
        self.redis = redis
        self.store = data_dir / "store"
        self.uploads = data_dir / "uploads"


@pytest.fixture(scope="module")
def stack(django_db_setup, redis, tmp_path_factory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("faults-data")
    env = fault_env(data_dir, redis.url)
    server = AppServer(env, data_dir / "gunicorn.log")
    yield Stack(data_dir, env, server, redis)
    server.stop()


@pytest.fixture
def workers(tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start workers (``workers(env)``); each still running is stopped after the test."""
    started: list[subprocess.Popen] = []

    def spawn(env: dict, name: str = "faults") -> subprocess.Popen:
        process = start_worker(env, tmp_path / f"{name}-{len(started)}.log", name)
        started.append(process)
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()

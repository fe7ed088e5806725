"""Shared fixtures: isolated data directories, users per role, a real Celery worker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _point_settings_at(settings, data_dir: Path) -> None:
    settings.DATA_DIR = data_dir
    settings.MEDIA_ROOT = data_dir / "store"
    settings.UPLOAD_DIR = data_dir / "uploads"
    settings.QUARANTINE_DIR = data_dir / "quarantine"
    settings.BUILD_SIGNING_KEY_FILE = data_dir / "build_signing_key.pem"
    for path in (settings.MEDIA_ROOT, settings.UPLOAD_DIR, settings.QUARANTINE_DIR):
        path.mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path_factory) -> Path:
    """Every test stores its DICOM, uploads and quarantine under its own folder (outside
    tmp_path, which tests fill with the files they import)."""
    path = tmp_path_factory.mktemp("data")
    _point_settings_at(settings, path)
    return path


@pytest.fixture(autouse=True)
def auth_failures_cleared():
    """No test inherits another's failed log-ins or token guesses (ichlabel.throttling): the
    cache is shared by every test of a run, and all of them come from one address."""
    from django.core.cache import cache

    cache.clear()


def wait_for(read, done, what: str, timeout_s: float = 60):
    """``read()``'s first value that ``done`` accepts, polled; fails the test with ``what`` and
    the last value when none comes within ``timeout_s`` (never part of what a test asserts)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = read()
        if done(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: {read()}")


def user_with_role(username: str, *roles: str):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username=username, password="pw-" + username)
    for role in roles:
        # get_or_create: transactional tests flush the groups that a migration made
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def coordinator(db):
    return user_with_role("coord", "coordinator")


@pytest.fixture
def readers(db):
    """Four neuroradiologists, neuro0 to neuro3: enough for a primary read and two cross-reads."""
    return [user_with_role(f"neuro{i}", "neuroradiologist") for i in range(4)]


@pytest.fixture
def ml_engineer(db):
    return user_with_role("mleng", "ml_engineer")


@pytest.fixture
def neuroradiologist(db):
    return user_with_role("reader1", "neuroradiologist")


@pytest.fixture
def jobs_queued(monkeypatch) -> list:
    """Jobs queued in this test (``ichlabel.jobs.enqueue``): their pks, recorded once the
    transaction commits instead of sent to the broker."""
    from ichlabel.jobs import registry

    sent: list = []
    monkeypatch.setattr(registry, "send_task", lambda kind, pk, **options: sent.append(pk))
    return sent


@pytest.fixture(scope="session")
def worker_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("worker-data")


def celery_worker_env(data_dir: Path, **extra: str) -> dict:
    """The environment of a worker process: the test database, broker and data folder."""
    from django.conf import settings as django_settings

    db = django_settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="ichlabel.settings_test",
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}"
            f"@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        ICHLABEL_DATA_DIR=str(data_dir),
        ICHLABEL_STORAGE_DIR=str(data_dir / "store"),
        ICHLABEL_DEID_SECRET=django_settings.DEID_SECRET,
        CELERY_BROKER_URL=django_settings.CELERY_BROKER_URL,
        **extra,
    )
    return env


def celery_worker_spawn(env: dict, *, queues: str, log_path: Path, name: str) -> subprocess.Popen:
    """Start a real Celery worker (solo pool) on ``queues`` and wait until it is ready."""
    _purge_queues(env, queues)
    offset = log_path.stat().st_size if log_path.exists() else 0
    log = open(log_path, "ab")  # noqa: SIM115 (the child keeps it open for its life)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ichlabel",
            "worker",
            "--pool=solo",
            "-Q",
            queues,
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    _wait_ready(process, log_path, offset)
    return process


def celery_worker_stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, worker_data_dir):
    """A real Celery worker on Redis, reading the test database and the shared data folder."""
    process = celery_worker_spawn(
        celery_worker_env(worker_data_dir),
        queues="ingest,default",
        log_path=worker_data_dir / "worker.log",
        name="test",
    )
    yield process
    celery_worker_stop(process)


def _purge_queues(env: dict, queues: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "ichlabel", "purge", "-f", "-Q", queues],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )


def _wait_ready(
    process: subprocess.Popen, log_path: Path, offset: int, timeout_s: float = 60
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited:\n{log_path.read_text()}")
        if b"ready." in log_path.read_bytes()[offset:]:
            return
        time.sleep(0.2)
    raise RuntimeError(f"celery worker not ready:\n{log_path.read_text()}")


@pytest.fixture
def worker(celery_worker_process, settings, worker_data_dir, transactional_db):
    """Use in tests that need a worker: the test's settings share the worker's data folder."""
    _point_settings_at(settings, worker_data_dir)
    return celery_worker_process

"""Queues and workers: short work never waits behind long work.

Every registered Celery task is routed by name to its queue (CELERY_TASK_ROUTES): imports to
``ingest``, model work to ``train``, the periodic checks and anything short to ``default``;
``scripts/run`` and ``docker-compose.yml`` give each queue a worker of its own, and only the
``default`` worker runs the beat schedule. Then, with real workers laid out that way, the
periodic check runs while an import holds the ingest worker.
"""

import os
import re
import shlex
from pathlib import Path

import pytest
import yaml
from celery.app.routes import MapRoute
from django.conf import settings as django_settings

from annotations.ingest.services import (
    center_get_or_create,
    import_batch_create,
    import_batch_start,
)
from annotations.models import ImportBatch, JobStatus
from ichlabel.celery import app
from ichlabel.jobs import KINDS
from ichlabel.jobs.tasks import jobs_recover
from tests.conftest import (
    ROOT,
    _point_settings_at,
    celery_worker_env,
    celery_worker_spawn,
    celery_worker_stop,
    wait_for,
)

# Every task the app registers, and its queue. A new task is added here, with its queue.
QUEUES = {
    "annotations.tasks.export_job_run": "ingest",
    "annotations.tasks.import_batch_run": "ingest",
    "ichlabel.jobs.tasks.jobs_recover": "default",
    "modelops.tasks.model_build_execute": "train",
    "modelops.tasks.saliency_run_execute": "train",
    "modelops.tasks.scan_saliency_execute": "train",
    "modelops.tasks.scan_scoring_execute": "train",
    "modelops.tasks.snapshot_build": "train",
    "modelops.tasks.training_run_execute": "train",
}
LONG_QUEUES = {"ingest", "train"}


def registered_tasks() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def queue_of(task: str) -> str:
    return app.amqp.router.route({}, task)["queue"].name


def test_every_registered_task_is_routed_by_name_to_its_queue():
    explicit = MapRoute(django_settings.CELERY_TASK_ROUTES)

    assert registered_tasks() == set(QUEUES)
    for task, queue in QUEUES.items():
        assert explicit(task) is not None, f"{task} has no route of its own"
        assert queue_of(task) == queue, task


def test_long_jobs_run_on_long_queues_and_periodic_checks_on_default():
    assert {queue_of(kind.task) for kind in KINDS} <= LONG_QUEUES
    schedule = app.conf.beat_schedule
    assert schedule
    for entry in schedule.values():
        assert queue_of(entry["task"]) == "default", entry


def _workers(commands: list[str]) -> list[dict]:
    """The Celery workers among shell commands: the queues each serves, whether it runs beat."""
    workers = []
    for command in commands:
        words = shlex.split(command)
        if "celery" not in words or "worker" not in words:
            continue
        queues = words[words.index("--queues") + 1]
        workers.append({"queues": set(queues.split(",")), "beat": "--beat" in words})
    return workers


def _script_commands(path: Path) -> list[str]:
    text = re.sub(r"\\\n\s*", " ", path.read_text())  # join continued lines
    return [line.strip().rstrip("&").strip() for line in text.splitlines()]


def _compose_commands(path: Path) -> list[str]:
    services = yaml.safe_load(path.read_text())["services"]
    return [service["command"] for service in services.values() if "command" in service]


@pytest.mark.parametrize(
    "commands",
    [
        pytest.param(lambda: _script_commands(ROOT / "scripts" / "run"), id="scripts/run"),
        pytest.param(
            lambda: _compose_commands(ROOT / "docker-compose.yml"), id="docker-compose.yml"
        ),
    ],
)
def test_each_queue_has_a_worker_of_its_own_and_one_runs_beat(commands):
    workers = _workers(commands())

    served = set().union(*(worker["queues"] for worker in workers))
    assert set(QUEUES.values()) <= served
    beat = [worker for worker in workers if worker["beat"]]
    assert len(beat) == 1 and beat[0]["queues"] == {"default"}
    for worker in workers:
        # A worker that serves default serves nothing long, and no worker serves two long queues.
        assert not ("default" in worker["queues"] and worker["queues"] & LONG_QUEUES), worker
        assert len(worker["queues"] & LONG_QUEUES) <= 1, worker


@pytest.fixture
def split_workers(django_db_setup, django_db_blocker, worker_data_dir, settings):
    """Real workers laid out as scripts/run lays them out: one on ``ingest``, one on
    ``default``; the test's settings share their data folder."""
    _point_settings_at(settings, worker_data_dir)
    env = celery_worker_env(worker_data_dir)
    started = []
    for name, queues in (("ingest", "ingest"), ("periodic", "default")):
        log_path = worker_data_dir / f"{name}-worker.log"
        started.append(celery_worker_spawn(env, queues=queues, log_path=log_path, name=name))
    yield
    for process in started:
        if process.poll() is None:
            celery_worker_stop(process)


def _release(fifo: Path) -> None:
    """Let the import that waits on ``fifo`` go on: the pipe, opened for writing, lets its open
    return; an empty file takes the pipe's place before the pipe closes (the import opens the
    file again), so the import reads an empty file."""
    empty = fifo.with_name("empty")
    empty.touch()
    try:
        writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # no reader: the import is not waiting on it
        writer = None
    os.replace(empty, fifo)
    if writer is not None:
        os.close(writer)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_periodic_check_runs_while_an_import_holds_the_ingest_worker(
    split_workers, worker_data_dir
):
    batch = import_batch_create(center=center_get_or_create(name="C"), split=None, source="api")
    # A named pipe holds the import where it opens the file, until the test writes to it: the
    # ingest worker is busy with a real import for as long as the test needs.
    fifo = Path(django_settings.UPLOAD_DIR) / str(batch.pk) / "held.dcm"
    os.mkfifo(fifo)
    import_batch_start(batch=batch)
    try:
        wait_for(
            lambda: ImportBatch.objects.get(pk=batch.pk).status,
            lambda status: status == JobStatus.RUNNING,
            "the import to start",
        )

        check = jobs_recover.apply_async()  # routed as the beat schedule sends it

        succeeded = f"jobs_recover[{check.id}] succeeded"
        wait_for(
            lambda: [
                log.name for log in worker_data_dir.glob("*.log") if succeeded in log.read_text()
            ],
            bool,
            "the periodic check",
        )
        assert ImportBatch.objects.get(pk=batch.pk).status == JobStatus.RUNNING  # still held
    finally:
        _release(fifo)
    finished = wait_for(
        lambda: ImportBatch.objects.get(pk=batch.pk),
        lambda row: row.status in (JobStatus.WARNING, JobStatus.FAILED),
        "the import to finish",
    )
    assert finished.report["rejected"] == [{"path": "held.dcm", "reason": "empty file"}]

"""SIGKILL of the ingest worker in the middle of a series: the recovery fails the batch once
its heartbeat stops, and the batch leaves nothing behind (no scan, no slice, no file, no
upload), although the killed worker had written the series' files."""

import pytest

from annotations.models import ImportBatch, Scan, Slice
from tests.faults.conftest import (
    api_session,
    coordinator_token,
    eventually,
    import_start,
    kill_hard,
    recover,
    series_zip,
    shared_db_url,
    stored_files,
    table_locked,
    wait_finished,
    waiting_on,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_series_leaves_a_failed_batch_and_nothing_half_stored(stack, workers):
    api = api_session(coordinator_token())
    base = stack.server.url
    first = workers(stack.env, "doomed")

    with table_locked(shared_db_url(), "annotations_scan"):
        batch_id = import_start(api, base, series_zip((6, 32), (6, 32)), "Killed")
        # The worker wrote the first series' files and waits to record the scan.
        eventually(lambda: waiting_on(shared_db_url(), "annotations_scan"), "the worker's INSERT")
        written = stored_files(stack.store)
        kill_hard(first)
    assert len(written) == 6  # the series was half done: files on disk, no rows

    workers(stack.env, "successor")
    # Beat sends the recovery every 30 s; here the test sends it until the batch is judged.
    ended = wait_finished(api, base, batch_id, nudge=lambda: recover(stack.redis.url))

    batch = ImportBatch.objects.get(pk=batch_id)
    assert ended["status"] == "failed"
    assert "stopped responding" in ended["message"]
    assert batch.attempts == 1  # failed, not run again behind the killed worker's back
    assert not Scan.objects.filter(import_batch=batch).exists()
    assert not Slice.objects.exists()
    # The recovery records the failure, then cleans up after it (the status comes first).
    eventually(lambda: not stored_files(stack.store), "the killed worker's files are removed")
    eventually(lambda: not (stack.uploads / batch_id).exists(), "the uploads are removed")

"""Redis, the broker, restarted while imports wait in its queue: no import is lost (the jobs
recovery queues again a batch whose message the broker lost, or never got) and none runs twice
(a message delivered twice is claimed once)."""

import pytest

from annotations.models import ImportBatch, Scan, Slice
from tests.faults.conftest import (
    api_session,
    coordinator_token,
    eventually,
    import_start,
    recover,
    send,
    series_zip,
    stored_files,
    wait_finished,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def assert_each_imported_once(
    stack, batch_ids: list[str], bodies: list[dict], files_before: set[str]
) -> None:
    assert [body["status"] for body in bodies] == ["succeeded"] * len(batch_ids), bodies
    for batch_id in batch_ids:
        assert ImportBatch.objects.get(pk=batch_id).attempts == 1  # claimed once
        scan = Scan.objects.get(import_batch_id=batch_id)
        assert scan.slices.count() == scan.slice_count == 3
    recorded = set(Slice.objects.values_list("storage_key", flat=True))
    assert stored_files(stack.store) - files_before == recorded


def test_imports_queued_in_a_broker_that_lost_them_are_queued_again(stack, workers):
    api = api_session(coordinator_token())
    base = stack.server.url
    files_before = stored_files(stack.store)  # the module's earlier tests share the store
    queued = [import_start(api, base, series_zip((3, 32)), "Broker") for _ in range(2)]
    assert stack.redis.queued("ingest") == 2

    stack.redis.stop(keep=False)  # a broker without persistence loses its queues
    # Started while the broker is down: accepted (the batch is recorded), its message is not.
    late = import_start(api, base, series_zip((3, 32)), "Broker")
    stack.redis.start()
    assert stack.redis.queued("ingest") == 0

    workers(stack.env)
    batch_ids = [*queued, late]
    bodies = [
        wait_finished(api, base, batch_id, nudge=lambda: recover(stack.redis.url))
        for batch_id in batch_ids
    ]

    assert_each_imported_once(stack, batch_ids, bodies, files_before)


def test_imports_a_broker_kept_and_delivers_twice_run_once(stack, workers):
    api = api_session(coordinator_token("faults-coord-2"))
    base = stack.server.url
    stack.redis.command("DEL", "ingest")  # spare messages of the test before, if any
    files_before = stored_files(stack.store)  # the module's earlier tests share the store
    batch_ids = [import_start(api, base, series_zip((3, 32)), "Broker") for _ in range(2)]

    stack.redis.restart(keep=True)  # a broker with persistence keeps its queues
    for batch_id in batch_ids:  # and a message may come twice (a redelivery, the recovery)
        send(stack.redis.url, "annotations.tasks.import_batch_run", batch_id, queue="ingest")
    assert stack.redis.queued("ingest") == 4

    workers(stack.env)
    bodies = [wait_finished(api, base, batch_id) for batch_id in batch_ids]
    eventually(lambda: stack.redis.queued("ingest") == 0, "the duplicates are consumed")

    assert_each_imported_once(stack, batch_ids, bodies, files_before)

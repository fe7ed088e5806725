"""Cancelling a running import through the API: the worker finishes the series in flight,
imports no further series, and the batch ends canceled with the counts of what it kept."""

import pytest

from annotations.models import ImportBatch, Scan, Slice
from tests.faults.conftest import (
    api_session,
    coordinator_token,
    eventually,
    import_start,
    series_zip,
    shared_db_url,
    stored_files,
    table_locked,
    wait_finished,
    waiting_on,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_cancel_stops_a_running_import_between_series_and_keeps_whole_series(stack, workers):
    api = api_session(coordinator_token())
    base = stack.server.url
    workers(stack.env)

    with table_locked(shared_db_url(), "annotations_scan"):
        batch_id = import_start(api, base, series_zip((5, 32), (5, 32), (5, 32)), "Canceled")
        # The first series is written and waits to be recorded: the worker is mid-series.
        eventually(lambda: waiting_on(shared_db_url(), "annotations_scan"), "the worker's INSERT")
        answer = api.post(f"{base}/api/v1/import-batches/{batch_id}/cancel/", timeout=30)
        # The worker reads a cancel at its next heartbeat: wait for a beat after the request.
        beat = ImportBatch.objects.get(pk=batch_id).heartbeat_at
        eventually(
            lambda: ImportBatch.objects.get(pk=batch_id).heartbeat_at != beat,
            "a heartbeat after the cancel",
        )
    ended = wait_finished(api, base, batch_id)

    assert answer.status_code == 200 and answer.json()["status"] == "canceling"
    assert ended["status"] == "canceled", ended
    report = ended["report"]
    assert report["canceled"] is True
    assert (report["imported_scans"], report["imported_slices"]) == (1, 5)  # what was kept
    kept = Scan.objects.get(import_batch_id=batch_id)  # the series in flight, completed
    assert kept.slices.count() == kept.slice_count == 5
    recorded = set(Slice.objects.values_list("storage_key", flat=True))
    assert stored_files(stack.store) == recorded  # no file of the other series
    assert not (stack.uploads / batch_id).exists()
    again = api.post(f"{base}/api/v1/import-batches/{batch_id}/cancel/", timeout=30)
    assert again.status_code == 409 and "message" in again.json()

"""The DICOM store fills up while a series is written: the batch fails with the reason (after
its retries: space may be freed meanwhile), and nothing of it stays stored, neither the
half-written series nor the series imported before it.

The store is a 1 MiB tmpfs mounted for the test where mounting is permitted (root); elsewhere
the worker runs with a file-size limit (RLIMIT_FSIZE), which fails the same writes with EFBIG.
"""

import contextlib
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotations.models import Scan, Slice
from tests.faults.conftest import (
    api_session,
    coordinator_token,
    eventually,
    import_start,
    series_zip,
    stored_files,
    wait_finished,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STORE_BYTES = 1024 * 1024


@contextlib.contextmanager
def small_store(folder: Path) -> Iterator[bool]:
    """``folder`` as a filesystem of STORE_BYTES; yields False where mounting is refused."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={STORE_BYTES}", "tmpfs", str(folder)],
        capture_output=True,
    )
    try:
        yield mounted.returncode == 0
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_full_store_fails_the_batch_with_the_reason_and_keeps_nothing(stack, workers, tmp_path):
    api = api_session(coordinator_token())
    base = stack.server.url
    store = tmp_path / "store"
    with small_store(store) as mounted:
        worker = workers(dict(stack.env, ICHLABEL_STORAGE_DIR=str(store)))
        if not mounted:
            # No tmpfs: any file the worker writes beyond this size fails with EFBIG.
            resource.prlimit(worker.pid, resource.RLIMIT_FSIZE, (STORE_BYTES // 4,) * 2)

        # A small series that fits, then one of 512 KiB slices that does not.
        batch_id = import_start(api, base, series_zip((4, 32), (3, 512)), "Full disk")
        ended = wait_finished(api, base, batch_id)

        assert ended["status"] == "failed", ended
        assert "storage refused a file" in ended["message"]
        reason = "No space left on device" if mounted else "File too large"
        assert reason in ended["message"]
        assert "gave up after 3 tries" in ended["message"]
        # The failure is recorded first; the clean-up that follows removes the batch's scans.
        eventually(lambda: not Scan.objects.exists(), "the series imported before are removed")
        assert not Slice.objects.exists()
        eventually(lambda: not stored_files(store), "the batch's files are removed")
        eventually(lambda: not (stack.uploads / batch_id).exists(), "the uploads are removed")

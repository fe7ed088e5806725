"""The app served by gunicorn on 127.0.0.1 for the benchmarks that go over HTTP."""

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def serve(env: dict, port: int) -> Iterator[str]:
    """Run gunicorn as scripts/run does (gunicorn.conf.py) with ``env`` until the block ends;
    yield its URL."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ichlabel.wsgi",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(f"{base}/login/")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")

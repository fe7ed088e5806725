"""Browser tests: the built frontend, Debian's Chromium driven by Playwright, console errors fail.

Chromium is the system one (`/usr/bin/chromium`, or `ICHLABEL_CHROMIUM`); Playwright never
downloads a browser here. The page scripts are built from frontend/ when the build is missing
or older than its sources, so a plain `pytest tests/e2e` tests what is in the tree.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import ConsoleLog

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
BUILD = ROOT / "ichlabel" / "static" / "build"
BUILD_OUTPUTS = [BUILD / name for name in ("import.js", "study.js", "reader.js", "likert.js")]
BUILD_INPUTS = ["src", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"]

CHROMIUM = os.environ.get("ICHLABEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in BUILD_INPUTS:
        path = FRONTEND / name
        files = path.rglob("*") if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                newest = max(newest, file.stat().st_mtime)
    return newest


def _build_is_current() -> bool:
    if not all(output.exists() for output in BUILD_OUTPUTS):
        return False
    return min(output.stat().st_mtime for output in BUILD_OUTPUTS) >= _newest_source_mtime()


def _npm(*args: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to build the frontend (Node 20 and npm are in the dev setup)")
    result = subprocess.run([npm, *args], cwd=FRONTEND, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        output = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        pytest.fail(f"npm {' '.join(args)} failed:\n{output}")


@pytest.fixture(scope="session")
def frontend_build() -> Path:
    """The built page scripts under ichlabel/static/build/, rebuilt when stale."""
    if not _build_is_current():
        installed = FRONTEND / "node_modules" / ".package-lock.json"  # npm writes it on install
        lock = FRONTEND / "package-lock.json"
        if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
            _npm("ci", "--no-audit", "--no-fund")
        _npm("run", "build")
    return BUILD


@pytest.fixture
def browser(transactional_db, frontend_build):
    """Headless Chromium for one test, started after its database is set up and stopped first.

    While Playwright's sync API runs, its event loop counts as running in this thread, and
    Django (through asgiref's context-local storage) hands out other connection objects than the
    test database's own: ORM calls then need DJANGO_ALLOW_ASYNC_UNSAFE, and a database set up
    or flushed meanwhile would lose its serialized rollback. So Playwright lives only inside
    the test, between the database's setup and its flush, and closes the connections it saw.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM} (Debian's 'chromium', or set ICHLABEL_CHROMIUM)")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def page(browser, console) -> Iterator:
    """A fresh page (own cookies) whose console errors fail the test that used it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    console.attach(page)
    yield page
    context.close()
    console.assert_clean()

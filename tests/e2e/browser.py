"""Helpers for the browser tests: what went wrong in a page, logging in, waiting for a batch
or a chart."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

# ERR_ABORTED is a load the browser dropped because the page navigated on (the upload page
# moves to the batch page, the batch page reloads when done): no server fault. (/favicon.ico,
# which Chromium asks for by itself, leads to the site's icon: its failure is one.)
ALWAYS_ALLOWED = [re.compile(r"net::ERR_ABORTED")]

BATCH_PAGE = re.compile(r"/study/imports/[0-9a-f-]{36}/$")
FINISHED = ("succeeded", "warning", "failed", "canceled")


class ConsoleLog:
    """Everything that went wrong in a page: console errors, uncaught exceptions, failed loads."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._allowed: list[re.Pattern] = list(ALWAYS_ALLOWED)

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self._add(f"uncaught: {error}"))
        page.on(
            "requestfailed",
            lambda request: self._add(
                f"request failed: {request.method} {request.url} ({request.failure})"
            ),
        )

    def allow(self, pattern: str) -> None:
        """An error the test provokes on purpose (matched as a regular expression)."""
        self._allowed.append(re.compile(pattern))

    def assert_clean(self) -> None:
        errors = [e for e in self.errors if not any(p.search(e) for p in self._allowed)]
        assert not errors, "the browser reported errors:\n" + "\n".join(errors)

    def _on_console(self, message) -> None:
        if message.type in ("error", "assert"):
            url = (message.location or {}).get("url", "")
            self._add(f"console.{message.type}: {message.text} ({url})")

    def _add(self, error: str) -> None:
        self.errors.append(error)


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Log in through the login form, as a person would."""
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    if "/login/" in page.url:
        raise AssertionError(f"login as {username!r} failed: {page.inner_text('main')}")


def wait_for_batch_end(page, worker_log: Path, timeout_s: float = 60) -> None:
    """Wait on a batch's page until its import ends and the final report is rendered.

    The page script polls the batch and reloads the page once it ends (or the server rendered it
    ended already); the report totals exist only on the page rendered after the end.
    """
    page.wait_for_url(BATCH_PAGE, timeout=30_000)
    try:
        page.wait_for_function(
            "s => s.includes(document.querySelector('#batch-status')?.dataset.status)",
            arg=list(FINISHED),
            timeout=timeout_s * 1000,
        )
        page.locator("#report-totals").wait_for(state="visible", timeout=15_000)
    except PlaywrightTimeoutError:
        log = worker_log.read_text(errors="replace")[-3000:] if worker_log.exists() else "(none)"
        pytest.fail(
            f"the import did not end within {timeout_s:.0f} s; the page says: "
            f"{page.inner_text('#batch-status')!r}\nworker log (tail):\n{log}"
        )


def wait_for_chart(page, canvas_id: str) -> None:
    """Until the chart's canvas holds drawn (non-transparent) pixels."""
    page.wait_for_function(
        """(id) => {
            const canvas = document.getElementById(id);
            if (!canvas || !canvas.width) return false;
            const { width, height } = canvas;
            const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return true;
            return false;
        }""",
        arg=canvas_id,
    )


def canvas_is_drawn(page, selector: str) -> bool:
    """Whether the canvas at ``selector`` has non-black pixels (read back through a 2D
    canvas): a viewer that drew its slice, not a blank one."""
    return page.evaluate(
        """(selector) => {
            const source = document.querySelector(selector);
            if (!source || !source.width) return false;
            const copy = document.createElement('canvas');
            copy.width = source.width; copy.height = source.height;
            const ctx = copy.getContext('2d');
            ctx.drawImage(source, 0, 0);
            const data = ctx.getImageData(0, 0, copy.width, copy.height).data;
            for (let i = 0; i < data.length; i += 4) {
                if (data[i] > 16 || data[i + 1] > 16 || data[i + 2] > 16) return true;
            }
            return false;
        }""",
        selector,
    )

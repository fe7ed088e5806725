"""Benchmark: the reading view in headless Chromium (first slice, whole series cached, scroll).

Serves the app with gunicorn on a fresh data directory seeded with 512x512 demo phantoms,
then, in a fresh browser profile per run, opens a reader's first scan and measures from
navigation start: the first slice drawn (``data-loaded`` on #reader) and the whole series
cached (``data-prefetched``); scrolls with the arrow keys for two seconds and counts the frames
Cornerstone rendered; then opens the reader's next scan and measures it again, now with the
page's scripts in the browser's caches as they are for every scan after a session's first.
Baseline in the same browser: fetching every slice file of the series with plain ``fetch``
(the network and server part alone).
Targets: first slice <= 500 ms, series cached <= 2 s, scrolling >= 30 frames/s.

    uv run python bench/viewer.py [--runs 3]

Needs the frontend built (scripts/run or scripts/test build it) and Debian's chromium.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from appserver import ROOT, serve
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Records when #reader gets data-loaded and data-prefetched, then stops watching: the observer
# is the benchmark's, and must not slow the scrolling it measures afterwards.
MARKS = """
window.__marks = {};
const observer = new MutationObserver(() => {
  const reader = document.getElementById("reader");
  if (!reader) return;
  for (const name of ["loaded", "prefetched"]) {
    if (reader.dataset[name] && !(name in window.__marks)) window.__marks[name] = performance.now();
  }
  if ("prefetched" in window.__marks) observer.disconnect();
});
observer.observe(document, { attributes: true, subtree: true, childList: true });
"""
SCROLL = """
async () => {
  const viewer = document.getElementById("viewer");
  let frames = 0;
  viewer.addEventListener("CORNERSTONE_IMAGE_RENDERED", () => frames++);
  const count = Number(document.getElementById("reader").dataset.sliceCount);
  let direction = "ArrowUp", steps = 0;
  const started = performance.now();
  await new Promise((done) => {
    const tick = () => {
      if (performance.now() - started > 2000) return done();
      if (++steps % (count - 1) === 0) {
        direction = direction === "ArrowUp" ? "ArrowDown" : "ArrowUp";
      }
      document.dispatchEvent(new KeyboardEvent("keydown", { key: direction, bubbles: true }));
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return frames / ((performance.now() - started) / 1000);
}
"""
FETCH_ALL = """
async (urls) => {
  const started = performance.now();
  const load = (url) => fetch(url, { cache: "no-store" }).then((r) => r.arrayBuffer());
  await Promise.all(urls.map(load));
  return performance.now() - started;
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8793)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ichlabel-bench-") as tmp:
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="ichlabel.settings",
            ICHLABEL_DATA_DIR=tmp,
            LOG_LEVEL="WARNING",
        )
        env.pop("DATABASE_URL", None)
        for command in (
            ["migrate", "-v0"],
            ["collectstatic", "--noinput", "-v0"],
            ["seed_demo", "--scans-per-center", "2"],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
        with serve(env, args.port) as base:
            _measure(base, args.runs)


def _measure(base: str, runs: int) -> None:
    cold, warm, fps, fps_next, baseline = [], [], [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.add_init_script(MARKS)
            page.goto(f"{base}/login/")
            page.fill("input[name=username]", "neuro1")
            page.fill("input[name=password]", "ichlabel-demo")
            page.click("button[type=submit]")
            page.wait_for_url("**/reading/")
            # A reader looks at the worklist before choosing: let it finish loading.
            page.wait_for_load_state("networkidle")
            links = page.locator("#worklist a.button")
            first, second = links.nth(0).get_attribute("href"), links.nth(1).get_attribute("href")
            cold.append(_open(page, base + first))
            fps.append(page.evaluate(SCROLL))
            template = page.get_attribute("#reader", "data-slice-url")
            count = int(page.get_attribute("#reader", "data-slice-count"))
            urls = [template.replace("{index}", str(index)) for index in range(count)]
            baseline.append(page.evaluate(FETCH_ALL, urls))
            # The reader's next scan: the page's scripts are in the browser's caches by now.
            warm.append(_open(page, base + second))
            fps_next.append(page.evaluate(SCROLL))
            context.close()
        browser.close()
    print(f"series: {count} slices, 512x512; {runs} runs, each in a fresh browser profile")
    print(f"baseline, fetch of every slice file: median {statistics.median(baseline):.0f} ms")
    for title, marks in (("first scan of the session", cold), ("next scan", warm)):
        shown = statistics.median(mark["loaded"] for mark in marks)
        cached = statistics.median(mark["prefetched"] for mark in marks)
        print(
            f"{title}: first slice shown {shown:.0f} ms after navigation start "
            f"(target <= 500), whole series cached {cached:.0f} ms (target <= 2000)"
        )
    print(
        f"scrolling: median {statistics.median(fps):.0f} frames/s on the first scan, "
        f"{statistics.median(fps_next):.0f} on the next (target >= 30); "
        f"by run: {', '.join(f'{value:.0f}' for value in fps)}"
    )


def _open(page, url: str) -> dict:
    """Open a reading page and wait for its series; the marks in ms after navigation start."""
    page.goto(url)
    page.wait_for_selector("#reader[data-prefetched]", timeout=60000)
    return page.evaluate("window.__marks")


if __name__ == "__main__":
    main()

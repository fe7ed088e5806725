"""Benchmark: the reading view in headless Chromium, as a user of scripts/run gets it.

Serves the app exactly as scripts/run does (its settings, collectstatic with their storage,
gunicorn with gunicorn.conf.py) on a fresh data directory seeded with the 512x512 demo phantoms
of scripts/run's seed_demo (not its training cohort, which no reader reads), and picks two of a
reader's scans of 36 slices (the nearest when none has 36). Then, in a fresh browser profile per
run, logs in, waits on the worklist as a reader would, opens the first scan and measures from
navigation start: the first slice on screen (``data-first-image`` on #reader: drawn by the
page's own first-image path, or by the stack viewer where that path leaves a file to it), the
stack viewer ready (``data-loaded``) and the whole series cached (``data-prefetched``); scrolls
with the arrow keys for two seconds (one key a frame, each a task of its own, as keys from a
keyboard arrive) and counts the frames the viewer rendered; then opens the reader's next scan in
the same profile and measures it again. Baseline in the same browser and run: fetching every
slice file of the series with plain ``fetch`` (network and server alone). Prints medians over
the runs and the targets.

    uv run python bench/viewer.py [--runs 5]

Needs the frontend built (scripts/run or scripts/test build it) and Debian's chromium.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from appserver import ROOT, serve
from playwright.sync_api import sync_playwright

SLICES = 36
TARGETS = {"first": 400, "next": 250, "series": 1500, "fps": 30}
# The reads of neuro1, nearest to SLICES slices first (printed as JSON by manage.py shell).
PICK_READS = f"""
import json
from annotations.models import Read
reads = Read.objects.filter(reader__username="neuro1", status__in=["assigned", "in_progress"])
def distance(read):
    return abs(read.scan.slice_count - {SLICES}), read.pk
reads = sorted(reads.select_related("scan"), key=distance)
print(json.dumps([[r.pk, r.scan.slice_count] for r in reads[:2]]))
"""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Records when #reader gets data-first-image, data-loaded and data-prefetched, then stops
# watching: the observer is the benchmark's, and must not slow the scrolling it measures later.
MARKS = """
window.__marks = {};
const observer = new MutationObserver(() => {
  const reader = document.getElementById("reader");
  if (!reader) return;
  for (const name of ["firstImage", "loaded", "prefetched"]) {
    if (reader.dataset[name] && !(name in window.__marks)) window.__marks[name] = performance.now();
  }
  if ("prefetched" in window.__marks) observer.disconnect();
});
observer.observe(document, { attributes: true, subtree: true, childList: true });
"""
# Arrow keys, one a frame, from the slice the page opened on (the read's last slice) to one end
# of the series and back between the ends: every key moves to a slice not on screen. Each key is
# a task of its own between two frames, as a key from the keyboard is (a key dispatched inside
# an animation frame callback would have its slice drawn only in the frame after next).
SCROLL = """
async () => {
  const viewer = document.getElementById("viewer");
  const reader = document.getElementById("reader");
  let frames = 0;
  viewer.addEventListener("CORNERSTONE_IMAGE_RENDERED", () => frames++);
  const last = Number(reader.dataset.sliceCount) - 1;
  let direction = "ArrowUp";
  const started = performance.now();
  await new Promise((done) => {
    const tick = () => {
      if (performance.now() - started > 2000) return done();
      setTimeout(() => {
        const current = Number(reader.dataset.current);
        if (current >= last) direction = "ArrowDown";
        else if (current <= 0) direction = "ArrowUp";
        document.dispatchEvent(new KeyboardEvent("keydown", { key: direction, bubbles: true }));
      });
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
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8793)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ichlabel-bench-") as tmp:
        # scripts/run's environment: its settings and embedded defaults (SQLite, local files).
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="ichlabel.settings",
            ICHLABEL_DATA_DIR=tmp,
            LOG_LEVEL="WARNING",
        )
        for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
            env.pop(name, None)
        for command in (
            ["migrate", "--noinput", "-v0"],
            ["collectstatic", "--noinput", "-v0"],
            ["seed_demo", "--scans-per-center", "4", "--size", "512"],
        ):
            _manage(env, *command)
        reads = json.loads(_manage(env, "shell", "-c", PICK_READS).strip().splitlines()[-1])
        with serve(env, args.port) as base:
            _measure(base, args.runs, reads)


def _manage(env: dict, *command: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _measure(base: str, runs: int, reads: list[list[int]]) -> None:
    (first, first_slices), (second, second_slices) = reads
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
            cold.append(_open(page, f"{base}/reading/{first}/"))
            fps.append(page.evaluate(SCROLL))
            template = page.get_attribute("#reader", "data-slice-url")
            urls = [template.replace("{index}", str(index)) for index in range(first_slices)]
            baseline.append(page.evaluate(FETCH_ALL, urls))
            # The reader's next scan: the page's scripts are in the browser's caches by now.
            warm.append(_open(page, f"{base}/reading/{second}/"))
            fps_next.append(page.evaluate(SCROLL))
            context.close()
        browser.close()
    median = statistics.median
    print(
        f"series: {first_slices} and {second_slices} slices of 512x512; {runs} runs, "
        "each in a fresh browser profile; gunicorn as scripts/run starts it"
    )
    print(f"baseline, plain fetch of every slice file: median {median(baseline):.0f} ms")
    for title, marks, target in (
        ("first scan of the session", cold, TARGETS["first"]),
        ("next scan", warm, TARGETS["next"]),
    ):
        shown = [mark.get("firstImage", mark["loaded"]) for mark in marks]
        print(
            f"{title}: first slice shown {median(shown):.0f} ms after navigation start "
            f"(target <= {target}), viewer ready {median(m['loaded'] for m in marks):.0f} ms, "
            f"whole series cached {median(m['prefetched'] for m in marks):.0f} ms "
            f"(target <= {TARGETS['series']}); by run: "
            + ", ".join(f"{value:.0f}" for value in shown)
        )
    print(
        f"scrolling: median {median(fps):.1f} frames/s on the first scan, "
        f"{median(fps_next):.1f} on the next (target >= {TARGETS['fps']}); by run: "
        f"{', '.join(f'{a:.1f}/{b:.1f}' for a, b in zip(fps, fps_next, strict=True))}"
    )


def _open(page, url: str) -> dict:
    """Open a reading page and wait for its series; the marks in ms after navigation start."""
    page.goto(url)
    page.wait_for_selector("#reader[data-prefetched]", timeout=60000)
    return page.evaluate("window.__marks")


if __name__ == "__main__":
    main()

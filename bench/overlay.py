"""Benchmark: scrolling the reading view with the saliency overlay on against the same scrolling
with it off, in headless Chromium.

On a fresh SQLite installation: the reading demo (512 x 512 phantoms, neuroradiologists' reads),
a small model trained on the training demo (128 px, one epoch per stage: the maps' content does
not change what drawing them costs), approved, its output released for neuro1's first scan, and
that scan's maps of "any" computed by the job itself, in this process. The app is then served
by gunicorn; in a fresh browser profile neuro1 opens the read and scrolls it with the arrow keys,
one key per animation frame for two seconds, counting the slices Cornerstone rendered per
second: overlay off (the baseline), then on, alternating, --runs times each. With the overlay on
it also counts the rendered slices whose own map was on the canvas when the frame was drawn.
Target: scrolling with the overlay on at the frame rate without it (>= 30 frames/s).

    uv run python bench/overlay.py [--runs 5] [--seconds 2]

Needs the frontend built (scripts/run or scripts/test build it) and Debian's chromium.
"""

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# Scrolls for `seconds`, one arrow key per animation frame, turning at either end; the slices
# rendered per second, and (overlay on) how many of them had their own map on the canvas.
SCROLL = """
async (seconds) => {
  const viewer = document.getElementById("viewer");
  const reader = document.getElementById("reader");
  const canvas = document.getElementById("map-overlay");
  let frames = 0, matched = 0;
  const rendered = () => {
    frames++;
    if (canvas && !canvas.hidden && canvas.dataset.shown === reader.dataset.current) matched++;
  };
  viewer.addEventListener("CORNERSTONE_IMAGE_RENDERED", rendered);
  const count = Number(reader.dataset.sliceCount);
  let direction = "ArrowUp", steps = 0;
  const started = performance.now();
  await new Promise((done) => {
    const tick = () => {
      if (performance.now() - started > seconds * 1000) return done();
      if (++steps % (count - 1) === 0) {
        direction = direction === "ArrowUp" ? "ArrowDown" : "ArrowUp";
      }
      document.dispatchEvent(new KeyboardEvent("keydown", { key: direction, bubbles: true }));
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  viewer.removeEventListener("CORNERSTONE_IMAGE_RENDERED", rendered);
  return { fps: frames / ((performance.now() - started) / 1000), frames, matched };
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=8794)
    args = parser.parse_args()
    from demo_training import fresh_installation

    folder = fresh_installation("ichlabel-bench-overlay-")
    try:
        read_id, slices = _prepare()
        from appserver import serve

        env = dict(os.environ, LOG_LEVEL="WARNING")
        with serve(env, args.port) as base:
            _measure(base, read_id, slices, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _prepare() -> tuple[int, int]:
    """The demo, the approved model, its released and computed maps: (read id, slices)."""
    from demo_training import run as demo_training
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from annotations.models import Read
    from modelops.models import ModelStatus, ScanSaliencyRun, TrainingRun
    from modelops.releases.services import model_output_release
    from modelops.scan_saliency.services import scan_saliency_execute

    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("seed_demo", "--scans-per-center", "1", stdout=open(os.devnull, "w"))  # noqa: SIM115
    demo_training(4, {"cnn_epochs": 1, "epochs": 1})
    model = TrainingRun.objects.get().model_version
    model.status = ModelStatus.APPROVED
    model.save()
    reader = User.objects.get(username="neuro1")
    read = Read.objects.filter(reader=reader, scan__rows=512).order_by("pk").first()
    coordinator = User.objects.get(username="coordinator")
    model_output_release(
        model_version=model, scans=type(read.scan).objects.filter(pk=read.scan_id),
        released_by=coordinator,
    )  # fmt: skip
    run = ScanSaliencyRun.objects.get(model_version=model, scan=read.scan_id, label="any")
    run = scan_saliency_execute(run_id=run.pk)
    if run.status != "succeeded":
        raise SystemExit(f"maps {run.status}: {run.message}")
    print(f"maps of scan {read.scan_id} ({read.scan.slice_count} slices, 512 px): {run.message}")
    return read.pk, read.scan.slice_count


def _measure(base: str, read_id: int, slices: int, args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright
    from viewer import CHROMIUM_ARGS

    off, on, matched, frames = [], [], 0, 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("ICHLABEL_CHROMIUM", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", "neuro1")
        page.fill("input[name=password]", "ichlabel-demo")
        page.click("button[type=submit]")
        page.wait_for_url("**/reading/")
        page.goto(f"{base}/reading/{read_id}/")
        page.wait_for_selector("#reader[data-prefetched]", timeout=60000)
        page.wait_for_selector("#model-output", timeout=60000)
        page.keyboard.press("t")
        page.wait_for_selector("#model-output[data-loaded]", timeout=60000)
        for _ in range(args.runs):
            page.keyboard.press("t")  # off
            page.wait_for_selector("#map-overlay", state="hidden")
            off.append(page.evaluate(SCROLL, args.seconds)["fps"])
            page.keyboard.press("t")  # on
            result = page.evaluate(SCROLL, args.seconds)
            on.append(result["fps"])
            matched += result["matched"]
            frames += result["frames"]
        browser.close()
    print(f"series: {slices} slices, 512x512; overlay: 128 px maps; {args.runs} runs of "
          f"{args.seconds:g} s each way, alternating, in one browser page")  # fmt: skip
    print(
        f"scrolling, overlay off (baseline): median {statistics.median(off):.1f} frames/s "
        f"(runs: {', '.join(f'{v:.0f}' for v in off)})"
    )
    print(
        f"scrolling, overlay on:             median {statistics.median(on):.1f} frames/s "
        f"(runs: {', '.join(f'{v:.0f}' for v in on)}); "
        f"ratio on/off {statistics.median(on) / statistics.median(off):.2f} (target >= 30 frames/s "
        "and no loss against off)"
    )
    print(f"slices rendered with their own map on the canvas: {matched} of {frames}")


if __name__ == "__main__":
    if not Path("/usr/bin/chromium").exists() and "ICHLABEL_CHROMIUM" not in os.environ:
        raise SystemExit("needs Debian's chromium (or ICHLABEL_CHROMIUM)")
    main()

"""Benchmark: saliency maps on CPU, their speed in the paper's configuration and how well they
point at the lesions of phantoms.

speed: InceptionResNetV2 at 480 px with the paper's sequence head (random weights: timing does
    not depend on them), one scan of --slices slices. Times one call of
    ``SaliencyModel.maps`` (NormGrad at three layers and Grad-CAM, every slice, from one
    scan-level class output), median over --runs after a warm-up, against a baseline measured in
    the same process: the bare backbone's forward pass over the same slices.
localization: the README's demo training (phantoms at 128 px, small backbone, default
    configuration; ``bench/demo_training.py``) on a fresh SQLite installation, then a saliency
    run of the trained model on the held-out validation center: up to --per-subtype positive
    slices per subtype, scored against the phantoms' lesion masks. Prints the table of the run's
    page. Synthetic data: the figures compare the methods, they say nothing clinical.

    uv run python bench/saliency.py [--part speed|localization|both] [--slices 36] [--runs 3]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["speed", "localization", "both"], default="both")
    parser.add_argument("--slices", type=int, default=36)
    parser.add_argument("--size", type=int, default=480)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=8, help="slices per backward chunk")
    parser.add_argument("--scans-per-center", type=int, default=24)
    parser.add_argument("--per-subtype", type=int, default=10)
    args = parser.parse_args()
    if args.part in ("speed", "both"):
        speed(args)
    if args.part in ("localization", "both"):
        localization(args)


def speed(args: argparse.Namespace) -> None:
    from modelops.ml.model import build_backbone, build_scan_model, build_sequence_head
    from modelops.ml.saliency import SaliencyModel, Target

    backbone = build_backbone("inception_resnet_v2", args.size)
    head = build_sequence_head(backbone.output_shape[-1], rnn_units=64, attention_units=64)
    model = build_scan_model(backbone, head, 64, args.size)
    saliency = SaliencyModel(model, chunk_slices=args.chunk)
    images = np.random.default_rng(0).uniform(0, 1, (args.slices, args.size, args.size, 3))
    images = images.astype(np.float32)
    print(
        f"inception_resnet_v2 at {args.size} px, {args.slices} slices, backward in chunks of "
        f"{args.chunk}; NormGrad layers {', '.join(saliency.layers.normgrad)}, Grad-CAM "
        f"{saliency.layers.gradcam}; {os.cpu_count()} CPUs"
    )
    baseline = _median_s(
        lambda: backbone.predict(images, batch_size=args.chunk, verbose=0), args.runs
    )
    print(f"baseline, backbone forward pass alone: median {baseline:.2f} s per scan")
    median = _median_s(lambda: saliency.maps(images, Target("any")), args.runs)
    maps = 2 * args.slices
    print(
        f"SaliencyModel.maps (both methods, every slice): median {median:.2f} s per scan, "
        f"{maps / median:.2f} maps/s ({args.slices / median:.2f} slices/s), "
        f"{median / baseline:.2f}x the baseline"
    )


def localization(args: argparse.Namespace) -> None:
    from bench.demo_training import fresh_installation
    from bench.demo_training import run as demo_training

    folder = fresh_installation("ichlabel-bench-saliency-")
    from django.contrib.auth.models import User

    from modelops.models import TrainingRun
    from modelops.saliency.services import saliency_run_execute, saliency_run_request

    trained = demo_training(args.scans_per_center, {})
    print(json.dumps({k: trained[k] for k in ("scans", "held_out_center_auroc_any")}))
    model = TrainingRun.objects.get().model_version
    run, _ = saliency_run_request(
        model_version=model,
        split="validation",
        per_subtype=args.per_subtype,
        created_by=User.objects.get(username="mlengineer"),
    )
    started = time.perf_counter()
    run = saliency_run_execute(run_id=run.pk)
    elapsed = time.perf_counter() - started
    print(
        f"saliency run: {run.status}, {run.slices_done} slices of the held-out center, "
        f"{2 * run.slices_done} maps in {elapsed:.1f} s ({run.message})"
    )
    _print_table(run.localization)
    shutil.rmtree(folder, ignore_errors=True)


def _print_table(summary: dict) -> None:
    print(
        f"{'method':9} {'subtype':8} {'maps':>4}  {'pointing game':22} {'energy inside':22} "
        f"{'deletion AUC'}"
    )
    for row in summary["outlined"]:
        print(
            f"{row['method']:9} {row['subtype'] or 'all':8} {row['n']:>4}  "
            f"{_estimate(row['pointing_game']):22} {_estimate(row['energy_share']):22} "
            f"{_estimate(row['deletion_auc'], percent=False)}"
        )


def _estimate(estimate: dict, percent: bool = True) -> str:
    value, lower, upper = (estimate.get(k) for k in ("value", "lower", "upper"))
    if value is None:
        return "-"
    scale, unit = (100, "%") if percent else (1, "")
    if lower is None or upper is None:
        return f"{value * scale:.3g}{unit}"
    return f"{value * scale:.3g}{unit} ({lower * scale:.3g}-{upper * scale:.3g})"


def _median_s(call, runs: int) -> float:
    """Median wall time of ``runs`` calls after one warm-up call."""
    call()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    print(f"  runs: {', '.join(f'{t:.2f}' for t in timings)} s")
    return statistics.median(timings)


if __name__ == "__main__":
    main()

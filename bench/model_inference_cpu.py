"""Benchmark: one head CT through the paper's model on CPU, raw HU to six scores.

The paper's configuration: InceptionResNetV2 (random weights: timing does not depend on them)
at 480 x 480, bidirectional GRU - attention - bidirectional GRU head. A synthetic scan of
--slices slices of 512 x 512 HU goes through the edge's path, `predict_scan`: windows, resize,
8-bit quantisation, then the model. Median over --runs after one warm-up run, against a
baseline measured in the same process: the bare backbone's forward pass over the same slices.
Target: <= 20 s per 36-slice scan on 2 CPU cores (the paper reported 45 s per scan, end to end).

    uv run python bench/model_inference_cpu.py [--slices 36] [--size 480] [--runs 3]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelops.ml.model import (  # noqa: E402
    build_backbone,
    build_scan_model,
    build_sequence_head,
)
from modelops.ml.predict import predict_scan  # noqa: E402


def main() -> None:
    args = _parse()
    backbone = build_backbone(args.backbone, args.size)
    head = build_sequence_head(backbone.output_shape[-1], rnn_units=64, attention_units=64)
    model = build_scan_model(backbone, head, 64, args.size)
    hu = _phantom(args.slices, args.pixels)
    z = np.arange(args.slices) * 5.0
    print(
        f"{args.backbone} at {args.size} px + sequence head: {model.count_params():,} parameters; "
        f"{args.slices} slices of {args.pixels} x {args.pixels} HU; {os.cpu_count()} CPUs"
    )
    # Baseline: the bare backbone's forward pass over the same slices, already preprocessed:
    # what any implementation of the paper's model pays; the rest is ours.
    images = np.zeros((args.slices, args.size, args.size, 3), dtype=np.float32)
    baseline = _median_s(lambda: backbone.predict(images, batch_size=args.slices, verbose=0), args)
    print(f"baseline, backbone forward pass alone: median {baseline:.2f} s per scan")
    median = _median_s(lambda: predict_scan(model, hu, z, image_size=args.size), args)
    print(
        f"predict_scan (preprocessing and sequence head included): median {median:.2f} s per "
        f"scan, {args.slices / median:.2f} slices/s, {median / baseline:.2f}x the baseline "
        f"(target <= 20 s for 36 slices)"
    )


def _median_s(call, args: argparse.Namespace) -> float:
    """Median wall time of ``args.runs`` calls after one warm-up call (graph tracing)."""
    call()
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    print(f"  runs: {', '.join(f'{t:.2f}' for t in timings)} s")
    return statistics.median(timings)


def _phantom(slices: int, pixels: int) -> np.ndarray:
    """Air, a skull ring and 30 HU brain with noise: realistic value ranges for the windows."""
    yy, xx = np.mgrid[:pixels, :pixels]
    radius = np.hypot(yy - pixels / 2, xx - pixels / 2)
    head = np.where(radius < 0.42 * pixels, 30.0, -1000.0)
    head = np.where((radius > 0.38 * pixels) & (radius < 0.42 * pixels), 1000.0, head)
    noise = np.random.default_rng(0).normal(0, 5, (slices, pixels, pixels))
    return (head[None] + noise).astype(np.float32)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, default=36)
    parser.add_argument("--size", type=int, default=480, help="model input size in pixels")
    parser.add_argument("--pixels", type=int, default=512, help="raw slice size in pixels")
    parser.add_argument("--backbone", default="inception_resnet_v2")
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args()


if __name__ == "__main__":
    main()

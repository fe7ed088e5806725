"""Benchmark: stage-1 training throughput (slices/s) on CPU.

Trains the slice classifier (backbone + six sigmoids, Adam, binary cross-entropy) on synthetic
window images with `train_on_batch`, as `modelops.ml.train` does, and separately times the NumPy
augmentation of the same batches (crop, rotation, flip, elastic), which runs on the CPU in
every configuration. Median over --runs of --steps steps each, after one warm-up step.

    uv run python bench/model_training_cpu.py [--backbone small] [--size 128] [--batch 16]
        [--steps 10] [--runs 3]
    uv run python bench/model_training_cpu.py --backbone inception_resnet_v2 --size 96 --batch 8
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import keras
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelops.ml.augment import augment_batch  # noqa: E402
from modelops.ml.model import build_backbone, build_slice_classifier  # noqa: E402


def main() -> None:
    args = _parse()
    keras.utils.set_random_seed(0)
    model = build_slice_classifier(build_backbone(args.backbone, args.size))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (args.batch, args.size, args.size, 3)).astype(np.float32)
    labels = (rng.random((args.batch, 6)) < 0.2).astype(np.float32)
    print(
        f"{args.backbone} at {args.size} px: {model.count_params():,} parameters; "
        f"batch {args.batch}; {os.cpu_count()} CPUs; backend {keras.backend.backend()}"
    )
    model.train_on_batch(images, labels)  # warm-up: tracing
    train, augment = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.steps):
            model.train_on_batch(images, labels)
        train.append(args.steps * args.batch / (time.perf_counter() - start))
        start = time.perf_counter()
        for _ in range(args.steps):
            augment_batch(images, rng)
        augment.append(args.steps * args.batch / (time.perf_counter() - start))
    print(f"training: median {statistics.median(train):.1f} slices/s ({_runs(train)})")
    print(
        f"augmentation alone: median {statistics.median(augment):.1f} slices/s ({_runs(augment)})"
    )


def _runs(values: list[float]) -> str:
    return "runs: " + ", ".join(f"{v:.1f}" for v in values)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="small", choices=("small", "inception_resnet_v2"))
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args()


if __name__ == "__main__":
    main()

"""Benchmark: InceptionResNetV2 training and inference throughput on one GPU.

Meant for a GPU machine with the JAX backend (KERAS_BACKEND=jax; this script then never imports
TensorFlow). Synthetic 480 x 480 window images, one batch reused every step, so data loading and
host-side augmentation are NOT included: this is the accelerator's ceiling for stage 1 (the
slice classifier), the part of the paper's 37-day training that scales with slices. Prints
training and inference slices/s (medians over --runs) and the hours one epoch of 2,250,000
slices would take at that rate. Target: >= 600 training slices/s on one H100.

    KERAS_BACKEND=jax python bench/model_training_gpu.py [--size 480] [--batch 32]
        [--steps 20] [--runs 3] [--mixed-precision]
    uv run python bench/model_training_gpu.py --size small   # smoke check on TF/CPU
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import keras
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelops.ml.model import build_backbone, build_slice_classifier  # noqa: E402

EPOCH_SLICES = 2_250_000
# --size small: a smoke check that the script runs anywhere, in seconds
SMOKE = {"size": 75, "batch": 2, "steps": 2}


def main() -> None:
    args = _parse()
    if args.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    keras.utils.set_random_seed(0)
    model = build_slice_classifier(build_backbone("inception_resnet_v2", args.size))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (args.batch, args.size, args.size, 3)).astype(np.float32)
    labels = (rng.random((args.batch, 6)) < 0.2).astype(np.float32)
    print(
        f"InceptionResNetV2 at {args.size} px, batch {args.batch}, backend "
        f"{keras.backend.backend()}, policy {keras.mixed_precision.global_policy().name}, "
        f"devices {_devices()}"
    )
    model.train_on_batch(images, labels)  # warm-up: compilation
    model.predict_on_batch(images)
    train = _rates(lambda: model.train_on_batch(images, labels), args)
    infer = _rates(lambda: model.predict_on_batch(images), args)
    rate = statistics.median(train)
    print(f"training: median {rate:.1f} slices/s ({_runs(train)}; target >= 600 on one H100)")
    print(f"inference: median {statistics.median(infer):.1f} slices/s ({_runs(infer)})")
    print(f"one epoch of {EPOCH_SLICES:,} slices: {EPOCH_SLICES / rate / 3600:.1f} h at that rate")


def _rates(step, args: argparse.Namespace) -> list[float]:
    rates = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.steps):
            result = step()
        # the last result back on the host: asynchronous backends have finished the steps
        np.asarray(result)
        rates.append(args.steps * args.batch / (time.perf_counter() - start))
    return rates


def _devices() -> str:
    if keras.backend.backend() == "jax":
        import jax

        return ", ".join(str(device) for device in jax.devices())
    return "default"


def _runs(values: list[float]) -> str:
    return "runs: " + ", ".join(f"{v:.1f}" for v in values)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="480", help="input size in pixels, or 'small'")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mixed-precision", action="store_true")
    args = parser.parse_args()
    if args.size == "small":
        args.size, args.batch, args.steps = SMOKE["size"], SMOKE["batch"], SMOKE["steps"]
    else:
        args.size = int(args.size)
    return args


if __name__ == "__main__":
    main()

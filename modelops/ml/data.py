"""Batches over a snapshot split: slices for stage 1, padded scans for the sequence stage.

Scans in one batch are right-padded to the longest of them, rounded up to a multiple of 8
(so JAX and tf.function compile a handful of shapes, not one per length) and capped at
`max_slices`; longer scans are centre-cropped along z. Padded steps are all PAD_VALUE and get
sample weight 0 in the slice loss, so they count neither in the loss nor in the scan output.
A cropped scan's label is the max over the kept slices' labels, so a bleed cut off by the crop
does not teach "positive" on slices without blood.
"""

import threading
from collections.abc import Iterator
from queue import Full, Queue

import numpy as np

from modelops.ml.augment import augment_batch, augment_scan
from modelops.ml.config import LABELS
from modelops.ml.model import PAD_VALUE
from modelops.ml.snapshot_format import SnapshotSplit

Batch = tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]
_LENGTH_STEP = 8
ANY = LABELS.index("any")


def n_batches(items: int, batch_size: int) -> int:
    return -(-items // batch_size)


def _order(n: int, rng: np.random.Generator | None) -> np.ndarray:
    return rng.permutation(n) if rng is not None else np.arange(n)


def slice_batches(
    split: SnapshotSplit,
    *,
    batch_size: int,
    rng: np.random.Generator | None = None,
    augment: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(images (b, size, size, 3) float32 0-1, labels (b, 6) float32); shuffled when `rng` is
    given, augmented when `augment` (which needs `rng`)."""
    order = _order(split.n_slices, rng)
    for start in range(0, len(order), batch_size):
        # reading in index order is kinder to the memory map; order within a batch is moot
        index = np.sort(order[start : start + batch_size])
        images = split.images[index].astype(np.float32) / np.float32(255.0)
        if augment:
            images = augment_batch(images, rng)
        yield images, split.slice_labels[index].astype(np.float32)


def crop_range(count: int, max_slices: int) -> tuple[int, int]:
    """The centred window of at most `max_slices` slices of a scan of `count` slices."""
    if count <= max_slices:
        return 0, count
    start = (count - max_slices) // 2
    return start, start + max_slices


def padded_length(longest: int, max_slices: int | None) -> int:
    length = n_batches(longest, _LENGTH_STEP) * _LENGTH_STEP
    return min(length, max_slices) if max_slices else length


def pad_steps(sequences: list[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences (t_i, ...) -> (n, length, ...) padded with PAD_VALUE, and the (n, length)
    0/1 mask of real steps."""
    shape = (len(sequences), length, *sequences[0].shape[1:])
    padded = np.full(shape, PAD_VALUE, dtype=np.float32)
    mask = np.zeros((len(sequences), length), dtype=np.float32)
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1.0
    return padded, mask


def cropped_scan_labels(
    scan_labels: np.ndarray, slice_labels: np.ndarray, start: int, stop: int
) -> np.ndarray:
    """The label of a scan cropped to slices [start, stop): per class, the max over the kept
    slices' labels where the scan has slice labels for that class (a positive slice anywhere),
    else the scan's own label (nothing says where that bleed lies); "any" is kept >= every
    subtype. An uncropped scan keeps its label."""
    scan_labels = np.asarray(scan_labels)
    if start == 0 and stop >= len(slice_labels):
        return scan_labels.copy()
    located = slice_labels.max(axis=0) > 0
    kept = slice_labels[start:stop].max(axis=0)
    label = np.where(located, kept, scan_labels).astype(scan_labels.dtype)
    label[ANY] = label.max()
    return label


def _scan_batch(
    split: SnapshotSplit, scans: np.ndarray, steps: list[np.ndarray], max_slices: int
) -> Batch:
    labels, scan_labels = [], []
    for i in scans:
        start, stop = crop_range(int(split.scan_index[i, 1]), max_slices)
        slice_labels = split.scan_slice_labels(int(i))
        labels.append(slice_labels[start:stop].astype(np.float32))
        scan_labels.append(cropped_scan_labels(split.scan_labels[i], slice_labels, start, stop))
    x, mask = pad_steps(steps, padded_length(max(len(s) for s in steps), max_slices))
    slice_y, _ = pad_steps(labels, x.shape[1])
    slice_y = np.where(slice_y == PAD_VALUE, 0.0, slice_y).astype(np.float32)
    # a crop can drop a scan's bleed: its label is then that of the slices the model sees
    scan_y = np.stack(scan_labels).astype(np.float32)
    weights = {"slice": mask, "scan": np.ones(len(scans), np.float32)}
    return x, {"slice": slice_y, "scan": scan_y}, weights


def scan_feature_batches(
    split: SnapshotSplit,
    features: np.ndarray,
    *,
    scans_per_batch: int,
    max_slices: int,
    rng: np.random.Generator | None = None,
) -> Iterator[Batch]:
    """Sequence-stage batches from precomputed per-slice features (n_slices, d):
    (x (b, t, d), y {"slice": (b, t, 6), "scan": (b, 6)}, sample weights alike)."""
    order = _order(len(split), rng)
    for begin in range(0, len(order), scans_per_batch):
        scans = order[begin : begin + scans_per_batch]
        steps = []
        for i in scans:
            start, count = (int(v) for v in split.scan_index[i])
            low, high = crop_range(count, max_slices)
            steps.append(features[start + low : start + high])
        yield _scan_batch(split, scans, steps, max_slices)


def scan_image_batches(
    split: SnapshotSplit,
    *,
    scans_per_batch: int,
    max_slices: int,
    rng: np.random.Generator | None = None,
    augment: bool = False,
) -> Iterator[Batch]:
    """End-to-end batches of images (b, t, size, size, 3); one augmentation map per scan."""
    order = _order(len(split), rng)
    for begin in range(0, len(order), scans_per_batch):
        scans = order[begin : begin + scans_per_batch]
        steps = []
        for i in scans:
            images = split.scan_images(int(i))
            low, high = crop_range(len(images), max_slices)
            images = images[low:high]
            steps.append(augment_scan(images, rng) if augment else images)
        yield _scan_batch(split, scans, steps, max_slices)


class _Done:
    """The end of a prefetched stream, carrying the producer's exception if it failed."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def prefetch(batches: Iterator, depth: int = 2) -> Iterator:
    """The same batches in the same order, prepared by a background thread up to `depth` ahead,
    so that reading and augmenting (NumPy and SciPy on the CPU) overlap the training step. The
    thread stops when the consumer stops early (a cancel, an error); the producer's exceptions
    are raised in the consumer."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        item: object = _Done()
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        queue.put(batch, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            item = _Done(error)
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return
            except Full:
                continue

    thread = threading.Thread(target=produce, name="batch-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)

"""The on-disk dataset snapshot that training reads: immutable, memory-mapped, byte-reproducible.

    <dir>/manifest.json             format, image_size, windows, slice_mm, labels, splits (+ extra)
    <dir>/<split>/images.npy        uint8 (n_slices, size, size, 3) = round(window value x 255)
    <dir>/<split>/slice_labels.npy  uint8 (n_slices, 6)
    <dir>/<split>/scan_index.npy    int64 (n_scans, 2): start, count of each scan's slices
    <dir>/<split>/scan_labels.npy   uint8 (n_scans, 6)
    <dir>/<split>/scans.json        [{"scan_id", "series_instance_uid", "center", "slices"}, ...]

A scan's slices are contiguous and ordered inferior to superior. Splits are "train",
"validation" and "test"; a split without scans has no folder. The writer streams images to disk
scan by scan (a dataset of millions of slices does not fit in memory) straight into images.npy
behind a fixed-length header that gets the final shape at the end (no second copy), builds
everything in `<dir>.partial` and renames it into place at the end, so a half-written snapshot
never exists under its final name. The same scans added in the same order give the same bytes.
"""

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from modelops.ml.config import LABELS
from modelops.ml.preprocess import PAPER_WINDOWS, preprocess_slices, resample_to_thickness

FORMAT = "ichlabel-snapshot/1"
SPLITS = ("train", "validation", "test")
# images.npy starts with a header of this fixed length, written as a placeholder when the split
# opens and rewritten in place with the final shape at close (a multiple of 64, as numpy aligns)
_NPY_HEADER_BYTES = 256


class _SplitBuffer:
    """One split being written: images streamed straight into images.npy behind a fixed-length
    header (rewritten with the final shape at close), the small arrays in lists."""

    def __init__(self, directory: Path, image_size: int) -> None:
        directory.mkdir()
        self.directory = directory
        self.image_size = image_size
        self.images_file = open(directory / "images.npy", "wb")  # noqa: SIM115 - closed in finish()
        self.images_file.write(_npy_header(self._shape(0)))
        self.slice_labels: list[np.ndarray] = []
        self.scan_index: list[tuple[int, int]] = []
        self.scan_labels: list[np.ndarray] = []
        self.scans: list[dict[str, Any]] = []
        self.n_slices = 0
        self.positive_scans = 0

    def append(
        self,
        images: np.ndarray,
        slice_labels: np.ndarray,
        scan: dict[str, Any],
        scan_labels: np.ndarray,
    ) -> None:
        self.images_file.write(np.ascontiguousarray(images).tobytes())
        self.scan_index.append((self.n_slices, len(images)))
        self.n_slices += len(images)
        self.slice_labels.append(slice_labels)
        self.scan_labels.append(scan_labels)
        self.scans.append(scan)
        self.positive_scans += int(scan_labels[0])

    def _shape(self, n_slices: int) -> tuple[int, int, int, int]:
        return (n_slices, self.image_size, self.image_size, 3)

    def finish(self) -> dict[str, int]:
        expected = _NPY_HEADER_BYTES + self.n_slices * self.image_size * self.image_size * 3
        written = self.images_file.tell()
        if written != expected:
            raise RuntimeError(
                f"{self.directory / 'images.npy'} holds {written} bytes, expected {expected}"
            )
        self.images_file.seek(0)
        self.images_file.write(_npy_header(self._shape(self.n_slices)))
        self.images_file.close()
        _save(self.directory / "slice_labels.npy", np.concatenate(self.slice_labels), np.uint8)
        _save(self.directory / "scan_index.npy", np.array(self.scan_index), np.int64)
        _save(self.directory / "scan_labels.npy", np.stack(self.scan_labels), np.uint8)
        _write_json(self.directory / "scans.json", self.scans)
        return {
            "scans": len(self.scans),
            "slices": self.n_slices,
            "positive_scans": self.positive_scans,
        }


def _save(path: Path, array: np.ndarray, dtype: type) -> None:
    np.save(path, np.ascontiguousarray(array, dtype=dtype), allow_pickle=False)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """A version 1.0 .npy header for C-ordered uint8 of `shape`, exactly _NPY_HEADER_BYTES long:
    magic, version, little-endian uint16 length, then the dict text padded with spaces to "\n"."""
    dims = tuple(int(n) for n in shape)
    text = "{'descr': '|u1', 'fortran_order': False, 'shape': " + repr(dims) + ", }"
    prefix = b"\x93NUMPY\x01\x00"
    length = _NPY_HEADER_BYTES - len(prefix) - 2
    if len(text) + 1 > length:
        raise ValueError(f"shape {shape} does not fit a {_NPY_HEADER_BYTES}-byte .npy header")
    body = (text + " " * (length - len(text) - 1) + "\n").encode("latin1")
    return prefix + length.to_bytes(2, "little") + body


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, sort_keys=True, indent=2) + "\n")


class SnapshotWriter:
    """Builds a snapshot scan by scan; `close()` publishes it under `directory`."""

    def __init__(
        self,
        directory: Path,
        *,
        image_size: int,
        windows: Sequence[tuple[float, float]] = PAPER_WINDOWS,
        slice_mm: float = 5.0,
    ) -> None:
        self.directory = Path(directory)
        if self.directory.exists():
            raise FileExistsError(f"snapshot directory {self.directory} already exists")
        self.partial = self.directory.with_name(self.directory.name + ".partial")
        if self.partial.exists():  # left by a crashed writer: nothing in it is trustworthy
            shutil.rmtree(self.partial)
        self.partial.mkdir(parents=True)
        self.image_size = int(image_size)
        self.windows = tuple((float(level), float(width)) for level, width in windows)
        self.slice_mm = float(slice_mm)
        self._splits: dict[str, _SplitBuffer] = {}
        self._closed = False

    def add_scan(
        self,
        split: str,
        *,
        scan_id: int,
        series_instance_uid: str,
        center: str,
        hu: np.ndarray,
        z_mm: np.ndarray,
        slice_labels: np.ndarray,
        scan_labels: np.ndarray,
    ) -> None:
        """Resample a thin series to `slice_mm`, window, resize, quantise and append one scan.

        `hu` is float (slices, rows, columns) in HU, sorted inferior to superior; `slice_labels`
        (slices, 6) and `scan_labels` (6,) are 0/1 in the order of LABELS.
        """
        if self._closed:
            raise RuntimeError("snapshot writer is closed")
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
        slice_labels = np.asarray(slice_labels)
        scan_labels = np.asarray(scan_labels, dtype=np.uint8)
        if hu.ndim != 3 or len(hu) == 0:
            raise ValueError(f"hu must be (slices, rows, columns) with slices >= 1, got {hu.shape}")
        if slice_labels.shape != (len(hu), len(LABELS)) or scan_labels.shape != (len(LABELS),):
            raise ValueError(
                f"labels must be (slices, {len(LABELS)}) and ({len(LABELS)},), got "
                f"{slice_labels.shape} and {scan_labels.shape}"
            )
        hu, _, slice_labels = resample_to_thickness(hu, z_mm, slice_labels, self.slice_mm)
        images = quantise(preprocess_slices(hu, size=self.image_size, windows=self.windows))
        if split not in self._splits:
            self._splits[split] = _SplitBuffer(self.partial / split, self.image_size)
        scan = {
            "scan_id": int(scan_id),
            "series_instance_uid": str(series_instance_uid),
            "center": str(center),
            "slices": len(images),
        }
        self._splits[split].append(images, slice_labels.astype(np.uint8), scan, scan_labels)

    def close(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write the arrays and manifest.json, publish the snapshot, return the manifest."""
        if self._closed:
            raise RuntimeError("snapshot writer is closed")
        self._closed = True
        splits = {name: self._splits[name].finish() for name in SPLITS if name in self._splits}
        manifest = dict(extra or {})
        manifest.update(
            {
                "format": FORMAT,
                "image_size": self.image_size,
                "windows": [list(pair) for pair in self.windows],
                "slice_mm": self.slice_mm,
                "labels": list(LABELS),
                "splits": splits,
            }
        )
        _write_json(self.partial / "manifest.json", manifest)
        os.replace(self.partial, self.directory)
        return json.loads(json.dumps(manifest))

    def abort(self) -> None:
        """Drop everything written so far."""
        self._closed = True
        for buffer in self._splits.values():
            buffer.images_file.close()
        shutil.rmtree(self.partial, ignore_errors=True)

    def __enter__(self) -> "SnapshotWriter":
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is not None and not self._closed:
            self.abort()


def quantise(images: np.ndarray) -> np.ndarray:
    """Window values in 0-1 to uint8 0-255, rounded to nearest."""
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


class SnapshotSplit:
    """One split, images memory-mapped: nothing is read until a slice is indexed."""

    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self.directory = Path(directory)
        self.images: np.memmap = np.load(self.directory / "images.npy", mmap_mode="r")
        self.slice_labels: np.ndarray = np.load(self.directory / "slice_labels.npy")
        self.scan_index: np.ndarray = np.load(self.directory / "scan_index.npy")
        self.scan_labels: np.ndarray = np.load(self.directory / "scan_labels.npy")
        self.scans: list[dict[str, Any]] = json.loads((self.directory / "scans.json").read_text())

    def __len__(self) -> int:
        return len(self.scan_index)

    def scan_slices(self, i: int) -> slice:
        start, count = (int(v) for v in self.scan_index[i])
        return slice(start, start + count)

    def scan_images(self, i: int) -> np.ndarray:
        """Scan i's slices as float32 (count, size, size, 3) in 0-1."""
        return self.images[self.scan_slices(i)].astype(np.float32) / np.float32(255.0)

    def scan_slice_labels(self, i: int) -> np.ndarray:
        return self.slice_labels[self.scan_slices(i)]

    @property
    def n_slices(self) -> int:
        return len(self.images)


class Snapshot:
    def __init__(self, directory: Path, manifest: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.manifest = manifest
        self.splits: tuple[str, ...] = tuple(s for s in SPLITS if s in manifest["splits"])
        self._open: dict[str, SnapshotSplit] = {}

    @property
    def image_size(self) -> int:
        return int(self.manifest["image_size"])

    @property
    def windows(self) -> tuple[tuple[float, float], ...]:
        return tuple((float(level), float(width)) for level, width in self.manifest["windows"])

    def split(self, name: str) -> SnapshotSplit:
        if name not in self.splits:
            raise KeyError(
                f"snapshot {self.directory} has no {name!r} split (present: "
                f"{', '.join(self.splits) or 'none'})"
            )
        if name not in self._open:
            self._open[name] = SnapshotSplit(self.directory / name, name)
        return self._open[name]


def open_snapshot(directory: Path) -> Snapshot:
    """A published snapshot; raises ValueError for another format."""
    directory = Path(directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{directory} is not an {FORMAT} snapshot: {manifest.get('format')!r}")
    return Snapshot(directory, manifest)

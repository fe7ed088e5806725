"""What a node does with one CT series: order its slices, turn them into the model's input exactly
as training saw it, run the installed build and decide per class.

The steps, each the app's own:

1. **Order** the slices along the slice normal (``ImageOrientationPatient``'s row x column
   cosines, turned to point to the head), by ``ImagePositionPatient`` projected on it: inferior
   to superior, as ``annotations/dicom/series.py`` orders every imported series. Only a series
   without that geometry falls back to ``InstanceNumber`` (ascending taken as inferior to
   superior, spaced by ``SpacingBetweenSlices`` or ``SliceThickness``), with a warning.
2. **Hounsfield units** through ``pydicom.pixels.apply_modality_lut``, as the app reads stored
   slices (``modelops/scan_pixels.py``).
3. **The model's input** by the steps of ``modelops.ml.predict.prepare_scan`` (which imports
   Keras, so the node cannot): ``resample_to_thickness`` to the build's ``slice_mm``,
   ``preprocess_slices`` with its windows and image size, then the snapshot's 8-bit
   quantisation (``modelops.ml.snapshot_format.quantise``, one line, repeated here) back to
   0-1. ``preprocess.py`` itself is the app's module, carried by the wheel unchanged; the
   tests hold this module's input to ``prepare_scan``'s, value for value.
4. **Inference** with onnxruntime (``runtime.predict_scan``): one scan, unpadded, so the
   manifest's ``pad_value`` plays no part.
5. **Decision** per class: positive when the scan score is at least the build's threshold
   (``any`` by its own threshold too; a subtype above its threshold while ``any`` is not is
   reported as decided, with a warning). Each model slice's scores go back to the original
   slices (the nearest model slice by z: the same slice unless thin slices were resampled into
   thicker ones); each positive class gets a key slice, the original slice nearest the model
   slice that scored highest for it.

A series that cannot be scored is refused with ``SeriesRefused`` and its reason: slices of more
than one series, a modality other than CT, instances without pixel data or with several
frames, mixed orientations or sizes, two slices at one position, or fewer than ``MIN_SLICES``.
A build whose manifest cannot decide (a class without a threshold, scores of another shape)
raises ``BuildRefused``.
"""

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

from ichlabel_edge.runtime import open_session, predict_scan
from ichlabel_edge.slots import InstalledBuild
from modelops.builds.manifest import BuildRefused
from modelops.ml.preprocess import preprocess_slices, resample_to_thickness

# A head CT at 5 mm has 25-40 slices; a localizer, a dose report or a few stray images is no
# volume the model was trained on.
MIN_SLICES = 10
# Largest difference of any direction cosine between two slices of one stack (about 0.06 deg),
# as the importer (annotations/dicom/series.py) allows.
ORIENTATION_TOLERANCE = 1e-3
# Pixel spacings that differ by more than rounding are different sizes in mm.
PIXEL_SPACING_TOLERANCE_MM = 1e-3
# Two slices closer than this along the normal occupy one position.
DUPLICATE_POSITION_TOLERANCE_MM = 0.01
# SOP Instance UIDs quoted in a refusal, so the files can be found.
EXAMPLES = 3
PIXEL_DATA_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


class SeriesRefused(Exception):
    """The series cannot be scored; the message says why. Nothing was run."""


@dataclass(frozen=True)
class OrderedSeries:
    """A series' slices from inferior to superior with their positions along the normal."""

    datasets: list[pydicom.Dataset]
    z_mm: np.ndarray  # (slices,) float64, increasing
    ordered_by: str  # "position" or "instance_number"
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SliceScores:
    """One original slice, its place and the scores of the model slice it lies in."""

    sop_instance_uid: str
    instance_number: int | None
    z_mm: float
    model_slice: int
    scores: dict[str, float]


@dataclass(frozen=True)
class Scored:
    """A scored series: scan scores, decision, every original slice's scores, key slices and
    timings. ``slices`` are the original slices from inferior to superior; ``key_slices`` names
    each positive class's key slice by its index there. ``timings_ms``: ``preprocess``
    (ordering, decoding, resampling, windows), ``inference``, and ``load_model`` when the
    session was opened for this series."""

    build: int
    model_name: str
    study_instance_uid: str
    series_instance_uid: str
    classes: tuple[str, ...]
    thresholds: dict[str, float]
    scan_scores: dict[str, float]
    decision: dict[str, bool]
    slices: tuple[SliceScores, ...]
    model_z_mm: tuple[float, ...]
    key_slices: dict[str, int]
    ordered_by: str
    warnings: tuple[str, ...]
    timings_ms: dict[str, float]
    # The model's input (model slices, size, size, 3), for the key slices' occlusion maps.
    images: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def positive(self) -> list[str]:
        """The positive classes, in the build's order."""
        return [name for name in self.classes if self.decision[name]]

    def key_slice(self, name: str) -> SliceScores:
        """The key slice of positive class ``name``."""
        return self.slices[self.key_slices[name]]


def score_series(
    datasets: Sequence[pydicom.Dataset],
    build: InstalledBuild,
    *,
    session: Any = None,
    min_slices: int = MIN_SLICES,
) -> Scored:
    """Scores one series with ``build``. ``session``: the build's onnxruntime session, when the
    caller keeps one open (else it is opened here, its time reported as ``load_model``).
    ``SeriesRefused`` when the series cannot be scored, ``BuildRefused`` when the build cannot
    decide."""
    manifest = build.manifest
    classes, thresholds, preprocessing = _decision_rules(manifest)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    ordered = order_series(datasets, min_slices=min_slices, slice_mm=preprocessing["slice_mm"])
    hu = series_hu(ordered.datasets)
    images, model_z = model_input(hu, ordered.z_mm, preprocessing)
    timings["preprocess"] = _ms_since(started)

    if session is None:
        started = time.perf_counter()
        session = open_session(build.directory / manifest["runtime"]["file"])
        timings["load_model"] = _ms_since(started)
    started = time.perf_counter()
    scores = predict_scan(session, images)
    timings["inference"] = _ms_since(started)

    expected = ((len(classes),), (len(images), len(classes)))
    if (scores.scan.shape, scores.slices.shape) != expected:
        raise BuildRefused(
            f"build {build.number}: the model gives scores of shape {scores.scan.shape} and "
            f"{scores.slices.shape}, the manifest's classes need {expected[0]} and {expected[1]}"
        )
    scored = _scored(
        build, ordered, classes, thresholds, scores.scan, scores.slices, model_z, timings
    )
    return dataclasses.replace(scored, images=images)


# Ordering


def order_series(
    datasets: Sequence[pydicom.Dataset],
    *,
    min_slices: int = MIN_SLICES,
    slice_mm: float = 5.0,
) -> OrderedSeries:
    """The series' slices from inferior to superior, or ``SeriesRefused`` with the reason.
    ``slice_mm`` spaces the slices only when neither position nor spacing is recorded."""
    datasets = list(datasets)
    if not datasets:
        raise SeriesRefused("the series has no instances")
    _check_one_ct_series(datasets)
    _check_pixel_data(datasets)
    _check_one_size(datasets)
    if len(datasets) < min_slices:
        raise SeriesRefused(
            f"the series has {len(datasets)} slices, fewer than the {min_slices} a scan needs"
        )
    if all(_has_geometry(ds) for ds in datasets):
        return _by_position(datasets)
    return _by_instance_number(datasets, slice_mm)


def _check_one_ct_series(datasets: list[pydicom.Dataset]) -> None:
    series = {str(ds.get("SeriesInstanceUID", "")) for ds in datasets}
    if len(series) > 1:
        raise SeriesRefused(f"the instances belong to {len(series)} series, not one")
    modalities = {str(ds.get("Modality", "")) for ds in datasets}
    if modalities != {"CT"}:
        raise SeriesRefused(
            f"the series' modality is {', '.join(sorted(modalities)) or 'missing'}, not CT: "
            "the model reads Hounsfield units"
        )


def _check_pixel_data(datasets: list[pydicom.Dataset]) -> None:
    missing = [ds for ds in datasets if not any(k in ds for k in PIXEL_DATA_KEYWORDS)]
    if missing:
        raise SeriesRefused(
            f"{len(missing)} of {len(datasets)} instances have no pixel data ({_examples(missing)})"
        )
    multiframe = [ds for ds in datasets if int(ds.get("NumberOfFrames", 1) or 1) > 1]
    if multiframe:
        raise SeriesRefused(
            f"{len(multiframe)} instances hold several frames ({_examples(multiframe)}): "
            "multi-frame (enhanced) CT is not read yet, only one slice per instance"
        )


def _check_one_size(datasets: list[pydicom.Dataset]) -> None:
    sizes: dict[tuple[int, int], int] = {}
    for ds in datasets:
        size = (int(ds.get("Rows", 0)), int(ds.get("Columns", 0)))
        sizes[size] = sizes.get(size, 0) + 1
    if len(sizes) > 1:
        counts = ", ".join(f"{r}x{c} ({n})" for (r, c), n in sorted(sizes.items()))
        raise SeriesRefused(f"the slices have mixed sizes (rows x columns: {counts})")
    spacings = [ds.get("PixelSpacing") for ds in datasets]
    present = [tuple(float(v) for v in s) for s in spacings if s is not None and len(s) == 2]
    if present and (len(present) != len(datasets) or _spread(present) > PIXEL_SPACING_TOLERANCE_MM):
        raise SeriesRefused("the slices have mixed pixel spacings: they are not one volume")


def _has_geometry(ds: pydicom.Dataset) -> bool:
    position, orientation = ds.get("ImagePositionPatient"), ds.get("ImageOrientationPatient")
    return (
        position is not None
        and orientation is not None
        and len(position) == 3
        and len(orientation) == 6
    )


def _by_position(datasets: list[pydicom.Dataset]) -> OrderedSeries:
    orientations = np.array(
        [[float(v) for v in ds.ImageOrientationPatient] for ds in datasets], np.float64
    )
    positions = np.array(
        [[float(v) for v in ds.ImagePositionPatient] for ds in datasets], np.float64
    )
    if not (np.isfinite(orientations).all() and np.isfinite(positions).all()):
        raise SeriesRefused("some slices' position or orientation is not a finite number")
    if float(np.abs(orientations - orientations[0]).max()) > ORIENTATION_TOLERANCE:
        distinct = len({tuple(np.round(o, 3)) for o in orientations})
        raise SeriesRefused(
            f"the slices have mixed orientations ({distinct} distinct "
            "ImageOrientationPatient values): they are not one stack"
        )
    normal = np.cross(orientations[0, :3], orientations[0, 3:])
    length = float(np.linalg.norm(normal))
    if not length > 0.5:  # parallel or zero cosines: no plane
        raise SeriesRefused("ImageOrientationPatient does not describe an image plane")
    normal /= length
    if normal[2] < 0:  # a flipped cosine: the axis of ordering always points to the head
        normal = -normal
    projected = positions @ normal
    order = np.argsort(projected, kind="stable")
    z = projected[order]
    _check_no_duplicates(z, "position")
    return OrderedSeries([datasets[i] for i in order], z, "position")


def _by_instance_number(datasets: list[pydicom.Dataset], slice_mm: float) -> OrderedSeries:
    numbers = [ds.get("InstanceNumber") for ds in datasets]
    if any(n is None or str(n).strip() == "" for n in numbers):
        raise SeriesRefused(
            "some slices have no ImagePositionPatient / ImageOrientationPatient and some "
            "no InstanceNumber: the slices cannot be ordered"
        )
    order = np.argsort(np.array([int(n) for n in numbers]), kind="stable")
    ranks = np.array([int(numbers[i]) for i in order], np.float64)
    _check_no_duplicates(ranks, "InstanceNumber")
    first = datasets[int(order[0])]
    spacing = abs(float(first.get("SpacingBetweenSlices") or first.get("SliceThickness") or 0))
    spacing = spacing if spacing > 0 else slice_mm
    z = np.arange(len(datasets), dtype=np.float64) * spacing
    return OrderedSeries(
        [datasets[i] for i in order],
        z,
        "instance_number",
        [
            "the slices lack ImagePositionPatient or ImageOrientationPatient: ordered by "
            f"InstanceNumber (ascending taken as inferior to superior), {spacing:g} mm "
            "apart"
        ],
    )


def _check_no_duplicates(sorted_values: np.ndarray, what: str) -> None:
    steps = np.diff(sorted_values)
    if len(steps) and float(steps.min()) < DUPLICATE_POSITION_TOLERANCE_MM:
        count = int((steps < DUPLICATE_POSITION_TOLERANCE_MM).sum())
        raise SeriesRefused(
            f"{count} pairs of slices share one {what}: the series holds more than one stack "
            "(or duplicates)"
        )


# Pixels and the model's input


def series_hu(datasets: Sequence[pydicom.Dataset]) -> np.ndarray:
    """The slices' pixels in Hounsfield units (slices, rows, columns), float32."""
    slices = []
    for ds in datasets:
        try:
            slices.append(np.asarray(apply_modality_lut(ds.pixel_array, ds), dtype=np.float32))
        except Exception as error:  # pydicom's decoders raise many kinds
            raise SeriesRefused(
                f"the pixel data of {ds.get('SOPInstanceUID', '?')} cannot be decoded: {error}"
            ) from error
    if any(s.shape != slices[0].shape for s in slices):
        raise SeriesRefused("the decoded slices have mixed sizes")
    return np.stack(slices)


def quantise(images: np.ndarray) -> np.ndarray:
    """Window values in 0-1 to uint8 0-255, rounded to nearest: the snapshot's
    ``modelops.ml.snapshot_format.quantise``, which the node cannot import."""
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def model_input(
    hu: np.ndarray, z_mm: np.ndarray, preprocessing: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Slices in HU from inferior to superior -> the model's input (slices, size, size,
    channels) in 0-1 and the model slices' z, by ``prepare_scan``'s steps with the build's
    preprocessing (image_size, windows, slice_mm)."""
    size = int(preprocessing["image_size"])
    windows = [(float(level), float(width)) for level, width in preprocessing["windows"]]
    no_labels = np.zeros((len(hu), 1), np.uint8)
    hu, z, _ = resample_to_thickness(hu, z_mm, no_labels, float(preprocessing["slice_mm"]))
    images = quantise(preprocess_slices(hu, size=size, windows=windows))
    return images.astype(np.float32) / np.float32(255.0), np.asarray(z, dtype=np.float64)


# Decision


def _decision_rules(
    manifest: dict[str, Any],
) -> tuple[tuple[str, ...], dict[str, float], dict[str, Any]]:
    """The build's classes, a threshold for each, and its preprocessing; ``BuildRefused`` when
    the manifest lacks any of them."""
    number = manifest.get("build")
    try:
        classes = tuple(str(name) for name in manifest["classes"])
        raw = manifest["thresholds"]
        given = manifest["preprocessing"]
        preprocessing = {
            "image_size": int(given["image_size"]),
            "windows": [(float(level), float(width)) for level, width in given["windows"]],
            "slice_mm": float(given["slice_mm"]),
        }
        missing = [name for name in classes if raw.get(name) is None]
        if missing:
            raise BuildRefused(
                f"build {number}: no threshold for {', '.join(missing)}: it cannot decide"
            )
        thresholds = {name: float(raw[name]) for name in classes}
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise BuildRefused(
            f"build {number}: the manifest's classes, thresholds or preprocessing are "
            f"incomplete: {error!r}"
        ) from error
    if not all(math.isfinite(t) for t in thresholds.values()):
        raise BuildRefused(f"build {number}: a threshold is not a finite number")
    return classes, thresholds, preprocessing


def _scored(
    build: InstalledBuild,
    ordered: OrderedSeries,
    classes: tuple[str, ...],
    thresholds: dict[str, float],
    scan: np.ndarray,
    slice_scores: np.ndarray,
    model_z: np.ndarray,
    timings: dict[str, float],
) -> Scored:
    scan_scores = {name: float(scan[i]) for i, name in enumerate(classes)}
    decision = {name: scan_scores[name] >= thresholds[name] for name in classes}
    # the nearest model slice of each original slice (the same one unless resampled)
    nearest = np.abs(ordered.z_mm[:, None] - model_z[None, :]).argmin(axis=1)
    slices = tuple(
        SliceScores(
            sop_instance_uid=str(ds.SOPInstanceUID),
            instance_number=_int_or_none(ds.get("InstanceNumber")),
            z_mm=float(ordered.z_mm[i]),
            model_slice=int(nearest[i]),
            scores={name: float(slice_scores[nearest[i], c]) for c, name in enumerate(classes)},
        )
        for i, ds in enumerate(ordered.datasets)
    )
    key_slices = {}
    for c, name in enumerate(classes):
        if decision[name]:
            best = int(np.argmax(slice_scores[:, c]))
            key_slices[name] = int(np.abs(ordered.z_mm - model_z[best]).argmin())
    warnings = list(ordered.warnings)
    if "any" in decision and not decision["any"]:
        above = [name for name in classes if name != "any" and decision[name]]
        if above:
            warnings.append(
                f"{', '.join(above)} above threshold while any is not: decided as scored"
            )
    first = ordered.datasets[0]
    return Scored(
        build=build.number,
        model_name=str((build.manifest.get("model") or {}).get("name", "")),
        study_instance_uid=str(first.get("StudyInstanceUID", "")),
        series_instance_uid=str(first.get("SeriesInstanceUID", "")),
        classes=classes,
        thresholds=thresholds,
        scan_scores=scan_scores,
        decision=decision,
        slices=slices,
        model_z_mm=tuple(float(z) for z in model_z),
        key_slices=key_slices,
        ordered_by=ordered.ordered_by,
        warnings=tuple(warnings),
        timings_ms=timings,
    )


# Small helpers


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _examples(datasets: Sequence[pydicom.Dataset]) -> str:
    uids = [str(ds.get("SOPInstanceUID", "?")) for ds in datasets[:EXAMPLES]]
    return "e.g. " + ", ".join(uids)


def _spread(values: list[tuple[float, ...]]) -> float:
    array = np.array(values, np.float64)
    return float(np.abs(array - array[0]).max())


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

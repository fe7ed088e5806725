"""Order the slices of one CT series and check that they form one axial volume.

The DICOM patient coordinate system
-----------------------------------
Every CT slice states where it lies in the *patient* coordinate system (LPS), whose axes are
fixed to the patient, not to the scanner or the screen: +x points to the patient's left, +y to
the patient's back (posterior) and +z to the head (superior). Three attributes place a slice:

* ImagePositionPatient (0020,0032): x, y, z in mm of the centre of the first transmitted pixel
  (the top-left corner of the image).
* ImageOrientationPatient (0020,0037): two unit vectors, the direction cosines of the image rows
  (the direction in which the column index grows) and of the image columns (the direction in
  which the row index grows). They must be orthogonal.
* PixelSpacing (0028,0030): the distance in mm between rows and between columns.

The cross product ``row x column`` is the slice normal. Projecting ImagePositionPatient onto it
gives each slice's position along the stack; sorting those positions is the only order that
matches the anatomy. For an ordinary axial head CT (orientation 1,0,0 / 0,1,0) the normal is +z,
so ascending position runs from the feet towards the vertex (inferior to superior). A normal
that points to the feet (a flipped cosine) is turned around, so every series is ordered
inferior to superior.

With gantry tilt the image plane is rotated about the patient's left-right axis, so the normal
leans away from z, while the table (and with it ImagePositionPatient) still moves along z. The
in-plane part of the positions then drifts steadily from slice to slice: a sheared stack, which
is still one volume. Any other in-plane scatter means the files are not one stack.

Why InstanceNumber is never trusted
-----------------------------------
InstanceNumber (0020,0013) only "identifies this image" within its series: the standard gives it
no geometric meaning. Scanners number head CT from the vertex down or from the skull base up,
by acquisition time, or restart per reconstruction; PACS exports and anonymisers renumber or drop
it; merged series repeat it. Sorting by it can flip or scramble the volume and would put a
hemorrhage label on the wrong slice. Here it is only compared with the position order, and a
disagreement is reported as information.

``order_series`` raises ``GeometryError`` (one sentence for the study coordinator) when the series
must be refused, and returns warnings as ``Finding`` objects when the import may proceed.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from annotations.dicom.errors import GeometryError

# Direction cosines are written with 5-6 decimals by conforming writers (rounding error around
# 1e-6); a vector whose length is off by more than 1e-3 was computed or copied wrongly.
UNIT_LENGTH_TOLERANCE = 1e-3
# |cos| of the angle between the row and column cosines; 1e-3 is 0.06 deg off a right angle,
# far above the rounding of a conforming writer and far below any real skew.
ORTHOGONALITY_TOLERANCE = 1e-3
# Largest difference of any direction cosine between two instances of one stack (about
# 0.06 deg). Instances of a single acquisition carry identical cosines; more is another stack.
ORIENTATION_MATCH_TOLERANCE = 1e-3
# Gantry tilt beyond this is refused by default: the study reads axial series, and a slab
# tilted further (or a sagittal / coronal reformat at 90 deg) is a different reconstruction.
MAX_TILT_DEG = 30.0
# Tilt below this is positioning or rounding noise, not a tilted gantry worth reporting.
TILT_FINDING_DEG = 0.5
# Rows and columns must match exactly; PixelSpacing may differ by rounding only (0.001 mm is
# 0.5 mm over a 512-pixel row at most).
PIXEL_SPACING_TOLERANCE_MM = 1e-3
# Two instances closer than this along the normal occupy the same slice: far below the
# thinnest CT spacing (about 0.25 mm) and above the rounding of written positions.
DUPLICATE_POSITION_TOLERANCE_MM = 0.01
# Every slice must lie within this distance (in the image plane) of the stack's common axis,
# straight or sheared by gantry tilt; more means images from different places or acquisitions.
LINE_TOLERANCE_MM = 1.0
# A step this many times the median spacing is a gap (at least one slice missing).
GAP_FACTOR = 1.5
# Steps that differ from the median by more than this fraction (but are no gaps) are irregular.
IRREGULAR_SPACING_FRACTION = 0.10
# Slice thicknesses that differ by more than this are different (values are written in 0.01s).
THICKNESS_TOLERANCE_MM = 0.01
# Instance keys quoted in a refusal message, so the coordinator can find the files.
EXAMPLE_KEYS = 3

_Z_AXIS = np.array([0.0, 0.0, 1.0])
_PLANE_NAMES = ("sagittal", "coronal", "axial")


@dataclass(frozen=True)
class InstanceGeometry:
    """The geometry attributes of one instance, as read from its header."""

    key: str
    image_position: tuple[float, float, float] | None
    image_orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    rows: int
    columns: int
    slice_thickness: float | None = None
    instance_number: int | None = None


@dataclass(frozen=True)
class Finding:
    """A warning about a series that is still imported; ``code`` is for machines."""

    code: str
    message: str


@dataclass(frozen=True)
class OrderedSeries:
    """A series in position order along its slice normal, with the warnings found on the way."""

    keys: list[str]
    positions_mm: list[float]
    normal: tuple[float, float, float]
    spacing_mm: float | None
    findings: list[Finding]


def order_series(
    instances: Sequence[InstanceGeometry],
    *,
    max_tilt_deg: float = MAX_TILT_DEG,
    gap_factor: float = GAP_FACTOR,
    irregular_fraction: float = IRREGULAR_SPACING_FRACTION,
) -> OrderedSeries:
    """Order ``instances`` by position along the slice normal; raise GeometryError to refuse."""
    if not instances:
        raise GeometryError("the series has no instances.")
    keys = [instance.key for instance in instances]
    _check_present(instances)
    values = _as_array(instances)
    _check_finite(keys, values)
    positions, orientations, spacings = values[:, :3], values[:, 3:9], values[:, 9:]
    _check_size(instances)
    _check_pixel_spacing(keys, spacings)
    _check_cosines(keys, orientations)
    _check_one_orientation(orientations)
    normal = _slice_normal(orientations.sum(axis=0))
    tilt = _tilt_deg(normal)
    _check_axial(normal, tilt, max_tilt_deg)
    # A flipped row or column cosine makes the normal point to the feet; ICHLabel orders every
    # head CT from inferior to superior, so the axis of ordering always points to the head.
    if normal[2] < 0:
        normal = -normal

    projected = positions @ normal
    order = np.argsort(projected, kind="stable")
    sorted_mm = projected[order]
    _check_duplicates(sorted_mm)
    _check_one_line(keys, positions, projected, normal)

    findings: list[Finding] = []
    if tilt > TILT_FINDING_DEG:
        findings.append(_tilt_finding(tilt))
    spacing = None
    if len(instances) == 1:
        findings.append(Finding("single_slice", "The series has a single slice, not a volume."))
    else:
        spacing = _median((sorted_mm[1:] - sorted_mm[:-1]).tolist())
        findings += _spacing_findings(sorted_mm, spacing, gap_factor, irregular_fraction)
    findings += _thickness_findings(instances)
    findings += _instance_order_findings([instances[i] for i in order], sorted_mm)
    return OrderedSeries(
        keys=[keys[i] for i in order],
        positions_mm=sorted_mm.tolist(),
        normal=(float(normal[0]), float(normal[1]), float(normal[2])),
        spacing_mm=spacing,
        findings=findings,
    )


# --- refusals -----------------------------------------------------------------------------


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _examples(keys: Sequence[str], mask: np.ndarray | Sequence[bool]) -> str:
    chosen = [key for key, hit in zip(keys, mask, strict=True) if hit][:EXAMPLE_KEYS]
    return "e.g. " + ", ".join(chosen)


def _check_present(instances: Sequence[InstanceGeometry]) -> None:
    """Refuse when any instance lacks (or has a malformed) position, orientation or spacing."""
    if all(_complete(instance) for instance in instances):
        return
    total = len(instances)
    attributes = (
        ("ImagePositionPatient", "image_position", 3),
        ("ImageOrientationPatient", "image_orientation", 6),
        ("PixelSpacing", "pixel_spacing", 2),
    )
    keys = [instance.key for instance in instances]
    problems = []
    for name, field, size in attributes:
        values = [getattr(instance, field) for instance in instances]
        missing = [value is None for value in values]
        malformed = [value is not None and len(value) != size for value in values]
        if any(missing):
            problems.append(
                f"missing {name} on {sum(missing)} of {total} instances "
                f"({_examples(keys, missing)})"
            )
        if any(malformed):
            problems.append(
                f"{name} without {size} values on {sum(malformed)} of {total} instances "
                f"({_examples(keys, malformed)})"
            )
    if problems:
        raise GeometryError("; ".join(problems) + ".")


def _complete(instance: InstanceGeometry) -> bool:
    position, orientation, spacing = (
        instance.image_position,
        instance.image_orientation,
        instance.pixel_spacing,
    )
    return (
        position is not None
        and orientation is not None
        and spacing is not None
        and len(position) == 3
        and len(orientation) == 6
        and len(spacing) == 2
    )


def _as_array(instances: Sequence[InstanceGeometry]) -> np.ndarray:
    """One (N, 11) array: position (3), orientation (6), pixel spacing (2) of each instance."""
    rows = [
        (*i.image_position, *i.image_orientation, *i.pixel_spacing)  # type: ignore[misc]
        for i in instances
    ]
    return np.array(rows, dtype=float)


def _check_finite(keys: Sequence[str], values: np.ndarray) -> None:
    finite = np.isfinite(values)
    if finite.all():
        return
    named = (
        ("ImagePositionPatient", finite[:, :3]),
        ("ImageOrientationPatient", finite[:, 3:9]),
        ("PixelSpacing", finite[:, 9:]),
    )
    for name, column_finite in named:
        bad = ~column_finite.all(axis=1)
        if bad.any():
            raise GeometryError(
                f"{name} is not a finite number on {int(bad.sum())} of {len(keys)} instances "
                f"({_examples(keys, bad)})."
            )


def _check_size(instances: Sequence[InstanceGeometry]) -> None:
    rows, columns = instances[0].rows, instances[0].columns
    if all(i.rows == rows and i.columns == columns for i in instances):
        return
    sizes = Counter((instance.rows, instance.columns) for instance in instances)
    listed = ", ".join(f"{r}x{c} ({_plural(n, 'instance')})" for (r, c), n in sizes.most_common())
    raise GeometryError(f"instances differ in image size (rows x columns): {listed}.")


def _check_pixel_spacing(keys: Sequence[str], spacings: np.ndarray) -> None:
    if (spacings <= 0).any():
        bad = (spacings <= 0).any(axis=1)
        raise GeometryError(
            f"PixelSpacing is not positive on {int(bad.sum())} of {len(keys)} instances "
            f"({_examples(keys, bad)})."
        )
    if np.abs(spacings - spacings[0]).max() > PIXEL_SPACING_TOLERANCE_MM:
        distinct = Counter((round(row, 3), round(col, 3)) for row, col in spacings.tolist())
        listed = ", ".join(
            f"{r:g} x {c:g} mm ({_plural(n, 'instance')})" for (r, c), n in distinct.items()
        )
        raise GeometryError(f"instances differ in PixelSpacing: {listed}.")


def _check_cosines(keys: Sequence[str], orientations: np.ndarray) -> None:
    """Refuse row / column direction cosines that are not unit length or not orthogonal."""
    rows, columns = orientations[:, :3], orientations[:, 3:]
    lengths = np.sqrt((orientations * orientations).reshape(-1, 2, 3).sum(axis=2))  # (N, 2)
    errors = np.abs(lengths - 1.0)
    dots = np.abs((rows * columns).sum(axis=1))
    if errors.max() <= UNIT_LENGTH_TOLERANCE and dots.max() <= ORTHOGONALITY_TOLERANCE:
        return
    not_unit = (errors > UNIT_LENGTH_TOLERANCE).any(axis=1)
    if not_unit.any():
        worst = float(lengths.flat[errors.argmax()])
        raise GeometryError(
            f"ImageOrientationPatient has direction cosines that are not unit vectors "
            f"(length {worst:.4f}) on {int(not_unit.sum())} of {len(keys)} instances "
            f"({_examples(keys, not_unit)})."
        )
    skewed = dots > ORTHOGONALITY_TOLERANCE
    if skewed.any():
        angle = float(np.degrees(np.arccos(np.clip(dots.max(), 0.0, 1.0))))
        raise GeometryError(
            f"ImageOrientationPatient row and column cosines are not orthogonal "
            f"({angle:.2f} deg apart) on {int(skewed.sum())} of {len(keys)} instances "
            f"({_examples(keys, skewed)})."
        )


def _check_one_orientation(orientations: np.ndarray) -> None:
    if np.abs(orientations - orientations[0]).max() <= ORIENTATION_MATCH_TOLERANCE:
        return
    groups: list[tuple[np.ndarray, int]] = []
    for orientation in orientations:
        for index, (reference, count) in enumerate(groups):
            if np.abs(orientation - reference).max() <= ORIENTATION_MATCH_TOLERANCE:
                groups[index] = (reference, count + 1)
                break
        else:
            groups.append((orientation, 1))
    listed = ", ".join(
        f"{count} x [{', '.join(f'{value:.3f}' for value in reference)}]"
        for reference, count in sorted(groups, key=lambda group: -group[1])
    )
    raise GeometryError(
        f"instances have {len(groups)} distinct ImageOrientationPatient values ({listed}); "
        "the series mixes stacks."
    )


def _slice_normal(orientation: np.ndarray) -> np.ndarray:
    """Unit ``row x column``; plain floats, as np.cross costs more than the rest on 3 values."""
    rx, ry, rz, cx, cy, cz = orientation.tolist()
    normal = (ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx)
    length = math.sqrt(sum(value * value for value in normal))
    return np.array(normal) / length


def _median(values: list[float]) -> float:
    """Median of a short list; sorting plain floats is ~10x faster than np.median here."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def _tilt_deg(normal: np.ndarray) -> float:
    """Angle between the slice normal and the patient head-foot (z) axis, either direction."""
    return float(np.degrees(np.arccos(min(1.0, abs(float(normal[2]))))))


def _check_axial(normal: np.ndarray, tilt: float, max_tilt_deg: float) -> None:
    if tilt <= max_tilt_deg:
        return
    plane = _PLANE_NAMES[int(np.abs(normal).argmax())]
    kind = "an oblique axial" if plane == "axial" else f"a {plane}"
    raise GeometryError(
        f"the slices are not axial: their normal is {tilt:.1f} deg from the patient head-foot "
        f"axis (limit {max_tilt_deg:g} deg), {kind} series; the study reads axial series."
    )


def _check_duplicates(sorted_mm: np.ndarray) -> None:
    close = (sorted_mm[1:] - sorted_mm[:-1]) < DUPLICATE_POSITION_TOLERANCE_MM
    if not close.any():
        return
    starts = np.flatnonzero(close & ~np.concatenate([[False], close[:-1]]))
    in_groups = int(close.sum()) + len(starts)
    shown = ", ".join(f"{sorted_mm[i]:.2f} mm" for i in starts[:5])
    more = f" and {len(starts) - 5} more" if len(starts) > 5 else ""
    raise GeometryError(
        f"{in_groups} instances share {_plural(len(starts), 'slice position')} "
        f"({shown}{more}); "
        "the series likely mixes two acquisitions."
    )


def _check_one_line(
    keys: Sequence[str], positions: np.ndarray, projected: np.ndarray, normal: np.ndarray
) -> None:
    """Refuse slices that do not lie on one axis, straight along the normal or gantry-sheared.

    The in-plane offset is the image position minus its component along the normal. A straight
    stack keeps it constant; a tilted gantry (table moving along z) shifts it by ``shear`` per mm
    along the normal. The model that fits better is taken.
    """
    if len(keys) < 2:
        return
    along = projected[:, None]
    offsets = positions - along * normal
    if _surely_on_axis(offsets):
        return
    cos_tilt = float(normal[2])
    shear = (_Z_AXIS - cos_tilt * normal) / cos_tilt
    models = (offsets, offsets - along * shear)
    if _surely_on_axis(models[1]):
        return
    best = min((_scatter(residuals) for residuals in models), key=lambda d: float(d.max()))
    off = best > LINE_TOLERANCE_MM
    if off.any():
        raise GeometryError(
            f"the slices are not stacked on one axis: {int(off.sum())} of {len(keys)} instances "
            f"lie up to {float(best.max()):.1f} mm off it in the image plane "
            f"(tolerance {LINE_TOLERANCE_MM:g} mm; {_examples(keys, off)}); "
            "the series is not one volume."
        )


def _surely_on_axis(residuals: np.ndarray) -> bool:
    """Fast sufficient test: the residuals' bounding box is no wider than the tolerance."""
    extent = residuals.max(axis=0) - residuals.min(axis=0)
    return float(extent @ extent) <= LINE_TOLERANCE_MM * LINE_TOLERANCE_MM


def _scatter(offsets: np.ndarray) -> np.ndarray:
    """Distance of each in-plane offset from the median one (robust to a few strays)."""
    return np.linalg.norm(offsets - np.median(offsets, axis=0), axis=1)


# --- findings -----------------------------------------------------------------------------


def _tilt_finding(tilt: float) -> Finding:
    return Finding(
        "tilted",
        f"Gantry tilt: the slice normal is {tilt:.1f} deg from the patient head-foot axis.",
    )


def _spacing_findings(
    sorted_mm: np.ndarray, spacing: float, gap_factor: float, irregular_fraction: float
) -> list[Finding]:
    steps = sorted_mm[1:] - sorted_mm[:-1]
    low, high = float(steps.min()), float(steps.max())
    if high <= gap_factor * spacing and max(high - spacing, spacing - low) <= (
        irregular_fraction * spacing
    ):
        return []
    gaps = steps > gap_factor * spacing
    findings = [
        Finding(
            "gap",
            f"Gap of {steps[i]:.2f} mm between the slices at {sorted_mm[i]:.2f} mm and "
            f"{sorted_mm[i + 1]:.2f} mm (median spacing {spacing:.2f} mm; "
            f"{_missing_slices(float(steps[i]), spacing)}).",
        )
        for i in np.flatnonzero(gaps)
    ]
    regular = steps[~gaps]
    irregular = np.abs(regular - spacing) > irregular_fraction * spacing
    if irregular.any():
        findings.append(
            Finding(
                "irregular_spacing",
                f"Irregular slice spacing: {int(irregular.sum())} of {len(steps)} steps differ "
                f"from the median {spacing:.2f} mm by more than {irregular_fraction:.0%} "
                f"(steps from {regular.min():.2f} to {regular.max():.2f} mm).",
            )
        )
    return findings


def _missing_slices(step: float, spacing: float) -> str:
    return f"about {_plural(max(1, round(step / spacing) - 1), 'slice')} missing"


def _thickness_findings(instances: Sequence[InstanceGeometry]) -> list[Finding]:
    values = [i.slice_thickness for i in instances if i.slice_thickness is not None]
    if not values or max(values) - min(values) <= THICKNESS_TOLERANCE_MM:
        return []
    counts = Counter(round(value, 2) for value in values)
    listed = ", ".join(
        f"{value:g} mm ({_plural(n, 'instance')})" for value, n in sorted(counts.items())
    )
    return [Finding("mixed_thickness", f"SliceThickness varies within the series: {listed}.")]


def _instance_order_findings(
    ordered: Sequence[InstanceGeometry], sorted_mm: np.ndarray
) -> list[Finding]:
    """Report when InstanceNumber, read in position order, is neither ascending nor descending."""
    numbered = [
        (i.instance_number, mm)
        for i, mm in zip(ordered, sorted_mm.tolist(), strict=True)
        if i.instance_number is not None
    ]
    steps = [b[0] - a[0] for a, b in pairwise(numbered)]
    if all(step > 0 for step in steps) or all(step < 0 for step in steps):
        return []
    direction = 1 if sum(step > 0 for step in steps) >= sum(step < 0 for step in steps) else -1
    first = next(k for k, step in enumerate(steps) if step * direction <= 0)
    (number_a, mm_a), (number_b, mm_b) = numbered[first], numbered[first + 1]
    return [
        Finding(
            "instance_order_differs",
            f"InstanceNumber does not follow slice position (e.g. instance {number_a} at "
            f"{mm_a:.2f} mm is followed by instance {number_b} at {mm_b:.2f} mm); the slices "
            "are ordered by ImagePositionPatient.",
        )
    ]

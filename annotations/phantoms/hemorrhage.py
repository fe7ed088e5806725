"""Hemorrhages of the phantom: each subtype with its typical shape, place and density.

Acute blood is 50-90 HU on CT (clot protein; fresh clot retracts and gets denser), against ~30-40 HU
brain and ~5 HU CSF. Each subtype is drawn the way a radiologist recognises it:

- IPH: a lobulated blob in the parenchyma (basal ganglia, thalamus, lobar, cerebellum), often with a
  rim of oedema (~20 HU).
- IVH: blood sinks in the ventricles of a supine patient: it fills their dependent (posterior) part
  up to a horizontal fluid level, first in the occipital horns.
- SAH: thin hyperdensity replacing CSF in the basal cisterns and Sylvian fissures, or in convexity
  sulci; a bit less dense (~50-70 HU) because blood mixes with CSF.
- SDH: a crescent along the inner table, thin and long: the subdural space is not stopped by the
  sutures, so it spans a wide arc and many slices.
- EDH: a biconvex lens against the inner table, short and thick: the dura is stuck at the sutures.

A lesion answers, for a painted slice, which pixels it covers; generate.py paints them in SUBTYPES
order and derives the truth from the pixels that end up labelled.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from annotations.vocabulary import SUBTYPES

from .anatomy import BRAIN_TISSUES, OCCIPITAL_TIP_MM, SliceAnatomy
from .geometry import SLICE_THICKNESS_MM, HeadGrid, HeadShape


@dataclass(frozen=True)
class Lesion:
    """Common part of every lesion: its subtype and acute-blood density (HU)."""

    subtype: str
    hu: float

    def blood(self, grid: HeadGrid, anat: SliceAnatomy) -> np.ndarray | None:
        """Pixels of this slice covered by blood, or None when the lesion misses the slice."""
        raise NotImplementedError

    def edema(self, grid: HeadGrid, anat: SliceAnatomy) -> np.ndarray | None:
        return None

    def describe(self) -> dict[str, object]:
        """Parameters for truth.json, rounded; informative only, the truth is per pixel."""
        return {k: _rounded(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ParenchymalBlob(Lesion):
    """IPH: a lobulated ellipsoid in the brain, with an oedema shell."""

    site: str
    center_mm: tuple[float, float, float]  # head-frame x, y and patient z
    radii_mm: tuple[float, float, float]
    lobes: tuple[float, float, float, float]  # amplitude and phase of 2- and 3-fold bumps
    edema_mm: float

    def _inside(self, grid: HeadGrid, anat: SliceAnatomy, grow: float) -> np.ndarray | None:
        cx, cy, cz = self.center_mm
        rx, ry, rz = (r + grow for r in self.radii_mm)
        dz = (anat.z_mm - cz) / rz
        if abs(dz) >= 1.0:
            return None
        rows, cols = grid.box(cx, cy, 1.4 * max(rx, ry))
        dx, dy = grid.x[rows, cols] - cx, grid.y[rows, cols] - cy
        a2, p2, a3, p3 = self.lobes
        phi = np.arctan2(dy, dx)
        bound = math.sqrt(1.0 - dz * dz) * (
            1.0 + a2 * np.cos(2 * phi + p2) + a3 * np.cos(3 * phi + p3)
        )
        out = np.zeros(anat.codes.shape, dtype=bool)
        out[rows, cols] = (dx / rx) ** 2 + (dy / ry) ** 2 < bound * bound
        return out & anat.intracranial & ~anat.ventricles

    def blood(self, grid: HeadGrid, anat: SliceAnatomy) -> np.ndarray | None:
        return self._inside(grid, anat, 0.0)

    def edema(self, grid: HeadGrid, anat: SliceAnatomy) -> np.ndarray | None:
        if self.edema_mm <= 0:
            return None
        shell = self._inside(grid, anat, self.edema_mm)
        return None if shell is None else shell & np.isin(anat.codes, BRAIN_TISSUES)


@dataclass(frozen=True)
class VentricularLayer(Lesion):
    """IVH: blood below a horizontal fluid level in the ventricles of the chosen side(s)."""

    sides: tuple[int, ...]  # +1 the patient's left, -1 the right
    level_y_mm: float  # image-frame y (posterior is larger) of the fluid level

    def blood(self, grid: HeadGrid, anat: SliceAnatomy) -> np.ndarray | None:
        if anat.t < 0.3 or not anat.ventricles.any():  # lateral and third ventricles only
            return None
        side = np.zeros(anat.codes.shape, dtype=bool)
        for s in self.sides:
            side |= s * grid.x > 0
        return anat.ventricles & side & (grid.y_img > self.level_y_mm)


@dataclass(frozen=True)
class SubarachnoidBlood(Lesion):
    """SAH: blood in the basal cisterns and/or the sulci of a convexity sector."""

    basal: bool
    convexity_deg: float | None  # head-frame angle of the sector centre, None for basal only
    half_width_deg: float
    z_range_mm: tuple[float, float]

    def blood(self, grid: HeadGrid, anat: SliceAnatomy) -> np.ndarray | None:
        out = anat.cisterns.copy() if self.basal else np.zeros(anat.codes.shape, dtype=bool)
        lo, hi = self.z_range_mm
        if self.convexity_deg is not None and lo <= anat.z_mm <= hi:
            sector = _sector_profile(grid, self.convexity_deg, self.half_width_deg) > 0
            # Blood distends the sulci: a wider cleft than the CSF one, plus the surface rim.
            half_mm = 0.9 * grid.shape.sulcal_width_mm + 0.6
            half = half_mm * anat.sulcal_frac * grid.sulcal_rate
            sulci = (anat.sulcal_g > 1.0 - 0.5 * half * half) & (anat.sulcal_frac > 0)
            out |= sector & anat.intracranial & (sulci | (anat.inner_depth < 2.0))
        return out & anat.intracranial


@dataclass(frozen=True)
class ExtraAxialCollection(Lesion):
    """SDH or EDH: a collection against the inner table whose thickness tapers to its edges.

    Thickness = max * (angular profile * z profile) ** power. A small power keeps it full to near
    its ends (the long thin SDH crescent), 0.5 gives an elliptical cross-section (the EDH lens).
    """

    center_deg: float
    half_width_deg: float
    center_z_mm: float
    half_height_mm: float
    thickness_mm: float
    power: float

    def blood(self, grid: HeadGrid, anat: SliceAnatomy) -> np.ndarray | None:
        dz = (anat.z_mm - self.center_z_mm) / self.half_height_mm
        if abs(dz) >= 1.0:
            return None
        profile = _sector_profile(grid, self.center_deg, self.half_width_deg) * (1.0 - dz * dz)
        thickness = self.thickness_mm * profile**self.power
        return anat.intracranial & (anat.inner_depth < thickness)


def _sector_profile(grid: HeadGrid, center_deg: float, half_width_deg: float) -> np.ndarray:
    """1 on the sector's axis, falling as 1 - (angle/half width)^2 to 0 at its edges."""
    ux, uy = math.cos(math.radians(center_deg)), math.sin(math.radians(center_deg))
    c0 = math.cos(math.radians(half_width_deg))
    cos_angle = (grid.x * ux + grid.y * uy) / np.maximum(grid.r, 1e-3)
    return np.clip((cos_angle - c0) / (1.0 - c0), 0.0, 1.0)


def _rounded(v):
    if isinstance(v, float):
        return round(v, 2)
    if isinstance(v, tuple | list):
        return [_rounded(x) for x in v]
    return v


# ---- planning: where each subtype goes in a given head ----------------------------------------


def _z_of_level(shape: HeadShape, t: float) -> float:
    return shape.z0_mm + (t * shape.n_slices - 0.5) * SLICE_THICKNESS_MM


def _side(rng: np.random.Generator) -> int:
    return int(rng.choice((-1, 1)))


def plan_iph(rng: np.random.Generator, shape: HeadShape) -> Lesion:
    k = shape.semi_x_mm / 72.0
    site = str(rng.choice(["basal_ganglia", "thalamus", "lobar", "lobar", "cerebellum"]))
    side = _side(rng)
    if site == "basal_ganglia":
        xy, t, size = (side * 21 * k, -4 * k), rng.uniform(0.42, 0.48), rng.uniform(9, 17)
    elif site == "thalamus":
        xy, t, size = (side * 10 * k, 9 * k), rng.uniform(0.41, 0.46), rng.uniform(7, 12)
    elif site == "cerebellum":
        xy, t, size = (side * 22 * k, 42 * k), rng.uniform(0.14, 0.2), rng.uniform(8, 13)
    else:  # lobar: 20-35 mm under the surface of a hemisphere
        t = rng.uniform(0.5, 0.72)
        angle = rng.uniform(0, 2 * math.pi)
        reach = shape.scale(t) * min(shape.semi_x_mm, shape.semi_y_mm) - 12 - rng.uniform(20, 32)
        xy, size = (reach * math.cos(angle), reach * math.sin(angle)), rng.uniform(10, 20)
        if abs(xy[0]) < 8:  # keep clear of the falx
            xy = (math.copysign(8.0 + abs(xy[0]), xy[0] or 1.0), xy[1])
    return ParenchymalBlob(
        subtype="iph",
        hu=float(rng.uniform(60, 85)),
        site=site,
        center_mm=(float(xy[0]), float(xy[1]), _z_of_level(shape, float(t))),
        radii_mm=(
            float(size * rng.uniform(0.75, 1.0)),
            float(size * rng.uniform(0.9, 1.25)),
            float(size * rng.uniform(0.8, 1.1)),
        ),
        lobes=(
            float(rng.uniform(0, 0.18)),
            float(rng.uniform(0, 2 * math.pi)),
            float(rng.uniform(0, 0.12)),
            float(rng.uniform(0, 2 * math.pi)),
        ),
        edema_mm=float(rng.choice([0.0, rng.uniform(2, 7)])),
    )


def plan_ivh(rng: np.random.Generator, shape: HeadShape) -> Lesion:
    k = shape.semi_x_mm / 72.0
    sides = (-1, 1) if rng.random() < 0.5 else (_side(rng),)
    # The occipital horn tip in the head frame, turned into image y (the direction of gravity).
    x, y, radius = OCCIPITAL_TIP_MM
    tip_x, tip_y = x * k, y * k + radius * shape.ventricle_scale
    sin, cos = math.sin(shape.yaw_rad), math.cos(shape.yaw_rad)
    tip_img = max(sin * s * tip_x + cos * tip_y for s in sides)
    depth = rng.uniform(0.25, 0.55) * 44 * k
    return VentricularLayer(
        subtype="ivh", hu=float(rng.uniform(58, 80)), sides=sides, level_y_mm=tip_img - depth
    )


def plan_sah(rng: np.random.Generator, shape: HeadShape) -> Lesion:
    pattern = str(rng.choice(["basal", "basal", "convexity", "both"]))
    t = rng.uniform(0.5, 0.75)
    z = _z_of_level(shape, float(t))
    reach = rng.uniform(12, 28)
    return SubarachnoidBlood(
        subtype="sah",
        hu=float(rng.uniform(52, 72)),
        basal=pattern != "convexity",
        convexity_deg=None if pattern == "basal" else float(rng.uniform(-180, 180)),
        half_width_deg=float(rng.uniform(30, 60)),
        z_range_mm=(float(z - reach), float(z + reach)),
    )


def plan_sdh(rng: np.random.Generator, shape: HeadShape) -> Lesion:
    lateral = 0.0 if rng.random() < 0.5 else 180.0  # over one hemisphere's convexity
    return ExtraAxialCollection(
        subtype="sdh",
        hu=float(rng.uniform(55, 80)),
        center_deg=lateral + float(rng.uniform(-35, 35)),
        half_width_deg=float(rng.uniform(55, 80)),
        center_z_mm=_z_of_level(shape, float(rng.uniform(0.5, 0.7))),
        half_height_mm=float(rng.uniform(25, 42)),
        thickness_mm=float(rng.uniform(5, 12)),
        power=0.3,
    )


def plan_edh(rng: np.random.Generator, shape: HeadShape) -> Lesion:
    lateral = 0.0 if rng.random() < 0.5 else 180.0  # temporal or temporoparietal
    return ExtraAxialCollection(
        subtype="edh",
        hu=float(rng.uniform(62, 90)),
        center_deg=lateral + float(rng.uniform(-30, 30)),
        half_width_deg=float(rng.uniform(22, 32)),
        center_z_mm=_z_of_level(shape, float(rng.uniform(0.4, 0.62))),
        half_height_mm=float(rng.uniform(13, 22)),
        thickness_mm=float(rng.uniform(12, 22)),
        power=0.5,
    )


_PLANNERS = {"iph": plan_iph, "ivh": plan_ivh, "sah": plan_sah, "sdh": plan_sdh, "edh": plan_edh}


def plan_lesions(rng: np.random.Generator, subtypes: set[str], shape: HeadShape) -> list[Lesion]:
    """One lesion per requested subtype, in painting order (later ones cover earlier ones)."""
    return [_PLANNERS[s](rng, shape) for s in SUBTYPES if s in subtypes]


__all__ = [
    "SUBTYPES",
    "ExtraAxialCollection",
    "Lesion",
    "ParenchymalBlob",
    "SubarachnoidBlood",
    "VentricularLayer",
    "plan_lesions",
]

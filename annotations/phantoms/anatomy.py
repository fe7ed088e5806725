"""Head anatomy of the phantom, one axial slice at a time, as tissue codes.

Why codes first: a slice is painted as small integer tissue codes and turned into Hounsfield units
by one table lookup at the end (`hu = lut[codes] + noise`). Painting is then a few dozen vectorised
numpy operations per slice (well under the 50 ms budget at 512x512), lesions reuse the same masks,
and tests can ask which pixels are skull or ventricle.

Levels: `t` runs from the skull base (0) to the vertex (1). Positions are millimetres in the head
frame (geometry.py): x to the patient's left, y posterior, origin at the head centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from .geometry import HeadGrid


class Tissue(IntEnum):
    AIR = 0
    SOFT = 1  # skin, galea, temporalis muscle, face
    FAT = 2  # subcutaneous and orbital fat
    BONE_CORTEX = 3  # outer and inner tables, petrous bone
    BONE_DIPLOE = 4  # cancellous bone between the tables
    CSF = 5  # ventricles, sulci, cisterns
    GREY = 6
    WHITE = 7
    DEEP_GREY = 8  # basal ganglia and thalami
    POSTERIOR_FOSSA = 9  # cerebellum, below the tentorium
    FALX = 10
    SINUS_AIR = 11  # air cells of the sinuses (partial volume with their thin walls)
    GLOBE = 12  # vitreous of the eye
    EDEMA = 13  # perihaematomal oedema


# Codes from LESION_BASE up are lesions of the scan, each with its own density in the scan's table.
LESION_BASE = 16
LUT_SIZE = 32

# Typical unenhanced head CT densities. Grey matter is denser than white (~38 vs ~28 HU) because
# white matter holds myelin lipid; CSF is water; acute blood (set per lesion) is 50-90 HU because
# of its protein. Bone is given as 700-1500 HU: cortical tables near the top, diploe lower.
TISSUE_HU: dict[Tissue, float] = {
    Tissue.AIR: -1000.0,
    Tissue.SOFT: 40.0,
    Tissue.FAT: -80.0,
    Tissue.BONE_CORTEX: 1350.0,
    Tissue.BONE_DIPLOE: 750.0,
    Tissue.CSF: 5.0,
    Tissue.GREY: 38.0,
    Tissue.WHITE: 28.0,
    Tissue.DEEP_GREY: 35.0,
    Tissue.POSTERIOR_FOSSA: 33.0,
    Tissue.FALX: 45.0,
    Tissue.SINUS_AIR: -900.0,
    Tissue.GLOBE: 12.0,
    Tissue.EDEMA: 20.0,
}

# Layers from the skin inwards, indexed by how many depth thresholds a pixel has passed.
_LAYERS = np.array(
    [
        Tissue.AIR,
        Tissue.SOFT,
        Tissue.FAT,
        Tissue.SOFT,
        Tissue.BONE_CORTEX,
        Tissue.BONE_DIPLOE,
        Tissue.BONE_CORTEX,
        Tissue.WHITE,
    ],
    dtype=np.uint8,
)

BRAIN_TISSUES = (Tissue.GREY, Tissue.WHITE, Tissue.DEEP_GREY, Tissue.POSTERIOR_FOSSA)


def tissue_lut(rng: np.random.Generator) -> np.ndarray:
    """Per-scan density table: each tissue jittered by a few HU, as between scanners."""
    lut = np.zeros(LUT_SIZE, dtype=np.float32)
    for tissue, hu in TISSUE_HU.items():
        spread = 40.0 if abs(hu) > 500 else 1.5
        lut[tissue] = hu + rng.uniform(-spread, spread)
    lut[Tissue.AIR] = -1000.0  # air is calibrated to -1000 on every scanner
    return lut


@dataclass
class SliceAnatomy:
    """One painted slice: tissue codes plus the maps lesions need to find their place."""

    t: float
    z_mm: float
    codes: np.ndarray  # uint8 Tissue codes
    inner_depth: np.ndarray  # mm inwards from the inner table (negative outside the skull cavity)
    intracranial: np.ndarray  # bool
    ventricles: np.ndarray  # bool
    horns: np.ndarray  # bool: atria and occipital horns, where IVH layers
    cisterns: np.ndarray  # bool: basal cisterns and Sylvian fissures
    sulcal_g: np.ndarray  # sulcal pattern, 1 at a sulcus centre
    sulcal_frac: np.ndarray  # 1 at the brain surface, 0 at the sulcal floor and below


def window(t: float, lo: float, hi: float) -> float:
    """0 outside [lo, hi], rising to 1 in the middle: structures appear and vanish smoothly."""
    if not lo < t < hi:
        return 0.0
    return math.sin(math.pi * (t - lo) / (hi - lo)) ** 0.5


def capsule(x: np.ndarray, y: np.ndarray, p0, p1, radius: float) -> np.ndarray:
    """Pixels within `radius` of the segment p0-p1: the building block of ventricles and ridges."""
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy or 1e-6
    u = np.clip(((x - x0) * dx + (y - y0) * dy) / length2, 0.0, 1.0)
    return (x - x0 - u * dx) ** 2 + (y - y0 - u * dy) ** 2 < radius * radius


def ellipse(x: np.ndarray, y: np.ndarray, cx: float, cy: float, ax: float, ay: float) -> np.ndarray:
    return ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 < 1.0


def paint_slice(grid: HeadGrid, t: float, z_mm: float) -> SliceAnatomy:
    """Paint the tissues of one axial slice at level t."""
    s = grid.shape
    scale = s.scale(t)
    depth = scale * grid.outline - grid.r  # mm in from the skin, along the ray from the centre
    base = max(0.0, (0.32 - t) / 0.32) ** 1.5  # the base is cut obliquely: bone looks thicker
    vertex = max(0.0, (t - 0.85) / 0.15) ** 2  # so is the vault near the vertex
    scalp = s.scalp_mm + s.temporalis_mm * window(t, 0.15, 0.65) * grid.lateral
    skull = s.skull_mm + s.base_extra_mm * base * (1.0 + 0.6 * grid.anterior) + 4.0 * vertex
    table = np.minimum(1.8, skull / 3.0)
    fat = 0.35 * s.scalp_mm
    layer = (depth >= 0).view(np.uint8) + (depth >= 1.5)
    layer += depth >= 1.5 + fat
    layer += depth >= scalp
    layer += depth >= scalp + table
    layer += depth >= scalp + skull - table
    layer += depth >= scalp + skull
    codes = _LAYERS[layer]
    inner_depth = depth - scalp - skull
    intracranial = layer == 7
    anat = _empty_anatomy(t, z_mm, codes, inner_depth, intracranial)
    if t < 0.3:
        _paint_skull_base(grid, anat, scale)  # first: it decides what is cranial cavity
    _paint_cortex(grid, anat)
    _paint_midline(grid, anat)
    rows, cols = grid.box(0.0, 0.0, 80.0 * scale)
    _paint_deep(grid, anat, rows, cols)
    return anat


def _empty_anatomy(t, z_mm, codes, inner_depth, intracranial) -> SliceAnatomy:
    blank = np.zeros(codes.shape, dtype=bool)
    return SliceAnatomy(
        t=t,
        z_mm=z_mm,
        codes=codes,
        inner_depth=inner_depth,
        intracranial=intracranial,
        ventricles=blank,
        horns=blank.copy(),
        cisterns=blank.copy(),
        sulcal_g=np.zeros(codes.shape, np.float32),
        sulcal_frac=np.zeros(codes.shape, np.float32),
    )


def _paint_cortex(grid: HeadGrid, anat: SliceAnatomy) -> None:
    """Cortical ribbon, sulci and the thin CSF rim under the inner table.

    Sulci are radial clefts: the sulcal phase (geometry.py) peaks at a sulcus centre; a pixel is CSF
    when the phase is close enough to its peak, the tolerance narrowing with depth so a sulcus
    tapers to its floor. The phase turns slowly with z, so sulci move from slice to slice.
    """
    s = grid.shape
    turn = s.sulcal_twist * anat.z_mm
    g = grid.sulcal_cos * np.float32(math.cos(turn)) - grid.sulcal_sin * np.float32(math.sin(turn))
    reach = s.sulcal_depth_mm * grid.sulcal_reach
    d = anat.inner_depth
    frac = np.clip(1.0 - d / reach, 0.0, 1.0)
    frac[~anat.intracranial] = 0.0
    # Half-widths in mm turned into phase angles; cos(a) ~ 1 - a^2/2 spares a trig call.
    half = (0.5 * s.sulcal_width_mm) * frac * grid.sulcal_rate
    sulcus = (g > 1.0 - 0.5 * half * half) & (frac > 0)
    ribbon = (0.5 * s.sulcal_width_mm * frac + 2.5) * grid.sulcal_rate  # cortex ~2.5 mm thick
    grey = anat.intracranial & ((d < 3.0) | ((d < reach + 2.5) & (g > 1.0 - 0.5 * ribbon * ribbon)))
    rim = 0.6 + 0.8 * max(0.0, s.ventricle_scale - 0.85)  # atrophy widens the CSF spaces
    csf = anat.intracranial & ((d < rim) | sulcus)
    anat.codes[grey] = Tissue.GREY
    anat.codes[csf] = Tissue.CSF
    anat.sulcal_g, anat.sulcal_frac = g, frac


def _paint_midline(grid: HeadGrid, anat: SliceAnatomy) -> None:
    """Interhemispheric fissure with the falx; above the corpus callosum it runs front to back."""
    if anat.t < 0.3:
        return
    x, y = grid.x, grid.y
    front, back = (-18.0, 32.0) if anat.t < 0.62 else (math.inf, -math.inf)
    fissure = (np.abs(x) < 1.3) & ((y < front) | (y > back)) & anat.intracranial
    anat.codes[fissure] = Tissue.CSF
    anat.codes[fissure & (np.abs(x) < 0.45)] = Tissue.FALX


def _paint_deep(grid: HeadGrid, anat: SliceAnatomy, rows: slice, cols: slice) -> None:
    """Deep grey nuclei, ventricles and basal cisterns, on the central part of the image only."""
    s, t = grid.shape, anat.t
    x, y = grid.x[rows, cols], grid.y[rows, cols]
    inside = anat.intracranial[rows, cols]
    codes = anat.codes[rows, cols]
    k = s.semi_x_mm / 72.0  # a bigger head has bigger structures
    vw = s.ventricle_scale  # atrophy widens the ventricles more than it lengthens them
    if (w := window(t, 0.35, 0.53)) > 0:
        deep = np.zeros(x.shape, dtype=bool)
        for side in (-1.0, 1.0):
            deep |= ellipse(x, y, side * 21 * k, -4 * k, 6.5 * w * k, 13 * w * k)  # lentiform
            deep |= ellipse(x, y, side * 9 * k, 9 * k, 7 * w * k, 10 * w * k)  # thalamus
            deep |= ellipse(x, y, side * 13 * k, -21 * k, 4.5 * w * k, 5 * w * k)  # caudate head
        codes[deep & inside] = Tissue.DEEP_GREY
    if t < 0.3:  # below the tentorium, a tent that opens forwards around the midbrain
        fossa = y > (12.0 + 55.0 * (t / 0.3) ** 2) * k + 0.012 * x * x
        codes[fossa & inside & (codes == Tissue.WHITE)] = Tissue.POSTERIOR_FOSSA
        codes[ellipse(x, y, 0.0, 8 * k, 13 * k, 12 * k) & inside] = Tissue.WHITE  # brainstem
    horns = np.zeros(x.shape, dtype=bool)
    vent = np.zeros(x.shape, dtype=bool)
    for side in (-1.0, 1.0):
        for p0, p1, radius, lo, hi, is_horn in _VENTRICLE_PARTS:
            if (w := window(t, lo, hi)) > 0:
                a = (side * p0[0] * k, p0[1] * k)
                b = (side * p1[0] * k, p1[1] * k)
                part = capsule(x, y, a, b, radius * w * vw)
                vent |= part
                if is_horn:
                    horns |= part
    if (w := window(t, 0.33, 0.47)) > 0:
        vent |= capsule(x, y, (0, -10 * k), (0, 6 * k), 1.8 * w * vw)  # third ventricle
    if (w := window(t, 0.1, 0.26)) > 0:
        vent |= capsule(x, y, (-4 * k, 27 * k), (4 * k, 27 * k), 3.5 * w * vw)  # fourth
    vent &= inside & ~((np.abs(x) < 0.9) & (y < 0) & (t > 0.4))  # septum pellucidum
    horns &= vent
    cisterns = _cisterns(x, y, t, k, vw) & inside & ~vent
    codes[vent | cisterns] = Tissue.CSF
    anat.ventricles[rows, cols] = vent
    anat.horns[rows, cols] = horns
    anat.cisterns[rows, cols] = cisterns


# (start, end, radius, level from, level to, is an atrium/occipital horn), for the left side in mm.
# Together they give the butterfly of an axial CT: frontal horns spreading forwards around the
# caudate heads, bodies gently curved, atria wide and occipital horns tapering backwards.
_VENTRICLE_PARTS = (
    ((4.5, -6.0), (11.0, -30.0), 4.2, 0.38, 0.6, False),  # frontal horn
    ((7.0, -24.0), (13.0, 0.0), 4.0, 0.5, 0.7, False),  # body, front half
    ((13.0, 0.0), (17.0, 22.0), 4.5, 0.5, 0.68, False),  # body, back half
    ((10.0, 2.0), (23.0, 22.0), 5.5, 0.37, 0.55, True),  # atrium (trigone)
    ((23.0, 22.0), (18.0, 44.0), 3.8, 0.37, 0.5, True),  # occipital horn
    ((30.0, -12.0), (32.0, 2.0), 1.8, 0.3, 0.4, False),  # temporal horn
)
OCCIPITAL_TIP_MM = (18.0, 44.0, 3.8)  # x, y and radius of the occipital horn's end (for IVH)


def _cisterns(x, y, t, k, vw) -> np.ndarray:
    """Basal cisterns (prepontine, suprasellar, ambient, quadrigeminal) and Sylvian fissures."""
    out = np.zeros(x.shape, dtype=bool)
    if (w := window(t, 0.1, 0.25)) > 0:  # prepontine: a crescent in front of the pons
        r = np.hypot(x, y - 8 * k)
        out |= (r > 13 * k) & (r < (13 + 2.0 * w * vw) * k) & (y < 2 * k)
    if (w := window(t, 0.23, 0.37)) > 0:
        dx, dy = x, y + 13 * k
        star = 8.0 * w * k * (1.0 + 0.25 * np.cos(5 * np.arctan2(dy, dx)))  # suprasellar star
        out |= np.hypot(dx, dy) < star * vw**0.5
        r = np.hypot(x, y - 8 * k)
        out |= (r > 11 * k) & (r < (11 + 1.8 * w * vw) * k)  # ambient, around the midbrain
        out |= ellipse(x, y, 0.0, 22 * k, 4 * w * k * vw, 3 * w * k * vw)  # quadrigeminal
    if (w := window(t, 0.25, 0.47)) > 0:  # Sylvian fissure: out to the insula, then backwards
        for side in (-1.0, 1.0):
            a, b, c = (side * 12 * k, -11 * k), (side * 32 * k, -16 * k), (side * 46 * k, -2 * k)
            if t < 0.36:  # the medial part joins the suprasellar cistern only low down
                out |= capsule(x, y, a, b, 1.3 * w * vw)
            out |= capsule(x, y, b, c, 1.5 * w * vw)
    return out


def _paint_skull_base(grid: HeadGrid, anat: SliceAnatomy, scale: float) -> None:
    """Skull base: anterior fossa floor, orbits and sinuses in front, petrous ridges and clivus.

    Below about t = 0.25 the front of the section is face and skull base, not brain: the cranial
    cavity is limited to the part behind `floor` (which moves forward with the level).
    """
    s, t = grid.shape, anat.t
    x, y, codes = grid.x, grid.y, anat.codes
    semi_y = s.semi_y_mm * scale
    floor = -semi_y * (0.15 + 0.85 * min(1.0, t / 0.25))
    front = anat.intracranial & (y < floor)
    codes[front] = Tissue.SOFT
    codes[front & (y > floor - 7.0)] = Tissue.BONE_DIPLOE
    codes[front & (y > floor - 2.0)] = Tissue.BONE_CORTEX
    semi_x = s.semi_x_mm * scale
    if t < 0.14:
        air = ellipse(x, y, 0.0, floor - 22.0, 0.45 * semi_x, 14.0)  # maxillary/sphenoid air
        codes[front & air] = Tissue.SINUS_AIR
    elif t < 0.26:
        for side in (-1.0, 1.0):
            cx = side * 0.42 * semi_x
            codes[front & ellipse(x, y, cx, floor - 22.0, 15.0, 17.0)] = Tissue.FAT  # orbit
            codes[front & ellipse(x, y, cx, floor - 28.0, 11.0, 11.0)] = Tissue.GLOBE
        codes[front & ellipse(x, y, 0.0, floor - 20.0, 8.0, 18.0)] = Tissue.SINUS_AIR  # ethmoid
    anat.intracranial &= ~front
    anat.inner_depth[front] = -1.0
    rows, cols = grid.box(0.0, 0.0, 80.0)
    xs, ys = x[rows, cols], y[rows, cols]
    bone = np.zeros(xs.shape, dtype=bool)
    if window(t, 0.05, 0.27) > 0:  # petrous ridges, from the ears towards the clivus
        for side in (-1.0, 1.0):  # a pyramid: broad at the ear, narrow at the apex
            lateral = (side * 0.8 * semi_x, 12.0)
            apex = (side * 15.0, max(floor + 6.0, -12.0))
            middle = ((lateral[0] + apex[0]) / 2, (lateral[1] + apex[1]) / 2)
            bone |= capsule(xs, ys, lateral, middle, 6.5) | capsule(xs, ys, middle, apex, 3.5)
    if t < 0.2:
        bone |= capsule(xs, ys, (0.0, floor), (0.0, floor + 12.0), 6.0)  # clivus
    bone &= anat.intracranial[rows, cols]
    anat.codes[rows, cols][bone] = Tissue.BONE_CORTEX
    anat.intracranial[rows, cols] &= ~bone
    anat.inner_depth[rows, cols][bone] = -1.0

"""The head's shape for one scan, and the per-scan coordinate grids every slice reuses.

Why a per-scan grid: the head outline is an ellipse whose size changes with the level, but its
centre, tilt and angular shape do not. So x, y, the radius and the outline radius at each angle are
computed once per scan; a slice then needs only `depth = scale * R - r` (millimetres inward from
the skin along the ray from the centre) to know where scalp, skull and brain are. That keeps a
512x512 slice cheap.

Frames: patient coordinates are DICOM LPS (x to the patient's left, y posterior, z superior). The
head frame is the same, moved to the head's centre and turned by its small in-plane tilt (yaw);
anatomy and lesions are placed in the head frame, gravity (IVH fluid levels) acts along the image's
y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FIELD_OF_VIEW_MM = 230.0  # a typical head CT display field of view
SLICE_THICKNESS_MM = 5.0  # the study's reconstruction: 5 mm contiguous axial slices


@dataclass(frozen=True)
class HeadShape:
    """Everything that makes one phantom head differ from another; drawn once per scan."""

    n_slices: int
    size: int
    z0_mm: float  # z of the most inferior slice centre
    center_mm: tuple[float, float]  # head centre in patient x, y
    yaw_rad: float  # in-plane tilt of the head on the table
    semi_x_mm: float  # outer (skin) half-width at the widest level
    semi_y_mm: float  # outer half-length (front to back) at the widest level
    t_widest: float  # level (0 base, 1 vertex) of the widest section
    s_base: float  # section scale at the skull base, relative to the widest
    harmonics: tuple[tuple[int, float, float], ...]  # (order, amplitude, phase) of the outline
    scalp_mm: float
    temporalis_mm: float  # extra soft tissue over the temples (temporalis muscle)
    skull_mm: float  # vault thickness
    base_extra_mm: float  # extra bone thickness at the skull base (oblique cut through the base)
    ventricle_scale: float  # >1 for older, atrophic brains
    sulcal_count: int  # sulci around the circumference
    sulcal_width_mm: float  # width of a sulcus at the brain surface (wider with atrophy)
    sulcal_depth_mm: float
    sulcal_twist: float  # radians of sulcal pattern shift per mm of z
    sulcal_waves: tuple[tuple[float, float, float, float], ...]  # (kx, ky, amplitude, phase)
    noise_sigma: float  # HU, quantum noise of a routine head CT

    @property
    def spacing_mm(self) -> float:
        """Pixel spacing that keeps the field of view at about 230 mm whatever the matrix."""
        return round(FIELD_OF_VIEW_MM / self.size, 6)

    @property
    def origin_mm(self) -> float:
        """Patient x (and y) of the first pixel centre: the image is centred on the isocentre."""
        return round(-self.spacing_mm * (self.size - 1) / 2.0, 4)

    def level(self, k: int) -> float:
        """Level of slice k (0 = most inferior) from skull base (0) to vertex (1)."""
        return (k + 0.5) / self.n_slices

    def z_mm(self, k: int) -> float:
        return self.z0_mm + SLICE_THICKNESS_MM * k

    def scale(self, t: float) -> float:
        """Section size relative to the widest level: grows from the base, shrinks to the vertex."""
        if t <= self.t_widest:
            rise = math.sin(0.5 * math.pi * t / self.t_widest) ** 0.8
            return self.s_base + (1.0 - self.s_base) * rise
        u = (t - self.t_widest) / (1.04 - self.t_widest)
        return math.sqrt(max(0.0, 1.0 - u * u))


def draw_shape(rng: np.random.Generator, size: int) -> HeadShape:
    """A plausible adult head: 28-40 slices, 140-200 mm from skull base to vertex."""
    n = int(rng.integers(28, 41))
    return HeadShape(
        n_slices=n,
        size=size,
        z0_mm=-5.0 * int(rng.integers(6, 16)) + 2.5,
        center_mm=(float(rng.uniform(-6, 6)), float(rng.uniform(-4, 10))),
        yaw_rad=math.radians(float(rng.uniform(-6, 6))),
        semi_x_mm=float(rng.uniform(68, 76)),
        semi_y_mm=float(rng.uniform(88, 98)),
        t_widest=float(rng.uniform(0.45, 0.55)),
        s_base=float(rng.uniform(0.74, 0.82)),
        harmonics=tuple(
            (order, float(rng.uniform(0.0, 0.025)), float(rng.uniform(0, 2 * math.pi)))
            for order in (2, 3, 4)
        ),
        scalp_mm=float(rng.uniform(4.0, 6.0)),
        temporalis_mm=float(rng.uniform(3.0, 7.0)),
        skull_mm=float(rng.uniform(5.0, 7.0)),
        base_extra_mm=float(rng.uniform(9.0, 14.0)),
        ventricle_scale=float(rng.uniform(0.85, 1.4)),
        sulcal_count=int(rng.integers(26, 36)),
        sulcal_width_mm=float(rng.uniform(1.0, 2.0)),
        sulcal_depth_mm=float(rng.uniform(12.0, 20.0)),
        sulcal_twist=float(rng.uniform(0.03, 0.06)),
        sulcal_waves=tuple(_wave(rng) for _ in range(5)),
        noise_sigma=float(rng.uniform(4.0, 8.0)),
    )


def _wave(rng: np.random.Generator) -> tuple[float, float, float, float]:
    """A plane wave of 25-60 mm wavelength: summed, they bend the sulci irregularly."""
    angle = rng.uniform(0, 2 * math.pi)
    k = 2 * math.pi / rng.uniform(25.0, 60.0)
    return (
        k * math.cos(angle),
        k * math.sin(angle),
        float(rng.uniform(0.4, 1.0)),
        float(rng.uniform(0, 6.3)),
    )


@dataclass(frozen=True)
class HeadGrid:
    """Per-scan float32 maps in the head frame (see module docstring).

    The maps cover only `rows` x `cols` of the image, the box around the head at its widest level:
    everything outside is air, and painting 60% of the pixels is faster than painting all of them.
    """

    shape: HeadShape
    rows: slice  # the region of the full image these maps cover
    cols: slice
    x: np.ndarray  # mm, head frame, to the patient's left
    y: np.ndarray  # mm, head frame, posterior
    y_img: np.ndarray  # mm, image frame y relative to the head centre (the direction of gravity)
    r: np.ndarray  # mm from the head centre
    outline: np.ndarray  # outline radius (mm) at this pixel's angle, at unit scale
    lateral: np.ndarray  # cos^2 of the angle: 1 at the temples, 0 front and back
    anterior: np.ndarray  # 0..1, how far towards the face
    sulcal_cos: np.ndarray  # cos and sin of the sulcal phase, shifted per slice by z
    sulcal_sin: np.ndarray
    sulcal_rate: np.ndarray  # radians of sulcal phase per mm along the circumference
    sulcal_reach: np.ndarray  # 0.35..1, how deep the sulci at this place go

    def box(self, cx: float, cy: float, radius: float) -> tuple[slice, slice]:
        """Slices of these maps that contain a head-frame disc: lesions and deep structures are
        painted in such boxes only."""
        rows, cols = _pixel_box(self.shape, cx, cy, radius, radius)
        return _within(rows, self.rows), _within(cols, self.cols)


def _pixel_box(
    shape: HeadShape, cx: float, cy: float, half_x: float, half_y: float
) -> tuple[slice, slice]:
    """Full-image rows and columns around a head-frame point, half_x/half_y mm each side."""
    cos, sin = math.cos(shape.yaw_rad), math.sin(shape.yaw_rad)
    px = shape.center_mm[0] + cos * cx - sin * cy
    py = shape.center_mm[1] + sin * cx + cos * cy
    col = (px - shape.origin_mm) / shape.spacing_mm
    row = (py - shape.origin_mm) / shape.spacing_mm
    hx, hy = half_x / shape.spacing_mm + 2, half_y / shape.spacing_mm + 2

    def clamp(v: float) -> int:
        return min(max(int(v), 0), shape.size)

    return slice(clamp(row - hy), clamp(row + hy + 1)), slice(clamp(col - hx), clamp(col + hx + 1))


def _within(inner: slice, outer: slice) -> slice:
    """`inner` (full-image indices) relative to `outer`, clipped to it."""
    start = min(max(inner.start, outer.start), outer.stop) - outer.start
    stop = min(max(inner.stop, outer.start), outer.stop) - outer.start
    return slice(start, max(start, stop))


def build_grid(shape: HeadShape) -> HeadGrid:
    """Compute the per-scan maps once; every slice of the scan reuses them."""
    grow = 1.0 + sum(a for _, a, _ in shape.harmonics)
    cos_y, sin_y = abs(math.cos(shape.yaw_rad)), abs(math.sin(shape.yaw_rad))
    half_x = (shape.semi_x_mm * cos_y + shape.semi_y_mm * sin_y) * grow + 2.0
    half_y = (shape.semi_x_mm * sin_y + shape.semi_y_mm * cos_y) * grow + 2.0
    rows, cols = _pixel_box(shape, 0.0, 0.0, half_x, half_y)
    axis = (shape.origin_mm + shape.spacing_mm * np.arange(shape.size)).astype(np.float32)
    dx = axis[None, cols] - np.float32(shape.center_mm[0])
    dy = axis[rows, None] - np.float32(shape.center_mm[1])
    cos, sin = np.float32(math.cos(shape.yaw_rad)), np.float32(math.sin(shape.yaw_rad))
    x = cos * dx + sin * dy
    y = -sin * dx + cos * dy
    r = np.hypot(x, y)
    theta = np.arctan2(y, x)
    ellipse = 1.0 / np.sqrt(
        (np.cos(theta) / shape.semi_x_mm) ** 2 + (np.sin(theta) / shape.semi_y_mm) ** 2
    )
    bumps = sum(a * np.cos(k * theta + p) for k, a, p in shape.harmonics)
    safe_r = np.maximum(r, 1e-3)
    # Sulci are where the phase crosses a multiple of 2 pi: radial clefts, bent and unevenly spaced
    # by a few long plane waves; one more wave decides how deep each sulcus reaches.
    waves = [np.float32(a) * np.cos(kx * x + ky * y + p) for kx, ky, a, p in shape.sulcal_waves]
    phase = shape.sulcal_count * theta + 1.5 * (waves[0] + waves[1] + waves[2])
    reach = 0.35 + 0.65 * np.abs(np.cos(1.3 * (waves[3] + waves[4]) + 0.7 * theta))
    return HeadGrid(
        shape=shape,
        rows=rows,
        cols=cols,
        x=x,
        y=y,
        y_img=np.broadcast_to(dy, x.shape).astype(np.float32),
        r=r.astype(np.float32),
        outline=(ellipse * (1.0 + bumps)).astype(np.float32),
        lateral=((x / safe_r) ** 2).astype(np.float32),
        anterior=np.clip(-y / safe_r, 0.0, 1.0).astype(np.float32),
        sulcal_cos=np.cos(phase).astype(np.float32),
        sulcal_sin=np.sin(phase).astype(np.float32),
        sulcal_rate=(shape.sulcal_count / np.maximum(r, 1.0)).astype(np.float32),
        sulcal_reach=reach.astype(np.float32),
    )

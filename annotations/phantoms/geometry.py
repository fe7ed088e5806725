"""The head's shape for one scan, and the per-scan coordinate grids every slice reuses.

Why a per-scan grid: the head outline is an ellipse whose size changes with the level, but its centre,
tilt and angular shape do not. So x, y, the radius and the outline radius at each angle are computed
once per scan; a slice then needs only `depth = scale * R - r` (millimetres inward from the skin along
the ray from the centre) to know where scalp, skull and brain are. That keeps a 512x512 slice cheap.

Frames: patient coordinates are DICOM LPS (x to the patient's left, y posterior, z superior). The head
frame is the same, moved to the head's centre and turned by its small in-plane tilt (yaw); anatomy
and lesions are placed in the head frame, gravity (IVH fluid levels) acts along the image's y.
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
    sulcal_width: float  # 0..1, fraction of the sulcal period that is CSF at the surface
    sulcal_depth_mm: float
    sulcal_twist: float  # radians of sulcal pattern shift per mm of z
    sulcal_phases: tuple[float, float, float]
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
        sulcal_count=int(rng.integers(38, 56)),
        sulcal_width=float(rng.uniform(0.10, 0.17)),
        sulcal_depth_mm=float(rng.uniform(10.0, 16.0)),
        sulcal_twist=float(rng.uniform(0.04, 0.09)),
        sulcal_phases=tuple(float(p) for p in rng.uniform(0, 2 * math.pi, 3)),
        noise_sigma=float(rng.uniform(4.0, 8.0)),
    )


@dataclass(frozen=True)
class HeadGrid:
    """Per-scan float32 maps over the whole image, in the head frame (see module docstring)."""

    shape: HeadShape
    x: np.ndarray  # mm, head frame, to the patient's left
    y: np.ndarray  # mm, head frame, posterior
    y_img: np.ndarray  # mm, image frame y relative to the head centre (the direction of gravity)
    r: np.ndarray  # mm from the head centre
    outline: np.ndarray  # outline radius (mm) at this pixel's angle, at unit scale
    lateral: np.ndarray  # cos^2 of the angle: 1 at the temples, 0 front and back
    anterior: np.ndarray  # 0..1, how far towards the face
    sulcal_cos: np.ndarray  # cos and sin of the sulcal phase, shifted per slice by z
    sulcal_sin: np.ndarray
    sulcal_reach: np.ndarray  # 0.5..1, varies sulcal depth around the circumference

    def box(self, cx: float, cy: float, radius: float) -> tuple[slice, slice]:
        """Row and column slices of the image that contain a head-frame disc; limits the work."""
        s = self.shape
        cos, sin = math.cos(s.yaw_rad), math.sin(s.yaw_rad)
        px = s.center_mm[0] + cos * cx - sin * cy
        py = s.center_mm[1] + sin * cx + cos * cy
        col = (px - s.origin_mm) / s.spacing_mm
        row = (py - s.origin_mm) / s.spacing_mm
        half = radius / s.spacing_mm + 2

        def clamp(v: float) -> int:
            return min(max(int(v), 0), s.size)

        return (
            slice(clamp(row - half), clamp(row + half + 1)),
            slice(clamp(col - half), clamp(col + half + 1)),
        )


def build_grid(shape: HeadShape) -> HeadGrid:
    """Compute the per-scan maps once; every slice of the scan reuses them."""
    axis = (shape.origin_mm + shape.spacing_mm * np.arange(shape.size)).astype(np.float32)
    dx = axis[None, :] - np.float32(shape.center_mm[0])
    dy = axis[:, None] - np.float32(shape.center_mm[1])
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
    p1, p2, p3 = shape.sulcal_phases
    # The sulcal phase wanders with the angle so sulci are irregularly spaced and curved.
    phase = shape.sulcal_count * theta + 1.6 * np.sin(3 * theta + p1) + 0.9 * np.sin(7 * theta + p2)
    return HeadGrid(
        shape=shape,
        x=x,
        y=y,
        y_img=np.broadcast_to(dy, x.shape).astype(np.float32),
        r=r.astype(np.float32),
        outline=(ellipse * (1.0 + bumps)).astype(np.float32),
        lateral=((x / safe_r) ** 2).astype(np.float32),
        anterior=np.clip(-y / safe_r, 0.0, 1.0).astype(np.float32),
        sulcal_cos=np.cos(phase).astype(np.float32),
        sulcal_sin=np.sin(phase).astype(np.float32),
        sulcal_reach=(0.75 + 0.25 * np.cos(5 * theta + p3)).astype(np.float32),
    )

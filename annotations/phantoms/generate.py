"""Generate phantom scans and write a folder of DICOM series plus truth.json (and lesion masks).

The mix is deterministic from the seed (and center): in every block of 10 scans (0-9, 10-19...),
4 are negative and 6 positive; each positive scan has a primary subtype, the six primaries cover all
five subtypes, and about half the positives get one or two more subtypes (mixed hemorrhage). Every
sixth scan (index 5, 11, 17...) is a follow-up study of the previous scan's patient, so pseudonyms
that link a patient's scans can be tested.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .anatomy import LESION_BASE, Tissue, paint_slice, tissue_lut
from .conventions import choose_convention
from .dicomfile import PatientInfo
from .geometry import build_grid, draw_shape
from .hemorrhage import SUBTYPES, Lesion, plan_lesions
from .masks import MASKS_DIR, write_lesion_masks
from .scan import PhantomScan, SliceTruth, file_name, slice_flags
from .seeding import phantom_uid, stream

NEGATIVES_PER_10 = 4
FOLLOW_UP_EVERY = 6


def scan_subtypes(seed: int, index: int, center: str | None = None) -> set[str]:
    """The hemorrhage subtypes planned for scan `index` (empty for a negative scan)."""
    block, slot = divmod(index, 10)
    deck = stream(seed, center, block, "mix")
    order = deck.permutation(10)
    offset = int(deck.integers(len(SUBTYPES)))
    position = int(order[slot])
    if position < NEGATIVES_PER_10:
        return set()
    primary = SUBTYPES[(position - NEGATIVES_PER_10 + offset) % len(SUBTYPES)]
    rng = stream(seed, center, index, "mix")
    others = [s for s in SUBTYPES if s != primary]
    extra = int(rng.choice([0, 0, 0, 1, 1, 2]))
    return {primary, *(str(s) for s in rng.choice(others, size=extra, replace=False))}


def generate_scan(
    seed: int, index: int, *, size: int = 512, center: str | None = None
) -> PhantomScan:
    """Scan number `index` of the set defined by (seed, center), at size x size pixels.

    The same arguments always give the same scan; each scan can be made on its own (no need to make
    scans 0..index-1 first).
    """
    if size < 16:
        raise ValueError("size must be at least 16 pixels")
    shape = draw_shape(stream(seed, center, index, "anatomy"), size)
    grid = build_grid(shape)
    lesions = plan_lesions(
        stream(seed, center, index, "lesions"), scan_subtypes(seed, index, center), shape
    )
    lut = tissue_lut(stream(seed, center, index, "density"))
    for i, lesion in enumerate(lesions):
        lut[LESION_BASE + i] = lesion.hu
    convention = choose_convention(seed, center, index)
    noise = _NoiseBank(stream(seed, center, index, "noise"), size)
    n = shape.n_slices
    volume = np.empty((n, size, size), dtype=np.int16)
    tissue = np.zeros((n, size, size), dtype=np.uint8)  # Tissue.AIR outside the head's box
    labels = np.zeros((n, size, size), dtype=np.uint8)
    head = (grid.rows, grid.cols)
    for k in range(n):
        anat = paint_slice(grid, shape.level(k), shape.z_mm(k))
        _paint_lesions(grid, anat, lesions, labels[k][head])
        tissue[k][head] = anat.codes
        hu = _with_noise(lut[tissue[k]], noise.draw(), shape.noise_sigma, shape.spacing_mm)
        volume[k] = convention.encoding.representable(hu)
    name = scan_name(center, index)
    return PhantomScan(
        name=name,
        index=index,
        seed=seed,
        center=center,
        shape=shape,
        convention=convention,
        patient=patient_info(seed, index, center),
        study_uid=phantom_uid(seed, center, index, "study"),
        series_uid=phantom_uid(seed, center, index, "series"),
        frame_uid=phantom_uid(seed, center, index, "frame"),
        lesions=lesions,
        volume_hu=volume,
        tissue=tissue,
        labels=labels,
        slices=_slice_truth(seed, center, index, shape.spacing_mm, convention, labels, shape),
    )


class _NoiseBank:
    """Unit Gaussian noise for every slice of a scan, cut from one field twice the image size.

    Drawing one field per scan and taking a window at a random offset per slice costs a view instead
    of a quarter million fresh normals per slice; windows at different offsets do not line up, so
    neighbouring slices still show unrelated noise.
    """

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self._rng, self._size = rng, size
        self._field = rng.standard_normal((2 * size, 2 * size), dtype=np.float32)

    def draw(self) -> np.ndarray:
        row, col = (int(v) for v in self._rng.integers(0, self._size, 2))
        return self._field[row : row + self._size, col : col + self._size]


def _with_noise(
    image: np.ndarray, noise: np.ndarray, sigma: float, spacing_mm: float
) -> np.ndarray:
    """Add CT noise (unit `noise` times sigma HU).

    On fine matrices (pixels under 1 mm) image and noise are then smoothed by a [1 2 1] kernel, as a
    reconstruction kernel does: edges get a pixel of partial volume and the noise a fine grain
    rather than salt and pepper. The noise is drawn larger so that it is sigma after smoothing.
    """
    if spacing_mm >= 1.0:
        return image + noise * np.float32(sigma)
    return _smooth121(image + noise * np.float32(sigma / 0.375))  # 0.375: [1 2 1]^2 noise gain


def _smooth121(a: np.ndarray) -> np.ndarray:
    """Separable [1 2 1]/4 smoothing with edge replication, in plain numpy."""
    b = a * 2
    b[1:] += a[:-1]
    b[:-1] += a[1:]
    b[0] += a[0]
    b[-1] += a[-1]
    c = b * 2
    c[:, 1:] += b[:, :-1]
    c[:, :-1] += b[:, 1:]
    c[:, 0] += b[:, 0]
    c[:, -1] += b[:, -1]
    return c * np.float32(1 / 16)


def _paint_lesions(grid, anat, lesions: list[Lesion], labels: np.ndarray) -> None:
    """Paint oedema, then blood, lesion by lesion; later lesions cover earlier ones."""
    for i, lesion in enumerate(lesions):
        edema = lesion.edema(grid, anat)
        if edema is not None:
            anat.codes[edema & (labels == 0)] = Tissue.EDEMA
        blood = lesion.blood(grid, anat)
        if blood is not None:
            anat.codes[blood] = LESION_BASE + i
            labels[blood] = SUBTYPES.index(lesion.subtype) + 1


def _slice_truth(seed, center, index, spacing, convention, labels, shape) -> list[SliceTruth]:
    n = shape.n_slices
    if convention.instance_order == "inferior_first":
        numbers = list(range(1, n + 1))
    elif convention.instance_order == "superior_first":
        numbers = list(range(n, 0, -1))
    else:
        numbers = [int(v) + 1 for v in stream(seed, center, index, "instances").permutation(n)]
    out = []
    for k in range(n):
        sop = phantom_uid(seed, center, index, "sop", k)
        pixels, flags = slice_flags(labels[k], spacing)
        out.append(
            SliceTruth(
                position=k,
                z_mm=shape.z_mm(k),
                instance_number=numbers[k],
                sop_instance_uid=sop,
                file=file_name(convention.file_naming, sop, numbers[k]),
                lesion_pixels=pixels,
                flags=flags,
            )
        )
    return out


def _slug(center: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (center or "").lower()).strip("-")[:24]


def scan_name(center: str | None, index: int) -> str:
    """Folder name of a scan: case0007, or north-case0007 for center "North"."""
    slug = _slug(center)
    return f"{slug}-case{index:04d}" if slug else f"case{index:04d}"


def patient_info(seed: int, index: int, center: str | None = None) -> PatientInfo:
    """Synthetic patient and visit; every FOLLOW_UP_EVERY-th scan reuses the previous patient."""
    follow_up = index % FOLLOW_UP_EVERY == FOLLOW_UP_EVERY - 1
    patient_index = index - 1 if follow_up else index
    person = stream(seed, center, patient_index, "patient")
    visit = stream(seed, center, index, "visit")
    birth = dt.date(1930, 1, 1) + dt.timedelta(days=int(person.integers(0, 365 * 62)))
    first = dt.date(2019, 1, 1) + dt.timedelta(days=int(person.integers(0, 365 * 5)))
    study = first + dt.timedelta(days=int(visit.integers(1, 30)) if follow_up else 0)
    age = study.year - birth.year - ((study.month, study.day) < (birth.month, birth.day))
    tag = re.sub(r"[^A-Z0-9]", "", (center or "").upper())[:10] or "CASE"
    center_code = f"{zlib.crc32((center or '').encode()) % 10**4:04d}"
    return PatientInfo(
        name=f"PHANTOM^{tag}{patient_index:04d}",
        patient_id=f"PH{center_code}-{seed}-{patient_index:04d}",
        birth_date=birth.strftime("%Y%m%d"),
        sex=str(person.choice(["F", "M"])),
        age=f"{age:03d}Y",
        study_date=study.strftime("%Y%m%d"),
        study_time=f"{int(visit.integers(0, 24)):02d}{int(visit.integers(0, 60)):02d}00",
        accession_number=f"A{zlib.crc32(f'{seed}/{center}/{index}'.encode()) % 10**9:09d}",
        institution_name=f"{center} Phantom Hospital" if center else "Phantom General Hospital",
        study_id=str(index + 1),
    )


@dataclass
class WrittenScan:
    """What `write_phantoms` made for one scan (the volume itself is not kept: it is large)."""

    name: str
    directory: Path
    files: list[Path]
    truth: dict[str, object] = field(repr=False)
    masks: Path | None = None  # the lesion mask file, when written


def masks_path(out_dir: Path, name: str) -> Path:
    """Where `write_phantoms(..., masks=True)` puts the lesion masks of scan `name`."""
    return Path(out_dir) / MASKS_DIR / f"{name}.npz"


def write_phantoms(
    out_dir: Path,
    *,
    scans: int,
    seed: int,
    size: int = 512,
    center: str | None = None,
    overwrite: bool = False,
    masks: bool = False,
) -> list[WrittenScan]:
    """Write `scans` phantom series under out_dir/<scan name>/ and their entries in truth.json.

    The same arguments give byte-identical files. A scan folder that already holds files is refused
    (FileExistsError) unless overwrite=True, which replaces that folder; nothing else is touched,
    and truth.json keeps the entries of other scans (other centers) already listed there.

    masks=True also writes each scan's lesion masks to out_dir/masks/<scan name>.npz (masks.py)
    and names that file in the scan's truth entry. It is off by default because the masks folder
    is no DICOM series: a caller that imports every folder or file under out_dir would take it for
    one (and an npz file is a zip archive, which an importer opens).
    """
    out_dir = Path(out_dir)
    folders = [out_dir / scan_name(center, index) for index in range(scans)]
    occupied = [f for f in folders if f.exists() and any(f.iterdir())]
    if occupied and not overwrite:  # checked before writing anything: no half-written set
        raise FileExistsError(f"{occupied[0]} is not empty; choose another folder or overwrite")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, directory in enumerate(folders):
        scan = generate_scan(seed, index, size=size, center=center)
        if directory in occupied:
            shutil.rmtree(directory)
        files = scan.write(directory)
        truth = scan.truth()
        mask_file = masks_path(out_dir, scan.name)
        if masks:
            write_lesion_masks(mask_file, scan.lesion_masks())
            truth["masks"] = mask_file.relative_to(out_dir).as_posix()
        else:  # a mask left from an earlier write of this scan would now describe nothing
            mask_file.unlink(missing_ok=True)
        written.append(
            WrittenScan(scan.name, directory, files, truth, mask_file if masks else None)
        )
        del scan  # one scan's volume at a time in memory
    _merge_truth(out_dir / "truth.json", [w.truth for w in written])
    return written


def _merge_truth(path: Path, entries: list[dict[str, object]]) -> None:
    """Write truth.json, keeping entries of other scans already there (say, another center's).

    Several centers can share one OUT_DIR: their scan folders differ by name, and so do their
    entries here. An entry for a scan written now replaces the old one of the same name.
    """
    fresh = {e["scan"] for e in entries}
    kept = []
    if path.exists():
        kept = [e for e in json.loads(path.read_text(encoding="utf-8")) if e["scan"] not in fresh]
    merged = sorted(kept + entries, key=lambda e: (e["center"] or "", e["index"]))
    path.write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")

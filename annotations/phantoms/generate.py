"""Generate phantom scans and write a folder of DICOM series plus truth.json.

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


def generate_scan(seed: int, index: int, *, size: int = 512, center: str | None = None) -> PhantomScan:
    """Scan number `index` of the set defined by (seed, center), at size x size pixels.

    The same arguments always give the same scan; each scan can be made on its own (no need to make
    scans 0..index-1 first).
    """
    if size < 16:
        raise ValueError("size must be at least 16 pixels")
    shape = draw_shape(stream(seed, center, index, "anatomy"), size)
    grid = build_grid(shape)
    lesions = plan_lesions(stream(seed, center, index, "lesions"), scan_subtypes(seed, index, center), shape)
    lut = tissue_lut(stream(seed, center, index, "density"))
    for i, lesion in enumerate(lesions):
        lut[LESION_BASE + i] = lesion.hu
    convention = choose_convention(seed, center, index)
    noise = stream(seed, center, index, "noise")
    n = shape.n_slices
    volume = np.empty((n, size, size), dtype=np.int16)
    tissue = np.empty((n, size, size), dtype=np.uint8)
    labels = np.zeros((n, size, size), dtype=np.uint8)
    for k in range(n):
        anat = paint_slice(grid, shape.level(k), shape.z_mm(k))
        _paint_lesions(grid, anat, lesions, labels[k])
        hu = lut[anat.codes] + noise.standard_normal((size, size), dtype=np.float32) * np.float32(
            shape.noise_sigma
        )
        volume[k] = convention.encoding.representable(hu)
        tissue[k] = anat.codes
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


def write_phantoms(
    out_dir: Path,
    *,
    scans: int,
    seed: int,
    size: int = 512,
    center: str | None = None,
    overwrite: bool = False,
) -> list[WrittenScan]:
    """Write `scans` phantom series under out_dir/<scan name>/ and out_dir/truth.json.

    The same arguments give byte-identical files. A scan folder that already holds files is refused
    (FileExistsError) unless overwrite=True, which replaces that folder; nothing else is touched.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(scans):
        scan = generate_scan(seed, index, size=size, center=center)
        directory = out_dir / scan.name
        if directory.exists() and any(directory.iterdir()):
            if not overwrite:
                raise FileExistsError(f"{directory} is not empty; choose an empty folder")
            shutil.rmtree(directory)
        files = scan.write(directory)
        written.append(WrittenScan(scan.name, directory, files, scan.truth()))
        del scan  # one scan's volume at a time in memory
    truth = [w.truth for w in written]
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return written

"""The training demo: a labelled phantom cohort and its frozen ground truth.

The reading-round demo (``annotations.demo``) leaves its scans for the demo readers to
label in the browser. Training needs labelled scans, so this cohort is labelled from the phantoms'
answer key through the same services a reader's browser calls: four training centers read once,
one held-out validation center read three times, then frozen as a ground-truth version an ML
engineer can snapshot and train on. Synthetic data: no figure computed on it is clinical.
"""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User

from annotations.assignment.services import scans_assign
from annotations.ground_truth.services import ground_truth_freeze
from annotations.ingest.services import center_get_or_create, import_batch_import_paths
from annotations.lesion_masks.services import lesion_mask_attach
from annotations.models import (
    GroundTruthVersion,
    ImportBatch,
    MaskSource,
    Read,
    Scan,
    Slice,
    Split,
)
from annotations.phantoms import SUBTYPES, write_phantoms
from annotations.phantoms.masks import MASKS_DIR, load_lesion_masks
from annotations.reading.services import LabelChange, read_complete, slice_labels_save

TRAINING_DEMO_CENTERS = [
    ("Training demo A", Split.TRAIN),
    ("Training demo B", Split.TRAIN),
    ("Training demo C", Split.TRAIN),
    ("Training demo D", Split.TRAIN),
    ("Training demo E (held out)", Split.VALIDATION),
]


TRAINING_DEMO_VERSION = "Training demo v1"


TRAINING_DEMO_READERS = ("neuro1", "neuro2", "neuro3", "neuro4", "neuro5")


@dataclass(frozen=True)
class TrainingDemoResult:
    scans_imported: int
    reads_completed: int
    version: GroundTruthVersion | None


def training_demo_seed(
    *, scans_per_center: int = 24, size: int = 128, seed: int = 7100
) -> TrainingDemoResult:
    """Import, label and freeze the cohort; parts that exist are left as they are."""
    existing = GroundTruthVersion.objects.filter(name=TRAINING_DEMO_VERSION).first()
    if existing is not None:
        return TrainingDemoResult(0, 0, existing)
    imported = 0
    truths: dict[int, dict] = {}
    for number, (name, split) in enumerate(TRAINING_DEMO_CENTERS):
        center = center_get_or_create(name=name, split=split)
        out_dir = Path(settings.DATA_DIR) / "demo" / "training" / f"center_{number}"
        fresh = not center.scans.exists()
        if fresh:
            shutil.rmtree(out_dir, ignore_errors=True)
            write_phantoms(
                out_dir,
                scans=scans_per_center,
                seed=seed + number,
                size=size,
                center=name,
                masks=True,
            )
            imported += _import_each(out_dir, center, split)
        center_truths = _truth_by_scan(out_dir)
        if fresh:
            _attach_masks(out_dir, center_truths)
        truths.update(center_truths)
    coordinator = User.objects.get(username="coordinator")
    readers = list(User.objects.filter(username__in=TRAINING_DEMO_READERS).order_by("username"))
    cohort = Scan.objects.filter(pk__in=truths)
    scans_assign(scans=cohort, assigned_by=coordinator, readers=readers, seed=seed)
    completed = 0
    for read in Read.objects.filter(scan__in=cohort).exclude(status="completed"):
        _label_from_truth(read, truths[read.scan_id])
        completed += 1
    version = ground_truth_freeze(
        name=TRAINING_DEMO_VERSION,
        note="Phantom cohort labelled from the phantoms' answer key (synthetic).",
        created_by=coordinator,
    )
    return TrainingDemoResult(imported, completed, version)


def _import_each(out_dir: Path, center, split: str) -> int:
    """One batch per scan folder (not the lesion masks' folder), so each imported scan is known
    by its folder; the mapping is kept beside the phantoms in imported.json."""
    imported = {}
    folders = (p for p in out_dir.iterdir() if p.is_dir() and p.name != MASKS_DIR)
    for folder in sorted(folders):
        batch, _ = import_batch_import_paths(
            paths=[folder], center=center, split=split, source=ImportBatch.Source.DEMO
        )
        imported[folder.name] = list(
            Scan.objects.filter(import_batch=batch).values_list("pk", flat=True)
        )
    (out_dir / "imported.json").write_text(json.dumps(imported))
    return sum(len(ids) for ids in imported.values())


def _truth_by_scan(out_dir: Path) -> dict[int, dict]:
    """Scan id -> its truth.json entry, for the scans of one folder that imported as one scan."""
    imported = json.loads((out_dir / "imported.json").read_text())
    return {
        ids[0]: entry
        for entry in json.loads((out_dir / "truth.json").read_text())
        if len(ids := imported.get(entry["scan"], [])) == 1
    }


def _attach_masks(out_dir: Path, truths: dict[int, dict]) -> None:
    """The phantoms' lesion masks, kept with their imported scans for scoring saliency maps."""
    for scan in Scan.objects.filter(pk__in=truths):
        masks = load_lesion_masks(out_dir / truths[scan.pk]["masks"])
        lesion_mask_attach(scan=scan, masks=masks, source=MaskSource.PHANTOM)


def _label_from_truth(read: Read, truth: dict) -> None:
    """Label each positive slice with its true subtypes, then finish the read."""
    positions = list(
        Slice.objects.filter(scan_id=read.scan_id)
        .order_by("z_position_mm")
        .values_list("position_index", flat=True)
    )
    slices = sorted(truth["slices"], key=lambda item: item["z_mm"])
    if len(slices) != len(positions):
        raise ValueError(
            f"scan {read.scan_id}: {len(positions)} slices imported, truth has {len(slices)}"
        )
    changes = [
        LabelChange(
            slice_index=index,
            values={subtype: bool(item[subtype]) for subtype in SUBTYPES},
            expected_version=0,
        )
        for index, item in zip(positions, slices, strict=True)
        if item["any"]
    ]
    if changes:
        slice_labels_save(read_id=read.pk, reader=read.reader, changes=changes)
    read_complete(read_id=read.pk, reader=read.reader, unseen_ok=True)

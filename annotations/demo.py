"""Demo data for the embedded run: users for every role and phantom scans from five centers.

Everything here is synthetic (the phantom generator); results on it are never clinical.
Seeding is idempotent: users, centers and scans that exist are left as they are.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction

from annotations.assignment.services import scans_assign
from annotations.ingest.services import center_get_or_create, import_batch_import_paths
from annotations.models import ImportBatch, Role, Scan, Split
from annotations.phantoms import write_phantoms

DEMO_PASSWORD = "ichlabel-demo"


# The demo's reading assignment is the same on every fresh installation.
DEMO_ASSIGNMENT_SEED = 2022


DEMO_USERS = [
    ("neuro1", Role.NEURORADIOLOGIST),
    ("neuro2", Role.NEURORADIOLOGIST),
    ("neuro3", Role.NEURORADIOLOGIST),
    ("neuro4", Role.NEURORADIOLOGIST),
    ("neuro5", Role.NEURORADIOLOGIST),
    ("coordinator", Role.COORDINATOR),
    ("mlengineer", Role.ML_ENGINEER),
]


# The paper's design: four centers train, one validates.
DEMO_CENTERS = [
    ("Center A", Split.TRAIN),
    ("Center B", Split.TRAIN),
    ("Center C", Split.TRAIN),
    ("Center D", Split.TRAIN),
    ("Center E", Split.VALIDATION),
]


@dataclass(frozen=True)
class DemoSeedResult:
    users_created: int
    scans_imported: int
    slices_imported: int


def demo_seed(*, scans_per_center: int = 4, size: int = 512, seed: int = 2022) -> DemoSeedResult:
    users = demo_users_create()
    scans = slices = 0
    for number, (name, split) in enumerate(DEMO_CENTERS):
        center = center_get_or_create(name=name, split=split)
        if center.scans.exists():
            continue
        out_dir = Path(settings.DATA_DIR) / "demo" / name.replace(" ", "_")
        shutil.rmtree(out_dir, ignore_errors=True)
        write_phantoms(out_dir, scans=scans_per_center, seed=seed + number, size=size, center=name)
        # The scan folders only: truth.json beside them is the phantoms' answer key, not DICOM.
        folders = sorted(path for path in out_dir.iterdir() if path.is_dir())
        _, report = import_batch_import_paths(
            paths=folders, center=center, split=split, source=ImportBatch.Source.DEMO
        )
        scans += report.imported_scans
        slices += report.imported_slices
    _demo_reads_assign()
    return DemoSeedResult(users_created=users, scans_imported=scans, slices_imported=slices)


def _demo_reads_assign() -> None:
    """The demo scans get the reads their split needs, as a coordinator's assignment would give
    them (training: one reader; validation: three, blinded; test: three at scan level), spread
    over the demo neuroradiologists; scans that have their reads are skipped."""
    readers = User.objects.filter(
        username__in=[name for name, role in DEMO_USERS if role == Role.NEURORADIOLOGIST]
    ).order_by("username")
    scans_assign(
        scans=Scan.objects.filter(center__name__in=[name for name, _ in DEMO_CENTERS]),
        assigned_by=User.objects.get(username="coordinator"),
        readers=list(readers),
        seed=DEMO_ASSIGNMENT_SEED,
    )


@transaction.atomic
def demo_users_create() -> int:
    created = 0
    for username, role in DEMO_USERS:
        user, made = User.objects.get_or_create(username=username)
        if made:
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.add(Group.objects.get(name=role))
            created += 1
    admin, made = User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True}
    )
    if made:
        admin.set_password(DEMO_PASSWORD)
        admin.save()
        created += 1
    return created

"""A model version with known scores over a small labelled cohort, for the disagreement tests:
two validation scans read by three readers (V1 IPH, V2 negative) and two training scans read
once (T1 SDH, T2 negative) frozen as gt-v1; a training scan read once after the freeze (T3 IVH,
scored outside the snapshot); thresholds 0.4 for any, 0.5 for the subtypes."""

from annotations.ground_truth.services import ground_truth_freeze
from annotations.reading.services import read_assign
from modelops.disagreements.services import model_scan_scores_store
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role
from tests.modelops.registry_factories import make_run, make_snapshot, make_version

CLASSES = ("any", "iph", "ivh", "sah", "sdh", "edh")
THRESHOLDS = {"any": 0.4, "iph": 0.5, "ivh": 0.5, "sah": 0.5, "sdh": 0.5, "edh": 0.5}


def scores_of(**given: float) -> list[float]:
    return [given.get(name, 0.0) for name in CLASSES]


def disagreement_world() -> dict:
    coordinator = user_with_role("coordinator", "coordinator")
    engineer = user_with_role("mlengineer", "ml_engineer")
    readers = [user_with_role(f"neuro{n}", "neuroradiologist") for n in (1, 2, 3, 4)]
    v1 = make_scan(split="validation", slices=3)  # IPH by all three readers
    v2 = make_scan(split="validation", slices=3)  # negative
    for scan, labels in ((v1, {1: {"iph": True}}), (v2, None)):
        for reader, kind in zip(readers[:3], ("primary", "cross", "cross"), strict=True):
            label_and_complete(read_assign(scan=scan, reader=reader, kind=kind), labels)
    t1 = make_scan(split="train", center="Center T", slices=3)  # SDH, one read
    t2 = make_scan(split="train", center="Center T", slices=3)  # negative, one read
    label_and_complete(read_assign(scan=t1, reader=readers[0]), {0: {"sdh": True}})
    label_and_complete(read_assign(scan=t2, reader=readers[0]))
    truth = ground_truth_freeze(name="gt-v1", created_by=coordinator)
    # Read after the freeze: IVH, by one reader; scored outside the snapshot.
    t3 = make_scan(split="train", center="Center T", slices=3)
    label_and_complete(read_assign(scan=t3, reader=readers[1]), {2: {"ivh": True}})
    snapshot = make_snapshot(version=truth, user=engineer)
    model = make_version(run=make_run(snapshot=snapshot, user=engineer), name="m-1")
    model.evaluation = {"thresholds": {c: {"value": v} for c, v in THRESHOLDS.items()}}
    model.save()
    for split, scans, scores in (
        ("validation", [v1, v2], [scores_of(any=0.1, iph=0.2), scores_of(any=0.9, sah=0.7)]),
        ("train", [t1, t2], [scores_of(any=0.95, sdh=0.05), scores_of()]),
        ("", [t3], [scores_of(any=0.2, ivh=0.35, edh=0.99)]),
    ):
        model_scan_scores_store(
            model_version=model, split=split, scan_ids=[s.pk for s in scans], scores=scores
        )
    return {
        "coordinator": coordinator,
        "engineer": engineer,
        "readers": readers,
        "truth": truth,
        "model": model,
        "scans": {"v1": v1, "v2": v2, "t1": t1, "t2": t2, "t3": t3},
    }

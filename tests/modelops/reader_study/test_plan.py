"""The crossover plan: every reader reads every case once per modality, the modality met first
balanced over readers, each session in its own order, sessions in sequence with the washout."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from modelops.reader_study.models import ReaderStudy, ReaderStudyRead, ReaderStudySession
from modelops.reader_study.plan import modality_orders
from tests.modelops.reader_study.helpers import (
    ALL_MODALITIES,
    READS,
    STUDIES,
    client,
    create,
    design,
    read_session,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("readers", "modalities"), [(4, 3), (5, 3), (6, 3), (11, 3), (7, 2), (2, 2)]
)
def test_modality_orders_balance_the_first_modality_over_readers(readers, modalities):
    names = ALL_MODALITIES[:modalities]
    for seed in range(5):
        orders = modality_orders(readers, names, seed)
        assert all(sorted(order) == sorted(names) for order in orders)
        for place in range(modalities):
            counts = Counter(order[place] for order in orders)
            tally = [counts.get(m, 0) for m in names]
            assert max(tally) - min(tally) <= 1, (seed, place, orders)


def test_three_modalities_balance_carry_over_in_blocks_of_six_readers():
    orders = modality_orders(12, ALL_MODALITIES, seed=3)
    follows = Counter((order[k], order[k + 1]) for order in orders for k in range(2))
    assert len(follows) == 6 and set(follows.values()) == {4}


def test_each_reader_reads_every_case_once_per_modality_in_orders_of_their_own(world):
    study = create(world, modalities=ALL_MODALITIES, readers=[r.pk for r in world["readers"]])
    row = ReaderStudy.objects.get(pk=study["id"])

    assert row.status == "open", "every case's model output is there already"
    assert world["queued"] == [], "nothing to compute"
    cases = set(row.cases.values_list("pk", flat=True))
    assert len(cases) == 6
    refs = list(row.cases.values_list("reference_any", flat=True))
    assert refs.count(True) == 3 == refs.count(False), "the source's prevalence (4 of 8)"
    firsts = Counter()
    orders = []
    for reader in world["readers"]:
        sessions = list(ReaderStudySession.objects.filter(study=row, reader=reader))
        assert sorted(s.modality for s in sessions) == sorted(ALL_MODALITIES)
        assert [s.sequence for s in sessions] == [1, 2, 3]
        assert [s.opens_at is not None for s in sessions] == [True, False, False]
        firsts[sessions[0].modality] += 1
        for session in sessions:
            order = list(session.reads.order_by("position").values_list("case_id", flat=True))
            assert sorted(order) == sorted(cases), "every case once in every session"
            orders.append(tuple(order))
    assert max(firsts.values()) - min(firsts.values()) <= 1 and len(firsts) == 3
    assert len(set(orders)) == len(orders), "each session has its own case order"
    plan = row.plan
    assert [r["modality_order"] for r in plan["readers"]] == [
        [s.modality for s in ReaderStudySession.objects.filter(study=row, reader=r)]
        for r in world["readers"]
    ]
    assert plan["cases"] == {
        "count": 6,
        "positive": 3,
        "negative": 3,
        "prevalence": 0.5,
        "ground_truth_version": "gt-v1",
        "split": "all",
        "seed": 11,
    }
    assert plan["model"]["thresholds"] == {
        "any": 0.4,
        "IPH": 0.5,
        "IVH": 0.5,
        "SAH": 0.5,
        "SDH": 0.5,
        "EDH": 0.5,
    }
    assert "Obuchowski-Rockette" in plan["primary_endpoint"]
    # The same design and seed give the same plan.
    again = create(world, name="again", modalities=ALL_MODALITIES, readers=plan_reader_ids(world))
    assert ReaderStudy.objects.get(pk=again["id"]).plan["readers"] == plan["readers"]
    assert {r["cases_read_before"] for r in plan["readers"]} == {0}
    # A reader who labelled the cases is named in the plan with how many.
    labelled = create(
        world, name="labelled", readers=[world["labeller"].pk, world["readers"][0].pk]
    )
    entries = ReaderStudy.objects.get(pk=labelled["id"]).plan["readers"]
    assert [(r["username"], r["cases_read_before"]) for r in entries] == [
        ("labeller", 6),
        ("neuro1", 0),
    ]


def plan_reader_ids(world) -> list[int]:
    return [r.pk for r in world["readers"]]


def test_sessions_open_in_sequence_after_the_washout(world):
    study = create(world, washout_days=14, case_count=4)
    reader = world["readers"][0]
    api = client(reader)
    sessions = list(ReaderStudySession.objects.filter(study_id=study["id"], reader=reader))
    second_read = sessions[1].reads.order_by("position").first()

    # Session 2 is closed while session 1 is not completed: its reads do not exist yet.
    assert api.get(f"{READS}{second_read.pk}/").status_code == 404
    # Cases come in the session's order: the second case cannot be opened first.
    later = sessions[0].reads.get(position=1)
    assert api.get(f"{READS}{later.pk}/").status_code == 404
    details = read_session(api, study["id"])
    assert [d["position"] for d in details] == [0, 1, 2, 3]

    sessions[0].refresh_from_db()
    sessions[1].refresh_from_db()
    assert sessions[0].completed_at is not None
    assert sessions[1].opens_at == sessions[0].completed_at + timedelta(days=14)
    state = api.get(f"{STUDIES}{study['id']}/next/").json()
    assert state["state"] == "waiting" and state["modality_sequence"] == 2
    assert api.get(f"{READS}{second_read.pk}/").status_code == 404, "washout"
    first_read = sessions[0].reads.first()
    assert api.get(f"{READS}{first_read.pk}/").status_code == 404, "a completed session is gone"

    # The washout over (moved back instead of waiting two weeks), session 2 opens.
    ReaderStudySession.objects.filter(pk=sessions[1].pk).update(
        opens_at=timezone.now() - timedelta(seconds=1)
    )
    state = api.get(f"{STUDIES}{study['id']}/next/").json()
    assert state == {"state": "read", "read": second_read.pk}
    assert len(read_session(api, study["id"])) == 4
    assert api.get(f"{STUDIES}{study['id']}/next/").json() == {"state": "done"}
    assert ReaderStudyRead.objects.filter(session__reader=reader, answered_at=None).count() == 0
    detail = api.get(f"{STUDIES}{study['id']}/").json()
    assert [(s["sequence"], s["answered"], s["total"]) for s in detail["sessions"]] == [
        (1, 4, 4),
        (2, 4, 4),
    ]


def test_a_design_the_source_cannot_hold_is_refused_with_its_reason(world):
    coordinator = client(world["coordinator"])
    too_many = coordinator.post(STUDIES, design(world, case_count=9), format="json")
    assert too_many.status_code == 400
    assert "4 positive, 4 negative" in too_many.json()["message"]
    assert "case_count" in too_many.json()["extra"]["fields"]
    one_class = coordinator.post(STUDIES, design(world, split="validation"), format="json")
    assert (
        one_class.status_code == 400 and "0 positive and 0 negative" in one_class.json()["message"]
    )
    no_unaided = coordinator.post(
        STUDIES, design(world, modalities=["aided_scores", "aided_saliency"]), format="json"
    )
    assert no_unaided.status_code == 400
    not_reader = coordinator.post(
        STUDIES,
        design(world, readers=[world["readers"][0].pk, world["engineer"].pk]),
        format="json",
    )
    assert not_reader.status_code == 400 and "mlengineer" in not_reader.json()["message"]
    one_reader = coordinator.post(
        STUDIES, design(world, readers=[world["readers"][0].pk]), format="json"
    )
    assert one_reader.status_code == 400
    no_model = coordinator.post(STUDIES, design(world, model_version=None), format="json")
    assert no_model.status_code == 400 and "model version" in no_model.json()["message"]
    washout = coordinator.post(STUDIES, design(world, washout_days=366), format="json")
    assert washout.status_code == 400
    assert ReaderStudy.objects.count() == 0
    create(world)
    again = coordinator.post(STUDIES, design(world), format="json")
    assert again.status_code == 400 and "exists already" in again.json()["message"]
    assert (
        client(world["readers"][0]).post(STUDIES, design(world), format="json").status_code == 403
    )

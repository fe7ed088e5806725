"""The results of a small study read through the API with known answers, against the MRMC
library called directly on the same ratings; and the CSV of every read."""

import csv
import io
import math
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from modelops.reader_study import mrmc
from modelops.reader_study.models import ReaderStudy, ReaderStudyRead
from tests.modelops.reader_study.helpers import STUDIES, client, create, read_session

pytestmark = pytest.mark.django_db

MODALITIES = ["unaided", "aided_scores"]


def _confidence(reader: int, modality: int, case: int, truth: bool) -> int:
    """Known ratings: aided reading separates the cases better, each reader a little apart."""
    base = 58 if truth else 42
    spread = (7 * case + 5 * reader + 11 * modality * case + 3 * reader * case) % 37 - 18
    return int(np.clip(base + (8 if truth else -8) * modality + spread, 0, 100))


def _time(reader: int, modality: int, case: int) -> float:
    return 20.0 + 5 * reader + 3 * case - 6 * modality


def test_results_match_the_mrmc_library_and_the_csv_holds_every_read(world):
    readers = world["readers"][:3]
    study = create(world, case_count=8, readers=[r.pk for r in readers], modalities=MODALITIES)
    row = ReaderStudy.objects.get(pk=study["id"])
    cases = list(row.cases.order_by("number"))
    number_of = {c.pk: c.number - 1 for c in cases}
    truth = np.array([c.reference_any for c in cases])
    # Every read opened an hour ago: the page's active times stand as sent.
    ReaderStudyRead.objects.filter(session__study=row).update(
        opened_at=timezone.now() - timedelta(hours=1)
    )

    for r, reader in enumerate(readers):
        api = client(reader)
        for _session in MODALITIES:

            def decide(detail, r=r):
                read = ReaderStudyRead.objects.select_related("case", "session").get(
                    pk=detail["id"]
                )
                m = MODALITIES.index(read.session.modality)
                k = number_of[read.case_id]
                value = _confidence(r, m, k, bool(truth[k]))
                return {
                    "any_ich": value >= 50,
                    "confidence": value,
                    "active_time_s": _time(r, m, k),
                    "subtypes": {"IPH": True} if value >= 50 else {},
                }

            assert len(read_session(api, study["id"], decide)) == 8

    ratings = np.array(
        [
            [[_confidence(r, m, k, bool(truth[k])) for k in range(8)] for r in range(3)]
            for m in range(2)
        ],
        dtype=float,
    )
    times = np.array([[[_time(r, m, k) for k in range(8)] for r in range(3)] for m in range(2)])
    # The library on aided (first) against unaided, as the results compare them.
    expected = mrmc.or_analysis(ratings[[1, 0]], truth)
    calls = (ratings >= 50).astype(float)
    expected_sens = mrmc.or_analysis(calls[[1, 0]], truth, mrmc.sensitivity(0.5))
    expected_time = mrmc.compare_reading_times(times[[1, 0]], 0, 1)

    response = client(world["engineer"]).get(f"{STUDIES}{study['id']}/results/")
    assert response.status_code == 200
    results = response.json()
    assert results["complete_readers"] == ["neuro1", "neuro2", "neuro3"]
    assert results["cases"] == 8 and results["positive_cases"] == 4
    table = {(c["reader"], c["modality"]): c for c in results["table"]}
    for r in range(3):
        for m, modality in enumerate(MODALITIES):
            cell = table[(f"neuro{r + 1}", modality)]
            assert cell["reads"] == 8
            assert cell["auc"] == pytest.approx(
                float(mrmc.empirical_auc.value(ratings[m, r], truth))
            )
            assert cell["sensitivity"] == pytest.approx(calls[m, r][truth].mean())
            assert cell["specificity"] == pytest.approx(1 - calls[m, r][~truth].mean())
            assert cell["median_time_s"] == pytest.approx(np.median(times[m, r]))
    (comparison,) = results["analysis"]
    assert (comparison["aided"], comparison["unaided"]) == ("aided_scores", "unaided")
    auc = comparison["auc"]
    assert auc["means"] == pytest.approx(list(expected.means), abs=1e-6)
    rrrc, want = auc["rrrc"], expected.rrrc
    assert rrrc["difference"] == pytest.approx(want.differences[0].estimate, abs=1e-6)
    assert rrrc["ci"] == pytest.approx(
        [want.differences[0].ci_low, want.differences[0].ci_high], abs=1e-6
    )
    assert rrrc["f"] == pytest.approx(want.test.statistic, rel=1e-5)
    assert rrrc["df2"] == pytest.approx(want.test.df2, abs=1e-3)
    assert rrrc["p"] == pytest.approx(want.test.p_value, abs=1e-7)
    assert auc["frrc"]["ci"] == pytest.approx(
        [expected.frrc.differences[0].ci_low, expected.frrc.differences[0].ci_high], abs=1e-6
    )
    assert auc["frrc"]["df2"] is None, "fixed readers: chi-square, infinite df"
    assert auc["rrfc"]["p"] == pytest.approx(expected.rrfc.test.p_value, abs=1e-7)
    assert "AUC" in auc["summary"] and "unaided" in auc["summary"]
    assert comparison["sensitivity"]["rrrc"]["difference"] == pytest.approx(
        expected_sens.rrrc.differences[0].estimate, abs=1e-6
    )
    (time,) = results["reading_time"]
    assert time["ratio"] == pytest.approx(expected_time.ratio, rel=1e-5)
    assert time["ci"] == pytest.approx(
        [expected_time.ratio_ci_low, expected_time.ratio_ci_high], rel=1e-5
    )
    assert time["p"] == pytest.approx(expected_time.p_value, abs=1e-7)
    assert time["per_reader"][0]["unaided_s"] == pytest.approx(
        math.exp(np.log(times[0, 0]).mean()), rel=1e-4
    )
    average = {a["modality"]: a["roc"] for a in results["roc"]["average"]}
    assert average["aided_scores"]["tpr"][-1] == 1.0 and len(average["unaided"]["fpr"]) == 101
    assert results["plan"] == row.plan

    csv_response = client(world["coordinator"]).get(f"{STUDIES}{study['id']}/reads.csv")
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode())))
    assert len(rows) == 3 * 2 * 8
    first = rows[0]
    read = ReaderStudyRead.objects.select_related("case", "session__reader").get(
        session__reader__username=first["reader"],
        session__sequence=int(first["session"]),
        position=int(first["position"]) - 1,
    )
    assert first["study"] == "ICH reader study"
    assert first["modality"] == read.session.modality
    assert int(first["case"]) == read.case.number and int(first["scan_id"]) == read.case.scan_id
    assert int(first["reference_any"]) == read.case.reference_any
    assert int(first["confidence"]) == read.confidence
    assert int(first["any_ich"]) == read.any_ich and int(first["iph"]) == read.iph
    assert float(first["active_time_s"]) == pytest.approx(read.active_time_s)
    assert first["opened_at"] and first["answered_at"]
    assert {r["reader"] for r in rows} == {"neuro1", "neuro2", "neuro3"}


def test_results_before_two_readers_finish_have_the_table_and_no_analysis(world):
    study = create(world, case_count=4)
    read_session(client(world["readers"][0]), study["id"])
    results = client(world["coordinator"]).get(f"{STUDIES}{study['id']}/results/").json()
    assert results["complete_readers"] == [] and results["analysis"] == []
    assert "at least two readers" in results["analysis_note"]
    cells = [c for c in results["table"] if c["reader"] == "neuro1" and c["reads"]]
    assert len(cells) == 1 and cells[0]["reads"] == 4


def test_three_modalities_get_each_comparison_and_the_test_over_all(world):
    readers = world["readers"][:3]
    study = create(
        world,
        case_count=6,
        readers=[r.pk for r in readers],
        modalities=["unaided", "aided_scores", "aided_saliency"],
    )
    row = ReaderStudy.objects.get(pk=study["id"])
    order = ["unaided", "aided_scores", "aided_saliency"]
    cases = list(row.cases.order_by("number"))
    number_of = {c.pk: c.number - 1 for c in cases}
    truth = np.array([c.reference_any for c in cases])
    for r, reader in enumerate(readers):
        api = client(reader)

        def decide(detail, r=r):
            read = ReaderStudyRead.objects.select_related("case", "session").get(pk=detail["id"])
            m, k = order.index(read.session.modality), number_of[read.case_id]
            value = _confidence(r, m, k, bool(truth[k]))
            return {"any_ich": value >= 50, "confidence": value, "active_time_s": 0.0}

        for _session in order:
            read_session(api, study["id"], decide)

    ratings = np.array(
        [
            [[_confidence(r, m, k, bool(truth[k])) for k in range(6)] for r in range(3)]
            for m in range(3)
        ],
        dtype=float,
    )
    results = client(world["coordinator"]).get(f"{STUDIES}{study['id']}/results/").json()
    assert [(c["aided"], c["unaided"]) for c in results["analysis"]] == [
        ("aided_scores", "unaided"),
        ("aided_saliency", "unaided"),
    ]
    saliency = mrmc.or_analysis(ratings[[2, 0]], truth)
    assert results["analysis"][1]["auc"]["rrrc"]["p"] == pytest.approx(
        saliency.rrrc.test.p_value, abs=1e-7
    )
    overall = mrmc.or_analysis(ratings, truth)
    assert results["overall"]["auc"]["rrrc"]["df1"] == 2
    assert results["overall"]["auc"]["rrrc"]["f"] == pytest.approx(
        overall.rrrc.test.statistic, rel=1e-5
    )
    # Answers given within the page's first tick (0 s) count as 0.1 s in the time analysis.
    assert results["reading_time"][0]["ratio"] == pytest.approx(1.0)


def test_reads_with_no_variation_to_test_against_are_not_called_significant(world):
    # Both readers answer every case alike in both modalities: the difference and its error
    # term are both zero, so F is 0/0; the library returns an infinite F (p 0), which must not
    # read as a significant result.
    readers = world["readers"][:2]
    study = create(world, case_count=4, readers=[r.pk for r in readers], modalities=MODALITIES)
    cases = {c.pk: c for c in ReaderStudy.objects.get(pk=study["id"]).cases.all()}

    def decide(detail):
        read = ReaderStudyRead.objects.get(pk=detail["id"])
        value = 80 if cases[read.case_id].reference_any else 20
        return {"any_ich": value >= 50, "confidence": value, "active_time_s": 5.0}

    for reader in readers:
        for _session in MODALITIES:
            read_session(client(reader), study["id"], decide)
    results = client(world["coordinator"]).get(f"{STUDIES}{study['id']}/results/").json()
    auc = results["analysis"][0]["auc"]
    assert auc["rrrc"]["estimable"] is False and auc["rrrc"]["p"] is None
    assert "not testable" in auc["summary"] and "significant" not in auc["summary"]

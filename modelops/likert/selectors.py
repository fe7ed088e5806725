"""What readers, coordinators and ML engineers read of Likert studies.

A reader's selectors return only what the reader may see: their own studies and their own
places in them, with the cases' study tokens; never a method, a map token or another reader's
scores.
"""

from django.db.models import Count, Q, QuerySet

from annotations.models import Role
from annotations.permissions import user_has_role
from modelops.models import LikertCase, LikertScore, LikertStudy


def likert_study_list(user) -> QuerySet[LikertStudy]:
    """Every study for coordinators and ML engineers; a reader's own open studies for them.
    Each with its number of cases and the user's own progress (``my_scored`` of ``my_total``)."""
    studies = LikertStudy.objects.select_related("saliency_run__model_version")
    if not user_has_role(user, Role.COORDINATOR, Role.ML_ENGINEER):
        studies = studies.filter(readers=user, closed_at__isnull=True)
    mine = Q(scores__reader=user) if user.is_authenticated else Q(pk__in=[])
    return studies.annotate(
        cases_total=Count("cases", distinct=True),
        my_total=Count("scores", filter=mine, distinct=True),
        my_scored=Count("scores", filter=mine & Q(scores__score__isnull=False), distinct=True),
    ).order_by("-created_at", "-id")


def likert_study_of_reader(user, study_id: int) -> LikertStudy:
    """One of the reader's studies, open or closed; DoesNotExist for any other."""
    return LikertStudy.objects.filter(readers=user).get(pk=study_id)


def likert_reader_items(study: LikertStudy, reader) -> QuerySet[LikertScore]:
    """The reader's cases in their order: position, the case's study token, the score, and
    the slice's size (the overlay is drawn over it)."""
    return (
        LikertScore.objects.filter(study=study, reader=reader)
        .select_related("case__saliency_map__item__slice")
        .order_by("position")
    )


def likert_case_for(token, user) -> LikertCase:
    """A case by its study token, for a reader of its study, a coordinator or an ML engineer;
    DoesNotExist for anyone else."""
    cases = LikertCase.objects.select_related("saliency_map__item__slice", "study")
    if not user_has_role(user, Role.COORDINATOR, Role.ML_ENGINEER):
        cases = cases.filter(study__readers=user)
    return cases.get(token=token)


def likert_score_records(study: LikertStudy) -> list[dict]:
    """Every score given, for the results and the CSV: reader, case (the sampled slice),
    method, subtype, score and when."""
    rows = (
        LikertScore.objects.filter(study=study, score__isnull=False)
        .select_related("reader", "case__saliency_map__item")
        .order_by("reader__username", "position")
    )
    return [
        {
            "reader": row.reader.username,
            "case": str(row.case.saliency_map.item_id),
            "method": row.case.saliency_map.method,
            "subtype": row.case.saliency_map.item.subtype,
            "score": row.score,
            "position": row.position,
            "scored_at": row.scored_at.isoformat() if row.scored_at else "",
        }
        for row in rows
    ]

"""Setting up a Likert study, scoring in it, closing it.

Blinding is kept by construction: a reader's cases are known to them by a token of the study's
own (``LikertCase.token``), never the map's, and nothing a reader receives carries the method;
each reader's order is drawn from the study's seed and the reader's place in it, keeps the two
maps of a slice apart where it can, and no two readers get the same order (when there are at
least two cases to order).
"""

import numpy as np
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotations.models import JobStatus, Role
from annotations.permissions import user_has_role
from ichlabel.errors import Conflict, InvalidInput, NotFound
from modelops.models import (
    LIKERT_SCALE,
    LikertCase,
    LikertScore,
    LikertStudy,
    SaliencyMap,
    SaliencyRun,
)

# Enough draws to find an order no other reader has; two equal orders of more than a few cases
# are already unlikely.
_ORDER_DRAWS = 100


def likert_study_create(
    *, name: str, saliency_run: SaliencyRun, readers: list[User], seed: int = 0, created_by
) -> LikertStudy:
    """A study of every map of the run's sample, each reader with an order of their own."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("A study needs a name of 1 to 100 characters.")
    if saliency_run.status != JobStatus.SUCCEEDED:
        raise Conflict(f"Saliency run {saliency_run.pk} is {saliency_run.status}, not finished.")
    if not readers or len({r.pk for r in readers}) != len(readers):
        raise InvalidInput("Choose one or more readers, each once.")
    not_readers = [r.username for r in readers if not user_has_role(r, Role.NEURORADIOLOGIST)]
    if not_readers:
        raise InvalidInput(f"Not neuroradiologists: {', '.join(sorted(not_readers))}.")
    maps = list(SaliencyMap.objects.filter(item__run=saliency_run, item__done=True).order_by("pk"))
    try:
        with transaction.atomic():
            study = LikertStudy.objects.create(
                name=name, saliency_run=saliency_run, seed=seed, created_by=created_by
            )
            study.readers.set(readers)
            cases = LikertCase.objects.bulk_create(
                [LikertCase(study=study, saliency_map=m) for m in maps]
            )
            rows = []
            slices = [m.item_id for m in maps]
            for reader, order in zip(
                readers, reader_orders(slices, len(readers), seed), strict=True
            ):
                rows += [
                    LikertScore(study=study, case=cases[i], reader=reader, position=position)
                    for position, i in enumerate(order)
                ]
            LikertScore.objects.bulk_create(rows)
    except IntegrityError as error:
        raise Conflict(f"A study named {name!r} exists already.") from error
    return study


def reader_orders(slices: list[int], readers: int, seed: int) -> list[list[int]]:
    """One order of the cases (given by their slices) per reader: a permutation in which the
    two maps of a slice are not shown one after the other where that can be avoided (the second
    would be scored against the memory of the first), all readers' orders different where that
    is possible."""
    rng = np.random.default_rng(seed)
    cases = len(slices)
    orders: list[list[int]] = []
    for _ in range(readers):
        order = _spread([int(i) for i in rng.permutation(cases)], slices)
        for _draw in range(_ORDER_DRAWS):
            if cases < 2 or order not in orders:
                break
            order = _spread([int(i) for i in rng.permutation(cases)], slices)
        orders.append(order)
    return orders


def _spread(order: list[int], slices: list[int]) -> list[int]:
    """The order with each case that follows one of its own slice swapped with a case whose
    place it can take without meeting its own slice on either side, when there is one."""

    def clashes(i: int) -> bool:
        return any(
            0 <= k < len(order) and slices[order[k]] == slices[order[i]] for k in (i - 1, i + 1)
        )

    for i in range(1, len(order)):
        if slices[order[i]] != slices[order[i - 1]]:
            continue
        for j in (*range(i + 1, len(order)), *range(i - 1)):
            order[i], order[j] = order[j], order[i]
            if not clashes(i) and not clashes(j):
                break
            order[i], order[j] = order[j], order[i]
    return order


def likert_score_set(
    *, study: LikertStudy, reader, position: int, score: int | None
) -> LikertScore:
    """The reader's score of the case at ``position`` of their order; None takes it back."""
    if score is not None and score not in LIKERT_SCALE:
        raise InvalidInput("A score is 1 (bad), 2 (acceptable), 3 (good) or 4 (excellent).")
    if study.closed_at is not None:
        raise Conflict("This study is closed: its scores no longer change.")
    row = LikertScore.objects.filter(study=study, reader=reader, position=position).first()
    if row is None:
        raise NotFound(f"There is no case {position + 1} for you in this study.")
    row.score = score
    row.scored_at = timezone.now() if score is not None else None
    row.save(update_fields=["score", "scored_at"])
    return row


def likert_study_close(*, study: LikertStudy) -> LikertStudy:
    """No more scores; the results are final."""
    updated = LikertStudy.objects.filter(pk=study.pk, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    if not updated:
        raise Conflict("This study is closed already.")
    study.refresh_from_db()
    return study

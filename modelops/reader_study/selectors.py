"""What coordinators, ML engineers and readers read of reader studies.

A reader's selectors return only the reader's own sessions and reads, and a read only while its
session is the reader's current one and has opened: a finished session's reads (and the model
output an aided one showed) are gone for the reader, so nothing of the model can be looked up
again in a later unaided session.
"""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from annotations.models import JobStatus, Role
from annotations.permissions import user_has_role
from annotations.vocabulary import SUBTYPES
from modelops.reader_study.models import (
    AIDED_MODALITIES,
    ReaderStudy,
    ReaderStudyRead,
    ReaderStudySession,
    StudyStatus,
)


def watches_studies(user) -> bool:
    """Coordinators, ML engineers and admins see every study and its results."""
    return user_has_role(user, Role.COORDINATOR, Role.ML_ENGINEER)


def reader_study_list(user) -> QuerySet[ReaderStudy]:
    """Every study for those who watch them; a reader's own studies for a reader. Each with its
    number of cases and readers."""
    studies = ReaderStudy.objects.select_related("ground_truth_version", "model_version")
    if not watches_studies(user):
        studies = studies.filter(
            Exists(ReaderStudySession.objects.filter(study=OuterRef("pk"), reader=user))
        )
    return studies.annotate(
        cases_total=Count("cases", distinct=True),
        readers_total=Count("sessions__reader", distinct=True),
    ).order_by("-created_at", "-id")


def reader_study_get(user, study_id: int) -> ReaderStudy:
    """A study the user may see (``reader_study_list``); DoesNotExist for any other."""
    return reader_study_list(user).get(pk=study_id)


def sessions_of(study: ReaderStudy | None, reader=None) -> QuerySet[ReaderStudySession]:
    """Sessions with their answered and total reads; one reader's with ``reader``; of every
    study with ``study`` None (a prefetch of the studies' sessions)."""
    sessions = ReaderStudySession.objects.select_related("reader")
    if study is not None:
        sessions = sessions.filter(study=study)
    if reader is not None:
        sessions = sessions.filter(reader=reader)
    return sessions.annotate(
        reads_total=Count("reads"),
        reads_answered=Count("reads", filter=Q(reads__answered_at__isnull=False)),
    ).order_by("reader__username", "sequence")


def current_session(study: ReaderStudy, reader) -> ReaderStudySession | None:
    """The reader's first session not completed; None when all are."""
    return (
        study.sessions.filter(reader=reader, completed_at__isnull=True).order_by("sequence").first()
    )


def session_is_open(session: ReaderStudySession, now=None) -> bool:
    return session.opens_at is not None and session.opens_at <= (now or timezone.now())


def model_output_ready(study: ReaderStudy) -> bool:
    return study.status != StudyStatus.PREPARING


def reader_next(study: ReaderStudy, reader) -> dict:
    """Where the reader is: a read to do, a washout to wait out, model output being prepared,
    or done."""
    if study.status == StudyStatus.CLOSED:
        return {"state": "done"}
    session = current_session(study, reader)
    if session is None:
        return {"state": "done"}
    if not session_is_open(session):
        return {
            "state": "waiting",
            "opens_at": session.opens_at,
            "modality_sequence": session.sequence,
        }
    if session.modality in AIDED_MODALITIES and not model_output_ready(study):
        return {"state": "preparing"}
    read = session.reads.filter(answered_at__isnull=True).order_by("position").first()
    if read is None:  # cannot happen: the last answer completes the session
        return {"state": "done"}
    return {"state": "read", "read": read.pk}


def reader_read_get(user, read_id: int) -> ReaderStudyRead:
    """One of the user's reads in their current, opened session (the next one to answer or one
    answered in it), of a study not closed; DoesNotExist for any other, whoever asks."""
    read = ReaderStudyRead.objects.select_related(
        "session__study__model_version", "case__scan", "case__saliency_run"
    ).get(pk=read_id, session__reader=user)
    session, study = read.session, read.session.study
    current = current_session(study, user)
    if (
        study.status == StudyStatus.CLOSED
        or current is None
        or current.pk != session.pk
        or not session_is_open(session)
        or (session.modality in AIDED_MODALITIES and not model_output_ready(study))
    ):
        raise ReaderStudyRead.DoesNotExist
    if read.answered_at is None:
        first_open = (
            session.reads.filter(answered_at__isnull=True).order_by("position").values("pk")[:1]
        )
        if not ReaderStudyRead.objects.filter(pk=read.pk, pk__in=first_open).exists():
            # Cases are read in the session's order: no skipping ahead.
            raise ReaderStudyRead.DoesNotExist
    return read


def preparation(study: ReaderStudy) -> dict:
    """The model output's state: how many cases have it, failed, in all; the failures' reasons
    (the first 20)."""
    ended = (JobStatus.FAILED, JobStatus.CANCELED)
    counts = study.cases.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(saliency_run__status=JobStatus.SUCCEEDED)),
        failed=Count("pk", filter=Q(saliency_run__status__in=ended)),
    )
    failures = study.cases.filter(saliency_run__status__in=ended).values_list(
        "number", "saliency_run__message", "saliency_run__status"
    )[:20]
    errors = [
        {"case": number, "message": message or status} for number, message, status in failures
    ]
    return {**counts, "errors": errors}


def answered_reads(study: ReaderStudy) -> QuerySet[ReaderStudyRead]:
    """Every answered read of the study, for the results and the CSV."""
    return (
        ReaderStudyRead.objects.filter(session__study=study, answered_at__isnull=False)
        .select_related("session__reader", "case")
        .order_by("session__reader__username", "session__sequence", "position")
    )


CSV_COLUMNS = [
    "study",
    "reader",
    "modality",
    "session",
    "position",
    "case",
    "scan_id",
    "reference_any",
    *(f"reference_{s}" for s in SUBTYPES),
    "any_ich",
    *SUBTYPES,
    "confidence",
    "active_time_s",
    "opened_at",
    "answered_at",
]


def read_records(study: ReaderStudy) -> list[dict]:
    """Every answered read, one row each (booleans as 0/1)."""
    return [
        {
            "study": study.name,
            "reader": read.session.reader.username,
            "modality": read.session.modality,
            "session": read.session.sequence,
            "position": read.position + 1,
            "case": read.case.number,
            "scan_id": read.case.scan_id,
            "reference_any": int(read.case.reference_any),
            **{f"reference_{s}": int(getattr(read.case, f"reference_{s}")) for s in SUBTYPES},
            "any_ich": int(bool(read.any_ich)),
            **{s: int(getattr(read, s)) for s in SUBTYPES},
            "confidence": read.confidence,
            "active_time_s": round(read.active_time_s or 0.0, 3),
            "opened_at": read.opened_at.isoformat() if read.opened_at else "",
            "answered_at": read.answered_at.isoformat() if read.answered_at else "",
        }
        for read in answered_reads(study)
    ]

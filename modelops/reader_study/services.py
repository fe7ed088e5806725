"""Setting a reader study up, preparing the model output its aided sessions show, opening and
answering reads, closing.

The plan is built once from the seed (``modelops.reader_study.plan``) and recorded on the
study; it is frozen when the first read of the study is opened, and the design cannot change
after that. A reader's sessions open one at a time: session 1 at once, session k+1
``washout_days`` after session k was completed. Answers are final.
"""

from collections.abc import Mapping
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from annotations.assignment.services import neuroradiologist_list
from annotations.models import GroundTruthScanLabel, GroundTruthVersion, JobStatus, Read
from annotations.vocabulary import CLASS_NAMES, SUBTYPES
from ichlabel.errors import Conflict, InvalidInput
from modelops.disagreements.selectors import model_thresholds
from modelops.models import ModelVersion, SaliencyMethod
from modelops.reader_study.models import (
    MAX_CONFIDENCE,
    MAX_WASHOUT_DAYS,
    Modality,
    ReaderStudy,
    ReaderStudyCase,
    ReaderStudyRead,
    ReaderStudySession,
    StudyStatus,
)
from modelops.reader_study.plan import case_order, case_sample, modality_orders

DEFAULT_PRIMARY_ENDPOINT = (
    "Difference in reader-averaged AUC for any ICH, aided with scores vs unaided; "
    "Obuchowski-Rockette, random readers and cases, Hillis ddf, alpha 0.05"
)
MAX_CASES = 1000
MAX_READERS = 50
# The model output of a case: the maps of the model's "any" score; the overlay shows NormGrad.
SALIENCY_CLASS = "any"
OVERLAY_METHOD = SaliencyMethod.NORMGRAD.value
QUESTIONS = [
    {
        "key": "any_ich",
        "kind": "yes_no",
        "text": "Does this scan show intracranial hemorrhage?",
    },
    {
        "key": "subtypes",
        "kind": "choices",
        "text": "Which subtypes? (only when there is hemorrhage; several may apply)",
        "choices": [CLASS_NAMES[s] for s in SUBTYPES],
    },
    {
        "key": "confidence",
        "kind": "scale",
        "text": "How confident are you that this scan holds intracranial hemorrhage? "
        "(0 = certainly not, 100 = certainly)",
        "min": 0,
        "max": MAX_CONFIDENCE,
    },
]


def api_class(name: str) -> str:
    """A class as the API names it: "any", "IPH", ..."""
    return "any" if name == "any" else CLASS_NAMES[name]


def frozen_thresholds(model_version: ModelVersion) -> dict[str, float]:
    """The model version's thresholds per class, as chosen at its evaluation, by the API's
    class names."""
    return {api_class(cls): cut for cls, cut in model_thresholds(model_version).items()}


def field_error(field: str, message: str) -> InvalidInput:
    """An invalid input that names its field (the API's and the services' checks alike)."""
    return InvalidInput(message, extra={"fields": {field: [message]}})


def _validated_design(
    *,
    name: str,
    ground_truth_version: GroundTruthVersion,
    split: str,
    case_count: int,
    readers: list[User],
    modalities: list[str],
    model_version: ModelVersion | None,
    washout_days: int,
) -> tuple[str, list[str], list[tuple[int, bool]]]:
    """The design's checks, in the order a coordinator would fix them; returns the clean
    name, the modalities (unaided first, then as listed) and the source's (scan, any ICH)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise field_error("name", "A study needs a name of 1 to 100 characters.")
    unknown = sorted(set(modalities) - set(Modality.values))
    if unknown:
        raise field_error("modalities", f"Unknown modalities: {', '.join(unknown)}.")
    if len(set(modalities)) != len(modalities):
        raise field_error("modalities", "Each modality may be chosen once.")
    if Modality.UNAIDED not in modalities or len(modalities) < 2:
        raise field_error("modalities", "Choose unaided reading and at least one aided modality.")
    ordered = [Modality.UNAIDED.value, *(m for m in modalities if m != Modality.UNAIDED)]
    if model_version is None:
        raise field_error("model_version", "Aided reading needs a model version.")
    # Every study has an aided modality (it compares them with unaided reading).
    if not (0 <= washout_days <= MAX_WASHOUT_DAYS):
        raise field_error("washout_days", f"The washout is 0 to {MAX_WASHOUT_DAYS} days.")
    if len({r.pk for r in readers}) != len(readers):
        raise field_error("readers", "Each reader may be chosen once.")
    if len(readers) < 2 or len(readers) > MAX_READERS:
        raise field_error("readers", f"A study needs 2 to {MAX_READERS} readers.")
    allowed = set(neuroradiologist_list().values_list("pk", flat=True))
    not_readers = sorted(r.username for r in readers if r.pk not in allowed)
    if not_readers:
        raise field_error("readers", f"Not active neuroradiologists: {', '.join(not_readers)}.")
    labels = GroundTruthScanLabel.objects.filter(version=ground_truth_version)
    if split:
        labels = labels.filter(split=split)
    # (scan, any ICH) of every source scan: ids only (a version holds tens of thousands).
    rows = list(labels.order_by("scan_id").values_list("scan_id", "any_ich"))
    positives = sum(1 for _, any_ich in rows if any_ich)
    negatives = len(rows) - positives
    where = f"in the {split} split" if split else "in all splits"
    if not positives or not negatives:
        raise field_error(
            "ground_truth_version",
            f"The ground-truth version has {positives} positive and {negatives} negative "
            f"scans {where}: a study needs at least one of each.",
        )
    if not (2 <= case_count <= min(len(rows), MAX_CASES)):
        raise field_error(
            "case_count",
            f"Choose 2 to {min(len(rows), MAX_CASES)} cases: the ground-truth version has "
            f"{len(rows)} scans {where} ({positives} positive, {negatives} negative).",
        )
    return name, ordered, rows


def reader_study_create(
    *,
    name: str,
    ground_truth_version: GroundTruthVersion,
    case_count: int,
    readers: list[User],
    modalities: list[str],
    created_by: User,
    description: str = "",
    split: str = "",
    model_version: ModelVersion | None = None,
    washout_days: int = 0,
    seed: int = 0,
    primary_endpoint: str = "",
) -> ReaderStudy:
    """A study with its cases, every reader's sessions and reads, and the plan; the model output
    of aided modalities is requested (the study is "preparing" until it is all there)."""
    name, ordered, rows = _validated_design(
        name=name,
        ground_truth_version=ground_truth_version,
        split=split,
        case_count=case_count,
        readers=readers,
        modalities=modalities,
        model_version=model_version,
        washout_days=washout_days,
    )
    try:
        with transaction.atomic():
            study = ReaderStudy.objects.create(
                name=name,
                description=description.strip(),
                ground_truth_version=ground_truth_version,
                split=split,
                case_count=case_count,
                modalities=ordered,
                model_version=model_version,
                washout_days=washout_days,
                seed=seed,
                primary_endpoint=primary_endpoint.strip() or DEFAULT_PRIMARY_ENDPOINT,
                status=StudyStatus.PREPARING,
                created_by=created_by,
            )
            _build(study, rows, readers)
            # In the same transaction: a study never exists without its model output asked.
            return reader_study_prepare(study=study, requested_by=created_by)
    except IntegrityError as error:
        if ReaderStudy.objects.filter(name=name).exists():
            raise field_error("name", f"A study named {name!r} exists already.") from error
        raise


# What a coordinator may change before the plan is frozen; the design fields rebuild the plan.
TEXT_FIELDS = ("name", "description", "primary_endpoint")
DESIGN_FIELDS = (
    "ground_truth_version",
    "split",
    "case_count",
    "readers",
    "modalities",
    "model_version",
    "washout_days",
    "seed",
)


def reader_study_update(*, study: ReaderStudy, requested_by: User, **changes) -> ReaderStudy:
    """Edit a study before its first read opened: its texts, or its design (the cases, sessions
    and plan are then drawn anew from it). Refused once the plan is frozen."""
    unknown = sorted(set(changes) - set(TEXT_FIELDS) - set(DESIGN_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(unknown)}.")
    with transaction.atomic():
        study = ReaderStudy.objects.select_for_update().get(pk=study.pk)
        if study.plan_frozen_at is not None:
            raise Conflict(
                "The plan was frozen when the first read opened "
                f"({study.plan_frozen_at:%Y-%m-%d %H:%M} UTC): the study can no longer change."
            )
        if study.status == StudyStatus.CLOSED:
            raise Conflict("This study is closed.")
        readers = changes.get("readers") or _planned_readers(study)
        design = {
            "ground_truth_version": study.ground_truth_version,
            "split": study.split,
            "case_count": study.case_count,
            "modalities": study.modalities,
            "model_version": study.model_version,
            "washout_days": study.washout_days,
            "seed": study.seed,
            **{k: v for k, v in changes.items() if k in DESIGN_FIELDS},
            "readers": readers,
        }
        name, ordered, rows = _validated_design(
            name=changes.get("name", study.name),
            **{k: v for k, v in design.items() if k != "seed"},
        )
        study.name = name
        if "description" in changes:
            study.description = changes["description"].strip()
        if "primary_endpoint" in changes:
            study.primary_endpoint = changes["primary_endpoint"].strip() or DEFAULT_PRIMARY_ENDPOINT
        for field in DESIGN_FIELDS:
            if field != "readers":
                setattr(study, field, design[field])
        study.modalities = ordered
        study.status = StudyStatus.PREPARING
        try:
            with transaction.atomic():
                study.save()
        except IntegrityError as error:
            raise field_error("name", f"A study named {name!r} exists already.") from error
        ReaderStudyRead.objects.filter(session__study=study).delete()
        study.sessions.all().delete()
        study.cases.all().delete()
        _build(study, rows, readers)
        return reader_study_prepare(study=study, requested_by=requested_by)


def _planned_readers(study: ReaderStudy) -> list[User]:
    """The study's readers in the plan's order."""
    names = [r["username"] for r in study.plan.get("readers", [])]
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    return [users[n] for n in names if n in users]


def _build(study: ReaderStudy, rows: list[tuple[int, bool]], readers: list[User]) -> None:
    """Cases, sessions, reads and the plan of a new study."""
    positives, negatives = case_sample(
        [scan for scan, any_ich in rows if any_ich],
        [scan for scan, any_ich in rows if not any_ich],
        study.case_count,
        study.seed,
    )
    by_scan = {
        label.scan_id: label
        for label in GroundTruthScanLabel.objects.filter(
            version=study.ground_truth_version, scan_id__in=positives + negatives
        )
    }
    # Case numbers follow the scans' ids: nothing in a number tells the reference.
    scans = sorted(positives + negatives)
    cases = ReaderStudyCase.objects.bulk_create(
        [
            ReaderStudyCase(
                study=study,
                scan_id=scan_id,
                number=number,
                reference_any=by_scan[scan_id].any_ich,
                **{f"reference_{s}": getattr(by_scan[scan_id], s) for s in SUBTYPES},
            )
            for number, scan_id in enumerate(scans, start=1)
        ]
    )
    orders = modality_orders(len(readers), study.modalities, study.seed)
    now = timezone.now()
    reads = []
    for index, (reader, order) in enumerate(zip(readers, orders, strict=True)):
        for sequence, modality in enumerate(order, start=1):
            session = ReaderStudySession.objects.create(
                study=study,
                reader=reader,
                modality=modality,
                sequence=sequence,
                opens_at=now if sequence == 1 else None,
            )
            reads += [
                ReaderStudyRead(session=session, case=cases[i], position=position)
                for position, i in enumerate(case_order(len(cases), study.seed, index, sequence))
            ]
    ReaderStudyRead.objects.bulk_create(reads)
    study.plan = _plan(study, readers, orders, len(positives), len(negatives))
    study.save(update_fields=["plan"])


def _plan(
    study: ReaderStudy, readers: list[User], orders: list[list[str]], positives: int, negatives: int
) -> dict:
    labels = dict(Modality.choices)
    version = study.model_version
    labelled = dict(
        Read.objects.filter(reader__in=readers, scan_id__in=study.cases.values("scan_id"))
        .values_list("reader_id")
        .annotate(n=Count("scan_id", distinct=True))
    )
    return {
        "design": (
            "Fully crossed multi-reader multi-case crossover: every reader reads every case "
            "once in each modality, one modality per session, sessions separated by a washout; "
            "the modality orders are dealt over a seeded shuffle of the readers from a Latin "
            "square (with three modalities, a Williams design: each modality follows each "
            "other equally often in every block of six readers), so the readers meeting each "
            "modality first differ by at most one; every session has its own seeded case order."
        ),
        "modalities": [{"value": m, "label": labels[m]} for m in study.modalities],
        "readers": [
            {
                "username": reader.username,
                "modality_order": order,
                # Cases this reader was assigned to label before: no washout covers those.
                "cases_read_before": labelled.get(reader.pk, 0),
            }
            for reader, order in zip(readers, orders, strict=True)
        ],
        "washout_days": study.washout_days,
        "cases": {
            "count": positives + negatives,
            "positive": positives,
            "negative": negatives,
            "prevalence": round(positives / (positives + negatives), 4),
            "ground_truth_version": study.ground_truth_version.name,
            "split": study.split or "all",
            "seed": study.seed,
        },
        "questions": QUESTIONS,
        "primary_endpoint": study.primary_endpoint,
        "analysis": (
            "Per reader and modality: empirical (trapezoidal) AUC of the confidence scores, "
            "sensitivity and specificity of the yes/no answer, against the ground-truth "
            "version's scan-level reference for any ICH. Each aided modality against unaided: "
            "Obuchowski-Rockette with jackknife covariances (random readers and cases with "
            "Hillis's denominator degrees of freedom; fixed readers; fixed cases), alpha 0.05. "
            "Reading time: paired t-test on the readers' mean log active times, ratio of "
            "geometric means with its 95% CI. Only readers who completed every session enter "
            "the analysis."
        ),
        "model": None
        if version is None
        else {
            "id": version.pk,
            "name": version.name,
            "thresholds": frozen_thresholds(version),
            "hemorrhage_class_of_maps": SALIENCY_CLASS,
            "overlay_method": OVERLAY_METHOD,
        },
    }


def reader_study_prepare(*, study: ReaderStudy, requested_by: User) -> ReaderStudy:
    """Ask for the model output of every case (again where it failed or was canceled); the
    study opens once all of it is there (``reader_study_refresh``)."""
    from modelops.scan_saliency.services import scan_saliency_request

    if study.model_version is None:
        raise Conflict("This study has no aided modality: it needs no model output.")
    if study.status == StudyStatus.CLOSED:
        raise Conflict("This study is closed.")
    for case in study.cases.select_related("scan", "saliency_run"):
        if case.saliency_run is not None and case.saliency_run.status not in (
            JobStatus.FAILED,
            JobStatus.CANCELED,
        ):
            continue
        run, _queued = scan_saliency_request(
            model_version=study.model_version,
            scan=case.scan,
            label=SALIENCY_CLASS,
            requested_by=requested_by,
        )
        if case.saliency_run_id != run.pk:
            ReaderStudyCase.objects.filter(pk=case.pk).update(saliency_run=run)
    return reader_study_refresh(study)


def reader_study_refresh(study: ReaderStudy) -> ReaderStudy:
    """A preparing study opens once the model output of every case has been computed."""
    if study.status != StudyStatus.PREPARING:
        return study
    waiting = study.cases.exclude(saliency_run__status=JobStatus.SUCCEEDED).exists()
    if not waiting:
        ReaderStudy.objects.filter(pk=study.pk, status=StudyStatus.PREPARING).update(
            status=StudyStatus.OPEN
        )
        study.refresh_from_db()
    return study


def reader_study_close(*, study: ReaderStudy) -> ReaderStudy:
    """No more reads; the results are final."""
    updated = ReaderStudy.objects.filter(pk=study.pk).exclude(status=StudyStatus.CLOSED)
    if not updated.update(status=StudyStatus.CLOSED, closed_at=timezone.now()):
        raise Conflict("This study is closed already.")
    study.refresh_from_db()
    return study


def reader_study_read_open(read: ReaderStudyRead) -> ReaderStudyRead:
    """The reader opens the read: the time it was first opened is kept, and the study's plan is
    frozen at the first read opened in it (under the study's row lock, so a design edit either
    happens before, or is refused)."""
    now = timezone.now()
    with transaction.atomic():
        study = ReaderStudy.objects.select_for_update().get(pk=read.session.study_id)
        read = ReaderStudyRead.objects.select_related(
            "session__study__model_version", "case__scan", "case__saliency_run"
        ).get(pk=read.pk)
        if read.opened_at is None:
            read.opened_at = now
            read.save(update_fields=["opened_at"])
        if study.plan_frozen_at is None:
            study.plan_frozen_at = now
            study.save(update_fields=["plan_frozen_at"])
            read.session.study.plan_frozen_at = now
    return read


def reader_study_answer(
    *,
    read: ReaderStudyRead,
    any_ich: bool,
    subtypes: Mapping[str, bool],
    confidence: int,
    active_time_s: float,
) -> ReaderStudyRead:
    """The reader's final answer to an opened read. The active time the page measured is
    clamped to the time between opening and answering. Answering the session's last read
    completes the session and sets when the reader's next one opens (after the washout)."""
    unknown = sorted(set(subtypes) - {CLASS_NAMES[s] for s in SUBTYPES})
    if unknown:
        raise field_error("subtypes", f"Unknown subtypes: {', '.join(unknown)}.")
    chosen = {s: bool(subtypes.get(CLASS_NAMES[s], False)) for s in SUBTYPES}
    if not any_ich and any(chosen.values()):
        raise field_error("subtypes", "Subtypes are marked only when there is hemorrhage.")
    if not (0 <= confidence <= MAX_CONFIDENCE):
        raise field_error("confidence", f"Confidence is 0 to {MAX_CONFIDENCE}.")
    if not (active_time_s >= 0):  # also refuses NaN
        raise field_error("active_time_s", "The active time is a number of seconds >= 0.")
    now = timezone.now()
    with transaction.atomic():
        read = (
            ReaderStudyRead.objects.select_for_update()
            .select_related("session__study")
            .get(pk=read.pk)
        )
        session = read.session
        if session.study.status == StudyStatus.CLOSED:
            raise Conflict("This study is closed: no more answers.")
        if read.answered_at is not None:
            raise Conflict("This case is answered already: answers are final.")
        if read.opened_at is None:
            raise Conflict("Open the case before answering it.")
        elapsed = max((now - read.opened_at).total_seconds(), 0.0)
        read.any_ich = any_ich
        for subtype, value in chosen.items():
            setattr(read, subtype, value)
        read.confidence = confidence
        read.active_time_s = min(float(active_time_s), elapsed)
        read.answered_at = now
        read.save()
        if not session.reads.filter(answered_at__isnull=True).exists():
            ReaderStudySession.objects.filter(pk=session.pk).update(completed_at=now)
            ReaderStudySession.objects.filter(
                study_id=session.study_id,
                reader_id=session.reader_id,
                sequence=session.sequence + 1,
            ).update(opens_at=now + timedelta(days=session.study.washout_days))
    return read

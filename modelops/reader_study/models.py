"""The reader study: do readers read head CTs better or faster with the model's help?

ReaderStudy
    The design a coordinator sets (cases from a frozen ground-truth version, readers,
    modalities, washout) and its pre-registered ``plan``, frozen when the first read opens.
ReaderStudyCase
    One sampled scan with its scan-level reference copied from the ground-truth version, and
    the model's output for it (a ``ScanSaliencyRun`` of the study's model version for "any"),
    which aided sessions show.
ReaderStudySession
    One reader's reading of every case in one modality: the crossover's cells. Session k+1 of a
    reader opens ``washout_days`` after their session k was completed.
ReaderStudyRead
    One case in one session: its place in the session's own order, when it was opened and
    answered, the answer (any ICH, subtypes, confidence 0-100) and the active reading time.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from annotations.models import GroundTruthVersion, Scan, Split
from annotations.vocabulary import SUBTYPES
from modelops.models import ModelVersion, ScanSaliencyRun

MAX_WASHOUT_DAYS = 365
MAX_CONFIDENCE = 100


class Modality(models.TextChoices):
    UNAIDED = "unaided", "Unaided"
    AIDED_SCORES = "aided_scores", "Aided: model scores"
    AIDED_SALIENCY = "aided_saliency", "Aided: model scores and saliency overlay"


AIDED_MODALITIES = (Modality.AIDED_SCORES.value, Modality.AIDED_SALIENCY.value)


class StudyStatus(models.TextChoices):
    PREPARING = "preparing", "Preparing the model output"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReaderStudy(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    ground_truth_version = models.ForeignKey(
        GroundTruthVersion, on_delete=models.PROTECT, related_name="+"
    )
    split = models.CharField(max_length=16, choices=Split.choices, blank=True)
    case_count = models.PositiveIntegerField()
    modalities = models.JSONField(help_text="Modality values, unaided first")
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    washout_days = models.PositiveSmallIntegerField(default=0)
    seed = models.PositiveIntegerField(default=0)
    primary_endpoint = models.TextField()
    plan = models.JSONField(default=dict, help_text="The pre-registered plan")
    plan_frozen_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=StudyStatus.choices, default=StudyStatus.PREPARING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "reader studies"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=StudyStatus.values), name="reader_study_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(washout_days__lte=MAX_WASHOUT_DAYS),
                name="reader_study_washout_range",
            ),
            models.CheckConstraint(condition=Q(case_count__gte=2), name="reader_study_cases"),
            models.CheckConstraint(
                condition=Q(status=StudyStatus.CLOSED, closed_at__isnull=False)
                | (~Q(status=StudyStatus.CLOSED) & Q(closed_at__isnull=True)),
                name="reader_study_closed_when_closed",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="reader_study_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Reader study {self.name}"


class ReaderStudyCase(models.Model):
    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="cases")
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(help_text="1..N in the study's sample")
    reference_any = models.BooleanField()
    reference_iph = models.BooleanField()
    reference_ivh = models.BooleanField()
    reference_sah = models.BooleanField()
    reference_sdh = models.BooleanField()
    reference_edh = models.BooleanField()
    saliency_run = models.ForeignKey(
        ScanSaliencyRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["study_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "scan"], name="reader_study_case_once"),
            models.UniqueConstraint(fields=["study", "number"], name="reader_study_case_number"),
            models.CheckConstraint(
                condition=Q(reference_any=True)
                | Q(
                    reference_iph=False,
                    reference_ivh=False,
                    reference_sah=False,
                    reference_sdh=False,
                    reference_edh=False,
                ),
                name="reader_study_case_reference_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.number} of reader study {self.study_id}"

    @property
    def reference_subtypes(self) -> dict[str, bool]:
        return {subtype: getattr(self, f"reference_{subtype}") for subtype in SUBTYPES}


class ReaderStudySession(models.Model):
    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="sessions")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reader_study_sessions"
    )
    modality = models.CharField(max_length=16, choices=Modality.choices)
    sequence = models.PositiveSmallIntegerField(help_text="1..M: the reader's k-th session")
    opens_at = models.DateTimeField(
        null=True, blank=True, help_text="Null until the previous session is completed"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study_id", "reader_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "reader", "sequence"], name="reader_study_session_sequence"
            ),
            models.UniqueConstraint(
                fields=["study", "reader", "modality"], name="reader_study_session_modality"
            ),
            models.CheckConstraint(
                condition=Q(modality__in=Modality.values), name="reader_study_session_modality_ok"
            ),
            models.CheckConstraint(
                condition=Q(sequence__gte=1, sequence__lte=3),
                name="reader_study_session_sequence_range",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(opens_at__lte=F("completed_at")),
                name="reader_study_session_completed_after_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.sequence} ({self.modality}) of reader {self.reader_id}"


class ReaderStudyRead(models.Model):
    session = models.ForeignKey(ReaderStudySession, on_delete=models.CASCADE, related_name="reads")
    case = models.ForeignKey(ReaderStudyCase, on_delete=models.CASCADE, related_name="reads")
    position = models.PositiveIntegerField(help_text="0-based place in the session's order")
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    any_ich = models.BooleanField(null=True, blank=True)
    iph = models.BooleanField(default=False)
    ivh = models.BooleanField(default=False)
    sah = models.BooleanField(default=False)
    sdh = models.BooleanField(default=False)
    edh = models.BooleanField(default=False)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    active_time_s = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["session_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "case"], name="reader_study_read_once"),
            models.UniqueConstraint(
                fields=["session", "position"], name="reader_study_read_position"
            ),
            # An answer is whole: any ICH, confidence and time together, after the opening,
            # and subtypes only with any ICH.
            models.CheckConstraint(
                condition=Q(
                    answered_at__isnull=True,
                    any_ich__isnull=True,
                    confidence__isnull=True,
                    active_time_s__isnull=True,
                    iph=False,
                    ivh=False,
                    sah=False,
                    sdh=False,
                    edh=False,
                )
                | Q(
                    answered_at__isnull=False,
                    opened_at__isnull=False,
                    any_ich__isnull=False,
                    confidence__isnull=False,
                    active_time_s__isnull=False,
                ),
                name="reader_study_read_answer_whole",
            ),
            models.CheckConstraint(
                condition=Q(any_ich=True)
                | Q(iph=False, ivh=False, sah=False, sdh=False, edh=False),
                name="reader_study_read_subtypes_with_any",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__lte=MAX_CONFIDENCE),
                name="reader_study_read_confidence_range",
            ),
            models.CheckConstraint(
                condition=Q(active_time_s__isnull=True) | Q(active_time_s__gte=0),
                name="reader_study_read_time_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answered_at__gte=F("opened_at")),
                name="reader_study_read_answered_after_opened",
            ),
        ]

    def __str__(self) -> str:
        return f"Read {self.position} of session {self.session_id}"

    @property
    def subtypes(self) -> dict[str, bool]:
        return {subtype: getattr(self, subtype) for subtype in SUBTYPES}

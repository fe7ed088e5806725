"""Second reads: a scan sent back to a blinded reader because something (a model, a
coordinator's doubt) disagrees with how it was read.

SecondReadRequest
    One request for one more blinded read of a scan whose reads were complete: the new read
    (a cross-read at the level of the scan's other reads), who asked, when and why (``reason``,
    a JSON object such as ``{"source": "model", "model_version": 7, "class": "sdh", "kind":
    "false_negative", "score": 0.93}``), and where it stands (``state``): the read is open
    (``reading``), it disagreed with the earlier reads and adjudication items are open
    (``adjudication``), everything is decided or the reads agreed (``settled``), or the read
    was taken back (``withdrawn``). A scan has at most one request that is not settled or
    withdrawn.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.models.reads import Read
from annotations.models.study import Scan


class SecondReadState(models.TextChoices):
    READING = "reading", "Second read pending"
    ADJUDICATION = "adjudication", "Adjudication pending"
    SETTLED = "settled", "Settled"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_SECOND_READ_STATES = (SecondReadState.READING, SecondReadState.ADJUDICATION)


class SecondReadRequest(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="second_read_requests")
    read = models.OneToOneField(
        Read,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="second_read_request",
        help_text="The blinded read; None once a read without work was taken back",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    reason = models.JSONField(help_text="Why: a JSON object with at least a 'source'")
    state = models.CharField(
        max_length=16, choices=SecondReadState.choices, default=SecondReadState.READING
    )
    disagreements = models.PositiveIntegerField(
        null=True, blank=True, help_text="Slice (or scan) subtypes the reads disagreed on"
    )
    read_completed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=SecondReadState.values), name="second_read_state_valid"
            ),
            models.UniqueConstraint(
                fields=["scan"],
                condition=Q(state__in=["reading", "adjudication"]),
                name="second_read_one_open_per_scan",
            ),
            models.CheckConstraint(
                condition=Q(state="settled", settled_at__isnull=False)
                | (~Q(state="settled") & Q(settled_at__isnull=True)),
                name="second_read_settled_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["adjudication", "settled"])
                | Q(read_completed_at__isnull=False, disagreements__isnull=False),
                name="second_read_compared_after_read",
            ),
            models.CheckConstraint(
                condition=~Q(state="reading") | Q(read__isnull=False),
                name="second_read_reading_has_read",
            ),
        ]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["scan", "-requested_at"])]

    def __str__(self) -> str:
        return f"Second read {self.pk} of scan {self.scan_id} ({self.state})"

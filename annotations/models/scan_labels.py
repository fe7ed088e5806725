"""Scan-level labels: the prospective test set is read per scan, not per slice.

ScanLabel
    One scan-level read's verdict: the five subtypes (IPH, IVH, SAH, SDH, EDH) or an explicit
    "no hemorrhage"; ``any`` is derived. ``version`` counts saves, as for slice labels, so a
    stale save is refused as a conflict.
ScanLabelAudit
    One row per change of a scan label: who, when, the values before and after.
"""

from django.db import models
from django.db.models import Q

from annotations.models.reads import (
    NO_HEMORRHAGE_EXCLUDES_SUBTYPES,
    AuditEntry,
    LabelValues,
    Read,
)


class ScanLabel(LabelValues):
    read = models.OneToOneField(Read, on_delete=models.CASCADE, related_name="scan_label")

    class Meta:
        ordering = ["read_id"]
        constraints = [
            models.CheckConstraint(
                condition=NO_HEMORRHAGE_EXCLUDES_SUBTYPES,
                name="scan_label_no_hemorrhage_excludes_subtypes",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="scan_label_version_positive"),
        ]

    def __str__(self) -> str:
        return f"Scan label of read {self.read_id}"


class ScanLabelAudit(AuditEntry):
    read = models.ForeignKey(Read, on_delete=models.CASCADE, related_name="scan_label_audit")

    def __str__(self) -> str:
        return f"Audit of the scan label of read {self.read_id} (v{self.version})"

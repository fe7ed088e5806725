"""The study's models: study data (``study``) and readers' labels (``reads``)."""

from annotations.models.reads import (
    LABEL_FIELDS,
    SUBTYPES,
    LabelAudit,
    Read,
    ReadStatus,
    SliceLabel,
)
from annotations.models.study import (
    FINISHED_STATUSES,
    Center,
    ImportBatch,
    JobStatus,
    Patient,
    QuarantinedSeries,
    Role,
    Scan,
    Sex,
    Slice,
    Split,
)

__all__ = [
    "FINISHED_STATUSES",
    "LABEL_FIELDS",
    "SUBTYPES",
    "Center",
    "ImportBatch",
    "JobStatus",
    "LabelAudit",
    "Patient",
    "QuarantinedSeries",
    "Read",
    "ReadStatus",
    "Role",
    "Scan",
    "Sex",
    "Slice",
    "SliceLabel",
    "Split",
]

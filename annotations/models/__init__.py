"""The study's models: study data (``study``), readers' labels (``reads``, ``scan_labels``),
lesion masks (``lesion_masks``), consensus (adjudication, frozen ground-truth versions:
``consensus``) and exports built by a worker (``exports``)."""

from annotations.models.consensus import (
    AdjudicatedLabel,
    AdjudicationItem,
    AdjudicationReason,
    AdjudicationStatus,
    FrozenRowError,
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
)
from annotations.models.exports import JOB_EXPORT_KINDS, ExportJob
from annotations.models.lesion_masks import LesionMask, MaskSource
from annotations.models.reads import (
    ACTIVE_READ_STATUSES,
    LABEL_FIELDS,
    OPEN_READ_STATUSES,
    SUBTYPES,
    LabelAudit,
    Read,
    ReadKind,
    ReadLevel,
    ReadStatus,
    SliceLabel,
)
from annotations.models.scan_labels import ScanLabel, ScanLabelAudit
from annotations.models.second_reads import (
    OPEN_SECOND_READ_STATES,
    SecondReadRequest,
    SecondReadState,
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
    "ACTIVE_READ_STATUSES",
    "OPEN_READ_STATUSES",
    "OPEN_SECOND_READ_STATES",
    "SecondReadRequest",
    "SecondReadState",
    "AdjudicatedLabel",
    "AdjudicationItem",
    "AdjudicationReason",
    "AdjudicationStatus",
    "FrozenRowError",
    "GroundTruthScanLabel",
    "GroundTruthSliceLabel",
    "GroundTruthVersion",
    "ReadKind",
    "ReadLevel",
    "ScanLabel",
    "ScanLabelAudit",
    "FINISHED_STATUSES",
    "LABEL_FIELDS",
    "SUBTYPES",
    "Center",
    "ExportJob",
    "ImportBatch",
    "JOB_EXPORT_KINDS",
    "JobStatus",
    "LabelAudit",
    "LesionMask",
    "MaskSource",
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

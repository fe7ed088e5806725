"""Errors of the DICOM layer. A retriable error may succeed if tried again (network, timeout)."""


class DicomError(Exception):
    """A DICOM input or operation failed; the message says why, for the user."""


class RetriableDicomError(DicomError):
    """A transient failure (timeout, aborted association): the queue layer may retry it.

    ``retriable`` is what the jobs framework looks at (``ichlabel.jobs.is_retriable``): this
    library does not import Django, so it cannot subclass ``ichlabel.jobs.RetriableError``."""

    retriable = True


class RejectedFile(DicomError):
    """One file cannot be imported; ``reason`` is reported per file."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GeometryError(DicomError):
    """A series' geometry is inconsistent; the whole series is refused with this reason."""

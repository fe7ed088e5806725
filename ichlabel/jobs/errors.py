"""How a job's work tells the framework to stop, or to try again later."""


class RetriableError(Exception):
    """A fault that may pass if the job is tried again: I/O, the network, a timeout.

    Only errors of this kind (and a database that went away) are retried (with backoff,
    within ``JOBS_MAX_ATTEMPTS`` tries); any other error fails the job with its message. The
    message of this kind is shown on the job as it is: say what failed, never quote data.
    Libraries that must not import Django mark their own class instead with
    ``retriable = True`` (``annotations.dicom.errors``)."""

    retriable = True


def is_retriable(error: BaseException) -> bool:
    return bool(getattr(type(error), "retriable", False)) or database_gone(error)


def database_gone(error: BaseException | None) -> bool:
    """The database connection broke or was refused (a restart, a failover), or the server
    gave up on a statement (deadlock, timeout): worth trying again on a new connection."""
    from django.db import InterfaceError, OperationalError  # local: errors.py needs no Django

    return isinstance(error, OperationalError | InterfaceError)


class JobCanceled(Exception):  # noqa: N818 - a stop, not a fault
    """Raised by the work between two steps once a cancel was asked; the message is kept."""


class JobLost(Exception):  # noqa: N818 - a stop, not a fault
    """The worker no longer holds the job (taken over, or failed by the recovery): stop, and
    write nothing more."""

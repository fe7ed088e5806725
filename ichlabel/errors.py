"""Domain errors: what went wrong, in the study's terms, without HTTP status codes.

Services and selectors raise these; the API's one exception handler (``ichlabel.api``) maps
each kind to a status code and the one JSON error shape, and pages or the admin show the
message as it is. The message is for the user; ``extra`` carries what a client may act on
(the current version of a label, the conflicting read).
"""


class DomainError(Exception):
    """A rule of the domain was broken; ``message`` says which, in words a user understands."""

    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InvalidInput(DomainError):
    """The request names values the domain does not accept (an unknown option, a bad range)."""


class NotFound(DomainError):
    """What was asked for does not exist, or is not the user's to see (the same answer)."""


class Conflict(DomainError):
    """A valid request that the current state refuses: a completed read, a released version,
    a stale label version, a job that has already finished."""


class NotAllowed(DomainError):
    """The user may see the thing but not do this to it."""

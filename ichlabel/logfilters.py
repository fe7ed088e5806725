"""Logging filters that keep patient data out of the logs."""

import logging
import re

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


class RedactDicomValues(logging.Filter):
    """pydicom quotes attribute values in its warnings (e.g. an invalid date): drop them.

    The value may be a name or a birth date; the rest of the message still says what was wrong.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "pydicom" or record.name.startswith("pydicom."):
            record.msg = _QUOTED.sub("'<redacted>'", record.getMessage())
            record.args = ()
        return True

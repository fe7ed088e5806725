"""The prospective link: how a node's result finds the scan ICHLabel imports from the same series,
though ICHLabel never stores an identifier of the hospital.

ICHLabel derives a link key per center from its de-identification secret and hands it to that
center's nodes when they enrol. Node and import then compute the same keyed hash of the
series' original SeriesInstanceUID: the node as its result's key, the import (before the UID is
replaced) as the scan's ``source_link``. Equal values link a prediction to its scan; neither
value can be turned back into the UID without the key, and the key never reaches a reader.

Plain Python: the edge agent carries this module unchanged (``edge/pyproject.toml``).
"""

import hashlib
import hmac

_CENTER_DOMAIN = b"ichlabel-node-link\x00"
_SERIES_DOMAIN = b"ichlabel-series-link\x00"
LINK_LENGTH = 40  # hex characters: 160 bits


def center_link_key(secret: bytes | str, center: str) -> bytes:
    """The link key of the center named ``center`` under the installation's secret."""
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    return hmac.new(key, _CENTER_DOMAIN + center.strip().encode("utf-8"), hashlib.sha256).digest()


def series_link(link_key: bytes, series_instance_uid: str) -> str:
    """The series' link under ``link_key`` (padding of the UID ignored, as DICOM pads it)."""
    message = _SERIES_DOMAIN + series_instance_uid.strip("\x00 ").encode("ascii", "replace")
    return hmac.new(link_key, message, hashlib.sha256).hexdigest()[:LINK_LENGTH]

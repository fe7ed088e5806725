"""Series a node sends for import: the prospective set.

A node that is told to (``send_series`` in its config) sends each series it scored, as the
PACS gave it, with the series' link. ICHLabel checks that every file is DICOM of that one
series (its link recomputed from the file's SeriesInstanceUID under the node's center's key),
then imports it into the node's center like any upload: de-identified, the center's split, the
link kept on the scan so the prediction finds it. A series sent again (its answer lost) is one
upload; the first stands.
"""

from collections.abc import Sequence
from typing import IO

from django.db import IntegrityError, transaction

from annotations.dicom.link import series_link
from annotations.ingest.services import (
    import_batch_create,
    import_batch_files_add,
    import_batch_start,
)
from annotations.models import ImportBatch
from ichlabel.errors import InvalidInput
from modelops.models import EdgeNode, NodeSeriesUpload
from modelops.nodes.services import node_link_key

MAX_FILES = 5000


def node_series_import(
    *, node: EdgeNode, link: str, files: Sequence[tuple[str, IO[bytes]]]
) -> tuple[NodeSeriesUpload, bool]:
    """The upload of ``link`` from ``node`` and whether it was made now (its import queued)."""
    existing = NodeSeriesUpload.objects.filter(node=node, series_link=link).first()
    if existing is not None:
        return existing, False
    if not files:
        raise InvalidInput("No files: send the series' DICOM files.")
    if len(files) > MAX_FILES:
        raise InvalidInput(f"{len(files)} files: a series is sent with at most {MAX_FILES}.")
    key = node_link_key(node)
    for name, stream in files:
        if series_link(key, _series_uid(name, stream)) != link:
            raise InvalidInput(f"{name} is not of the series the link names.")
    try:
        with transaction.atomic():
            upload = NodeSeriesUpload.objects.create(node=node, series_link=link, files=len(files))
            batch = import_batch_create(
                center=node.center, split=None, source=ImportBatch.Source.NODE
            )
            import_batch_files_add(batch=batch, files=files)
            upload.batch = import_batch_start(batch=batch)
            upload.save(update_fields=["batch"])
    except IntegrityError:  # the same series at the same moment: the other request has it
        return NodeSeriesUpload.objects.get(node=node, series_link=link), False
    return upload, True


def _series_uid(name: str, stream: IO[bytes]) -> str:
    # local: pydicom is for the import's workers; the web app's start-up skips it
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        header = dcmread(stream, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"])
    except (InvalidDicomError, EOFError, ValueError, OSError) as error:
        raise InvalidInput(f"{name} is not a DICOM file: {error}") from error
    finally:
        stream.seek(0)
    uid = str(header.get("SeriesInstanceUID", "") or "")
    if not uid:
        raise InvalidInput(f"{name} has no SeriesInstanceUID.")
    return uid

"""What every export shares: the frozen version it reads, the filters, the manifest that traces
a file back to its version, the download name, and streaming plumbing."""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.db import connection
from django.db.models import F
from django.db.models.functions import Collate
from django.http import Http404

from annotations.models import GroundTruthScanLabel, GroundTruthVersion

# Rows are buffered and handed on in chunks of about this many bytes: small enough to stream,
# large enough that a 2.25-million-slice export is not millions of tiny writes.
CHUNK_BYTES = 256 * 1024
# Rows fetched per round trip from the database's server-side cursor.
FETCH_ROWS = 5_000


@dataclass(frozen=True)
class ExportFilters:
    """Which scans of the version go into an export; ``None`` means all. The split and center
    are those frozen with the version, so an export never changes when the study is
    reorganised after a freeze."""

    split: str | None = None
    center_id: int | None = None

    def frozen_lookups(self) -> dict:
        """Lookups on the version's scan rows (GroundTruthScanLabel)."""
        lookups = {}
        if self.split:
            lookups["split"] = self.split
        if self.center_id is not None:
            lookups["center_id"] = self.center_id
        return lookups

    def scan_lookups(self, version: GroundTruthVersion) -> dict:
        """Lookups on rows with a ``scan``: only the scans the filters keep in this version."""
        if not self.frozen_lookups():
            return {}
        kept = GroundTruthScanLabel.objects.filter(version=version, **self.frozen_lookups())
        return {"scan_id__in": kept.values("scan_id")}

    def as_dict(self) -> dict:
        return {"split": self.split, "center": self.center_id}


ALL_SCANS = ExportFilters()


def export_version_get(*, version_id: int) -> GroundTruthVersion:
    """A frozen version (sealed with its content hash), else 404: a version still being frozen
    or one that does not exist has nothing to export."""
    version = (
        GroundTruthVersion.objects.exclude(content_sha256="")
        .select_related("created_by")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise Http404("No frozen ground-truth version with this id.")
    return version


def version_manifest(version: GroundTruthVersion) -> dict:
    """The fields that trace an exported file back to the version it came from."""
    return {
        "id": version.pk,
        "name": version.name,
        "content_sha256": version.content_sha256,
        "created_at": version.created_at.isoformat(),
        "scan_count": version.scan_count,
        "slice_count": version.slice_count,
    }


def manifest_json(manifest: dict) -> bytes:
    """Canonical JSON (sorted keys, fixed indent, trailing newline): the same manifest, the
    same bytes."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "version"


def export_filename(*, version: GroundTruthVersion, kind: str, filters: ExportFilters) -> str:
    """``ichlabel-gt-<name>-v<id>[-split-<s>][-center-<c>]-<kind>``: the version is in the name,
    since a CSV has no room for it."""
    parts = ["ichlabel-gt", _slug(version.name), f"v{version.pk}"]
    if filters.split:
        parts.append(f"split-{_slug(filters.split)}")
    if filters.center_id is not None:
        parts.append(f"center-{filters.center_id}")
    stem, _, extension = kind.rpartition(".")
    return "-".join([*parts, stem]) + f".{extension}"


def byte_order(field: str):
    """Order by ``field`` byte by byte on every database: PostgreSQL's default collation
    sorts by locale, which would make the file depend on the server's settings."""
    if connection.vendor == "postgresql":
        return Collate(F(field), "C").asc()
    return F(field).asc()  # SQLite compares text as bytes already


def csv_chunks(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[bytes]:
    """CSV in UTF-8, ``\\n`` line ends, minimal quoting, yielded in chunks of ~CHUNK_BYTES."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def export_write(out: BinaryIO, chunks: Iterable[bytes]) -> int:
    """Write an export's chunks to a binary file; returns the bytes written."""
    written = 0
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    return written

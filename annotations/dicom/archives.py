"""How far an import may expand: limits on uncompressed size and compression ratio.

A zip bomb is a small upload that costs a worker minutes or its memory (a 1 MB zip of four
250 MiB members of zeros held the only ingest worker for 13.6 minutes). Every limit here is
judged from what a zip's central directory declares, before a byte is decompressed; and a
member is read through ``BoundedReader``, which stops at the size its header declared, so a
header that lies buys nothing. Plain DICOM files count at their size on disk.

DICOM has an archive of its own: the Deflated Explicit VR Little Endian transfer syntax, whose
dataset pydicom inflates whole into memory, with no size declared anywhere. ``deflated_problem``
inflates such a file once, in bounded steps, and stops as soon as it passes a limit.

Like the rest of ``annotations.dicom`` this does not import Django: the app builds
``ExpansionLimits`` from its settings (``ICHLABEL_IMPORT_*``) and passes them in.
"""

import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from annotations.dicom.errors import RejectedFile

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
# Below this size a ratio says nothing: a small file of padding may compress 1000:1 and still
# costs next to nothing to read. Above it, a real CT slice or export deflates 2-4:1.
RATIO_FLOOR_BYTES = 1 * MIB


@dataclass(frozen=True)
class ExpansionLimits:
    """``max_file_bytes``: one file or zip member, uncompressed (a CT slice is ~0.5 MB).
    ``max_ratio``: uncompressed over compressed size, of a member, an archive and the batch.
    ``max_total_bytes``: the whole batch uncompressed; None for no limit (the command line,
    whose folders are the operator's own)."""

    max_file_bytes: int = 64 * MIB
    max_ratio: float = 100.0
    max_total_bytes: int | None = 4 * GIB


@dataclass(frozen=True)
class Expansion:
    """What some files expand to (``expanded``) against what they take as sent (``stored``)."""

    expanded: int = 0
    stored: int = 0

    def __add__(self, other: "Expansion") -> "Expansion":
        return Expansion(self.expanded + other.expanded, self.stored + other.stored)


def file_size_problem(size: int, limits: ExpansionLimits) -> str | None:
    """Why a file (or member) of ``size`` uncompressed bytes is refused, if it is."""
    if size > limits.max_file_bytes:
        shown, limit = _sizes(size, limits.max_file_bytes)
        return f"file too large for a CT slice ({shown} uncompressed; the limit is {limit})"
    return None


def ratio_problem(what: str, expansion: Expansion, limits: ExpansionLimits) -> str | None:
    """Why ``what`` is refused for its compression ratio, if it is."""
    if expansion.expanded < RATIO_FLOOR_BYTES:
        return None
    if expansion.expanded <= limits.max_ratio * max(expansion.stored, 1):
        return None
    ratio = expansion.expanded / max(expansion.stored, 1)
    return (
        f"{what} expands {ratio:.0f}:1 ({format_bytes(expansion.stored)} to "
        f"{format_bytes(expansion.expanded)}), beyond the limit of {limits.max_ratio:g}:1"
    )


def total_problem(expansion: Expansion, limits: ExpansionLimits) -> str | None:
    """Why a batch of this expansion is refused, if it is: its total, then its ratio."""
    if limits.max_total_bytes is not None and expansion.expanded > limits.max_total_bytes:
        shown, limit = _sizes(expansion.expanded, limits.max_total_bytes)
        return f"the import would hold {shown} uncompressed, beyond its limit of {limit}"
    return ratio_problem("the import", expansion, limits)


def member_problem(info: zipfile.ZipInfo, limits: ExpansionLimits) -> str | None:
    """Why a zip member is refused, from its central directory entry alone."""
    return file_size_problem(info.file_size, limits) or ratio_problem(
        "the compressed member", Expansion(info.file_size, info.compress_size), limits
    )


def zip_members(archive: "zipfile.ZipFile") -> list[zipfile.ZipInfo]:
    """The files of an archive (folders left out), as its central directory declares them."""
    return [info for info in archive.infolist() if not info.is_dir()]


def archive_expansion(members: Iterable[zipfile.ZipInfo], archive_bytes: int) -> Expansion:
    return Expansion(sum(info.file_size for info in members), archive_bytes)


def stream_expansion(stream: IO[bytes], size: int) -> tuple[Expansion, bool]:
    """What one uploaded file expands to, and whether it is a zip archive, from its central
    directory alone; the stream is left at its start. A file that only looks like a zip
    counts at its size (the import refuses it as unreadable)."""
    expansion, is_zip = Expansion(size, size), False
    try:
        stream.seek(0)
        if zipfile.is_zipfile(stream):
            stream.seek(0)
            with zipfile.ZipFile(stream) as archive:
                expansion, is_zip = archive_expansion(zip_members(archive), size), True
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        pass
    stream.seek(0)
    return expansion, is_zip


class BoundedReader:
    """A zip member's bytes, never more than ``limit`` (what its header declared, at most the
    file limit): a member that holds more, or that does not match its header, is refused as a
    file instead of being decompressed on."""

    def __init__(self, handle: IO[bytes], limit: int) -> None:
        self._handle = handle
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        try:
            data = self._handle.read(want)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise RejectedFile(
                f"zip member does not match its header ({type(exc).__name__})"
            ) from exc
        self._left -= len(data)
        if self._left < 0:
            raise RejectedFile("zip member holds more than its header declares")
        return data

    def close(self) -> None:
        self._handle.close()


def _sizes(size: int, limit: int) -> tuple[str, str]:
    """Both sizes for a message; in bytes where rounding would make them look the same."""
    if format_bytes(size) == format_bytes(limit):
        return f"{size} bytes", f"{limit} bytes"
    return format_bytes(size), format_bytes(limit)


DEFLATED_SYNTAX = b"1.2.840.10008.1.2.1.99"
# A file meta group (a few short elements) is far smaller than this.
META_PREFIX_BYTES = 64 * KIB
INFLATE_STEP = 1 * MIB
# Value representations whose length takes 4 bytes after 2 reserved ones (explicit VR).
LONG_VRS = frozenset(
    (b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV")
)


def deflated_problem(stream: IO[bytes], size: int, limits: ExpansionLimits) -> str | None:
    """Why a DICOM file in the deflated transfer syntax is refused, if it is: its dataset
    inflates past the file limit or the ratio. Other files are not inflated (None at once)."""
    found = _deflated_dataset(stream)
    if found is None:
        return None
    if isinstance(found, str):
        return found
    start, chunk = found
    chunk = chunk or stream.read(INFLATE_STEP)
    compressed = max(size - start, 1)
    # Past this, a file is refused either way: the work stops there.
    ceiling = min(limits.max_file_bytes, max(limits.max_ratio * compressed, RATIO_FLOOR_BYTES))
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    while chunk and produced <= ceiling:
        data = chunk
        while data and produced <= ceiling:
            produced += len(inflater.decompress(data, INFLATE_STEP))
            data = inflater.unconsumed_tail
        chunk = stream.read(INFLATE_STEP)
    if produced <= ceiling:
        return None  # within every limit (or truncated: the reader refuses it for that)
    problem = file_size_problem(start + produced, limits) or ratio_problem(
        "the deflated DICOM dataset", Expansion(produced, compressed), limits
    )
    return f"{problem}; inflating stopped there" if problem else None


def _deflated_dataset(stream: IO[bytes]) -> tuple[int, bytes] | str | None:
    """If ``stream`` opens a Part 10 file in the deflated syntax: where its dataset starts and
    the bytes of it read so far. None for any other file; a reason for a meta group too large
    to be real. Reads the preamble and the meta group only (a few hundred bytes)."""
    body = stream.read(144)  # preamble, "DICM", and the group length element (0002,0000) UL
    if body[128:132] != b"DICM":
        return None
    end: int | None = None
    if body[132:138] == b"\x02\x00\x00\x00UL":
        (length,) = struct.unpack_from("<I", body, 140)
        if length > META_PREFIX_BYTES:
            return f"file meta group of {format_bytes(length)}: not a DICOM file"
        end = 144 + length
        body += stream.read(length)
    else:  # no group length (not conformant): the group ends where group 0002 does
        body += stream.read(META_PREFIX_BYTES)
    offset, syntax = 132, b""
    while offset + 8 <= len(body) and (end is None or offset < end):
        group, element = struct.unpack_from("<HH", body, offset)
        if group != 0x0002:
            break
        if body[offset + 4 : offset + 6] in LONG_VRS:
            (length,) = struct.unpack_from("<I", body, offset + 8)
            value = offset + 12
        else:
            (length,) = struct.unpack_from("<H", body, offset + 6)
            value = offset + 8
        if element == 0x0010:
            syntax = body[value : value + length].rstrip(b"\0 ")
        offset = value + length
    if syntax != DEFLATED_SYNTAX:
        return None
    start = end if end is not None else offset
    return start, body[start:]


def format_bytes(size: float) -> str:
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{int(size)} bytes"

"""Uploaded files in a batch's folder: safe, unique names, and what the folder expands to.

A browser or script names each file (a folder upload's relative path); nothing in that name may
fail a request half-way or leave the folder: it is normalised (NFC, no control or invisible
characters, no '..', components within the file system's 255 bytes) and made unique in the
batch with a ``-2``, ``-3``... suffix, so two files of one name both arrive.
"""

import itertools
import json
import os
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParserError

from annotations.dicom.archives import (
    MIB,
    Expansion,
    ExpansionLimits,
    archive_expansion,
    format_bytes,
    zip_members,
)

# Room for what zip headers add to the bytes sent over what they expand to.
QUOTA_SLACK_BYTES = 1 * MIB
# NAME_MAX of every file system the data folder may live on; bytes, not characters.
MAX_NAME_BYTES = 255
# The whole relative path: far under PATH_MAX (4096) once the data folder's path is in front.
MAX_PATH_BYTES = 1024
MAX_DEPTH = 32
# An extension kept through truncation and suffixes: short and alphanumeric, as .dcm or .zip
# (a UID-named file's last component, "1.2.840.113619", is no extension).
MAX_EXTENSION_CHARS = 8
UNNAMED = "unnamed"
# Unicode categories shown as "_" in a file name: controls (NUL included), surrogates, private
# use and unassigned code points, line and paragraph separators. Format characters (category
# Cf: bidirectional overrides, zero-width joiners) are dropped.
REPLACED_CATEGORIES = {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}


def upload_name_normalise(name: str) -> PurePosixPath:
    """A relative path, confined to the batch folder, that every file system here can hold."""
    text = unicodedata.normalize("NFC", name).replace("\\", "/")
    parts = [_component(raw) for raw in text.split("/")]
    parts = [part for part in parts if part not in ("", ".", "..")][-MAX_DEPTH:]
    if not parts:
        return PurePosixPath(UNNAMED)
    # Over-long paths lose their outer folders first: the file's own name matters most.
    while len(parts) > 1 and len("/".join(parts).encode()) > MAX_PATH_BYTES:
        parts.pop(0)
    return PurePosixPath(*parts)


def upload_target(root: Path, relative: PurePosixPath) -> Path:
    """A path under ``root`` for ``relative`` where nothing is yet: each folder the first of
    its name (or name-2...) that is a folder or free, the file the first free name. Folders on
    the way are made."""
    folder = root
    for part in relative.parts[:-1]:
        name = next(
            candidate
            for candidate in _candidates(part)
            if not os.path.lexists(folder / candidate) or _is_real_dir(folder / candidate)
        )
        folder = folder / name
        folder.mkdir(exist_ok=True)
    name = next(
        candidate
        for candidate in _candidates(relative.parts[-1])
        if not os.path.lexists(folder / candidate)
    )
    return folder / name


def folder_expansion(root: Path) -> Expansion:
    """What a batch folder's files expand to. Kept in a ledger beside the folder
    (``folder_expansion_record``), so that each of a folder upload's many small requests
    (25 files each from the browser) does not read every file stored before it; a folder
    without a ledger is walked once: zips by their directories, other files by size."""
    try:
        counts = json.loads(_ledger(root).read_text())
        return Expansion(int(counts["expanded"]), int(counts["stored"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    total = Expansion()
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total = total + file_expansion(path)
    return total


def folder_expansion_record(root: Path, expansion: Expansion) -> None:
    """Keep ``expansion`` as the folder's total (its writer holds the batch's lock)."""
    ledger = _ledger(root)
    draft = ledger.with_name(f"{ledger.name}.{os.getpid()}")
    draft.write_text(json.dumps({"expanded": expansion.expanded, "stored": expansion.stored}))
    os.replace(draft, ledger)


def folder_remove(root: Path) -> None:
    """A batch's uploads and their ledger."""
    shutil.rmtree(root, ignore_errors=True)
    _ledger(root).unlink(missing_ok=True)


def _ledger(root: Path) -> Path:
    # Beside the folder, not in it: everything in the folder is imported.
    return root.with_name(f"{root.name}.expansion.json")


def file_expansion(path: Path) -> Expansion:
    size = path.stat().st_size
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return archive_expansion(zip_members(archive), size)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        pass
    return Expansion(size, size)


def expansion_limits(*, batch: bool) -> ExpansionLimits:
    """The installation's limits (settings ``IMPORT_*``); ``batch=False`` drops the total."""
    from django.conf import settings

    return ExpansionLimits(
        max_file_bytes=settings.IMPORT_MAX_FILE_BYTES,
        max_ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
        max_total_bytes=settings.IMPORT_MAX_BATCH_BYTES if batch else None,
    )


def upload_room(root: Path, limits: ExpansionLimits) -> int | None:
    """How many bytes a request may still send into the batch folder ``root`` (None: no
    limit): what the batch may still expand to, and a little for zip headers."""
    if limits.max_total_bytes is None:
        return None
    return max(limits.max_total_bytes - folder_expansion(root).expanded, 0) + QUOTA_SLACK_BYTES


class UploadQuota(FileUploadHandler):
    """Stops a multipart body as soon as its files pass ``room()`` bytes, before they are all
    written to the server's temporary files: a body that large is refused anyway. ``room`` is
    asked once, when the first file's bytes arrive (None: no limit)."""

    def __init__(self, request=None, *, room: Callable[[], int | None]) -> None:
        super().__init__(request)
        self.room = room
        self.limit: int | None = None
        self.received = 0
        self.asked = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if not self.asked:
            self.limit, self.asked = self.room(), True
        self.received += len(raw_data)
        if self.limit is not None and self.received > self.limit:
            raise MultiPartParserError(
                f"the files pass the {format_bytes(self.limit)} this import can still take; "
                "nothing of this upload was stored"
            )
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _component(raw: str) -> str:
    # Format characters (zero-width, bidirectional overrides) are invisible: dropped, not shown.
    visible = (char for char in raw if unicodedata.category(char) != "Cf")
    cleaned = "".join(
        "_" if unicodedata.category(char) in REPLACED_CATEGORIES else char for char in visible
    )
    cleaned = " ".join(cleaned.split())  # any run of white space is one space, none at the ends
    return _fit(cleaned, MAX_NAME_BYTES)


def _candidates(name: str):
    yield name
    stem, extension = _split_extension(name)
    for number in itertools.count(2):
        suffix = f"-{number}{extension}"
        yield _fit_bytes(stem, MAX_NAME_BYTES - len(suffix.encode())) + suffix


def _fit(name: str, limit: int) -> str:
    """``name`` cut to ``limit`` UTF-8 bytes on a character boundary, its extension kept."""
    if len(name.encode()) <= limit:
        return name
    stem, extension = _split_extension(name)
    return _fit_bytes(stem, limit - len(extension.encode())) + extension


def _fit_bytes(text: str, limit: int) -> str:
    return text.encode()[: max(limit, 0)].decode("utf-8", "ignore")


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if (
        dot
        and stem
        and 0 < len(extension) <= MAX_EXTENSION_CHARS
        and extension.isascii()
        and extension.isalnum()
        and not extension.isdigit()
    ):
        return stem, f".{extension}"
    return name, ""


def _is_real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()

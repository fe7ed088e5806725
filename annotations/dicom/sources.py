"""Where DICOM files come from: plain files, folders (recursively) and zip archives.

Every file found becomes a ``Source``: the name the user will see in the report and a way to
read its bytes. Zip members are read lazily, so a large archive is never unpacked to disk.
"""

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Files that are never DICOM and would only clutter the report of a folder import.
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
# A CT slice is well under a megabyte; a file far beyond this is no slice, and reading it
# whole (a zip member is decompressed into memory) could exhaust the worker's memory.
MAX_FILE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One file to import. ``label`` is the path as the user knows it (zip members: a/b.zip!x)."""

    label: str
    path: Path
    member: str | None = None

    def open(self) -> IO[bytes]:
        if self.member is None:
            return open(self.path, "rb")
        # A ZipFile object per read keeps Sources independent and picklable.
        archive = zipfile.ZipFile(self.path)
        handle = archive.open(self.member)
        return _ClosingMember(handle, archive)

    def read_bytes(self) -> bytes:
        with self.open() as handle:
            return handle.read()


class _ClosingMember:
    """A zip member that closes its archive with it."""

    def __init__(self, handle: IO[bytes], archive: zipfile.ZipFile) -> None:
        self._handle = handle
        self._archive = archive

    def read(self, size: int = -1) -> bytes:
        return self._handle.read(size)

    def __enter__(self) -> "_ClosingMember":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._handle.close()
        self._archive.close()


@dataclass(frozen=True)
class SourceProblem:
    label: str
    reason: str


def iter_sources(
    paths: list[Path | str], *, base: Path | None = None
) -> Iterator[Source | SourceProblem]:
    """Yield every file under ``paths`` as a Source, or a SourceProblem for what cannot be read.

    ``base``, when given, makes labels relative to it (uploads are reported by the names the
    browser sent, not by where the server keeps them).
    """
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            yield SourceProblem(_label(path, base), "path does not exist")
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if name not in IGNORED_NAMES:
                        yield from _file_sources(Path(root) / name, base)
        else:
            yield from _file_sources(path, base)


def _file_sources(path: Path, base: Path | None) -> Iterator[Source | SourceProblem]:
    label = _label(path, base)
    if not zipfile.is_zipfile(path):
        if path.stat().st_size > MAX_FILE_BYTES:
            yield SourceProblem(label, _too_large(path.stat().st_size))
        else:
            yield Source(label=label, path=path)
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        yield SourceProblem(label, f"unreadable zip archive ({type(exc).__name__})")
        return
    for info in sorted(members, key=lambda item: item.filename):
        name = info.filename
        if Path(name).name in IGNORED_NAMES or name.startswith("__MACOSX/"):
            continue
        if info.flag_bits & 0x1:
            yield SourceProblem(f"{label}!{name}", "encrypted zip member")
        elif name.lower().endswith(".zip"):
            yield SourceProblem(f"{label}!{name}", "nested zip archive: unpack it first")
        elif info.file_size > MAX_FILE_BYTES:
            yield SourceProblem(f"{label}!{name}", _too_large(info.file_size))
        else:
            yield Source(label=f"{label}!{name}", path=path, member=name)


def _too_large(size: int) -> str:
    return f"file too large for a CT slice ({size // (1024 * 1024)} MB)"


def _label(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return str(path)

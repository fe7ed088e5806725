"""Where DICOM files come from: plain files, folders (recursively) and zip archives.

Every file found becomes a ``Source``: the name the user will see in the report and a way to
read its bytes. Zip members are read lazily, so a large archive is never unpacked to disk. What
an archive or a file may expand to (``archives.ExpansionLimits``) is judged from sizes alone,
before anything is read or decompressed: a file or member beyond a limit becomes a
``SourceProblem``, as does an archive whose ratio is a zip bomb's or a file that would take the
import past its total.
"""

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from annotations.dicom.archives import (
    BoundedReader,
    Expansion,
    ExpansionLimits,
    archive_expansion,
    deflated_problem,
    file_size_problem,
    member_problem,
    ratio_problem,
    total_problem,
    zip_members,
)
from annotations.dicom.errors import RejectedFile

# Files that are never DICOM and would only clutter the report of a folder import.
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Source:
    """One file to import. ``label`` is the path as the user knows it (zip members: a/b.zip!x);
    ``member_bytes`` is a member's size as its header declared it, all that is ever read."""

    label: str
    path: Path
    member: str | None = None
    member_bytes: int = 0

    def open(self) -> IO[bytes]:
        if self.member is None:
            return open(self.path, "rb")
        # A ZipFile object per read keeps Sources independent and picklable.
        archive = zipfile.ZipFile(self.path)
        handle = BoundedReader(archive.open(self.member), self.member_bytes)
        return _ClosingMember(handle, archive)

    def read_bytes(self) -> bytes:
        with self.open() as handle:
            return handle.read()


class _ClosingMember:
    """A zip member that closes its archive with it."""

    def __init__(self, handle: BoundedReader, archive: zipfile.ZipFile) -> None:
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
    paths: list[Path | str],
    *,
    base: Path | None = None,
    limits: ExpansionLimits | None = None,
) -> Iterator[Source | SourceProblem]:
    """Yield every file under ``paths`` as a Source, or a SourceProblem for what cannot be read.

    ``base``, when given, makes labels relative to it (uploads are reported by the names the
    browser sent, not by where the server keeps them). ``limits`` default to
    ``ExpansionLimits()``; a file that would take the whole past ``max_total_bytes`` is refused
    (and so is every one after it that would).
    """
    walk = _Walk(limits or ExpansionLimits(), base)
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            yield SourceProblem(_label(path, base), "path does not exist")
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if name not in IGNORED_NAMES:
                        yield from walk.file_sources(Path(root) / name)
        else:
            yield from walk.file_sources(path)


class _Walk:
    """The limits and the running total of one walk over the import's paths."""

    def __init__(self, limits: ExpansionLimits, base: Path | None) -> None:
        self.limits = limits
        self.base = base
        self.total = Expansion()

    def file_sources(self, path: Path) -> Iterator[Source | SourceProblem]:
        label = _label(path, self.base)
        size = path.stat().st_size
        if not zipfile.is_zipfile(path):
            expansion = Expansion(size, size)
            problem = file_size_problem(size, self.limits) or self._over_total(expansion)
            if problem is None:
                with open(path, "rb") as handle:
                    problem = deflated_problem(handle, size, self.limits)
            yield SourceProblem(label, problem) if problem else Source(label=label, path=path)
            return
        try:
            archive = zipfile.ZipFile(path)
            members = zip_members(archive)
        except (zipfile.BadZipFile, OSError) as exc:
            yield SourceProblem(label, f"unreadable zip archive ({type(exc).__name__})")
            return
        with archive:  # open once for every member's check
            expansion = archive_expansion(members, size)
            problem = ratio_problem("the zip archive", expansion, self.limits)
            problem = problem or self._over_total(expansion)
            if problem:
                yield SourceProblem(label, f"zip archive refused, nothing read: {problem}")
                return
            yield from self._members(archive, path, label, members)

    def _members(
        self, archive: zipfile.ZipFile, path: Path, label: str, members: list[zipfile.ZipInfo]
    ) -> Iterator[Source | SourceProblem]:
        for info in sorted(members, key=lambda item: item.filename):
            name = info.filename
            if Path(name).name in IGNORED_NAMES or name.startswith("__MACOSX/"):
                continue
            problem = member_problem(info, self.limits)
            if info.flag_bits & 0x1:
                yield SourceProblem(f"{label}!{name}", "encrypted zip member")
            elif name.lower().endswith(".zip"):
                yield SourceProblem(f"{label}!{name}", "nested zip archive: unpack it first")
            elif problem:
                yield SourceProblem(f"{label}!{name}", problem)
            else:
                source = Source(
                    label=f"{label}!{name}", path=path, member=name, member_bytes=info.file_size
                )
                problem = self._deflated_member(archive, info)
                yield SourceProblem(source.label, problem) if problem else source

    def _deflated_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
        try:
            with archive.open(info) as handle:
                reader = BoundedReader(handle, info.file_size)
                return deflated_problem(reader, info.file_size, self.limits)
        except RejectedFile as exc:
            return exc.reason
        except Exception as exc:  # a compression zipfile lacks, a broken local header
            return f"unreadable zip member ({type(exc).__name__})"

    def _over_total(self, expansion: Expansion) -> str | None:
        """Count a file or archive into the walk's total; why not, if it would pass a limit."""
        problem = total_problem(self.total + expansion, self.limits)
        if problem is None:
            self.total = self.total + expansion
        return problem


def _label(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return str(path)

"""Importing CT series into the study: de-identify, order, store, record.

The import is two passes. The first reads every file's header (pixel data deferred), refuses
what is not an axial CT slice and groups the rest by series. The second takes one series at a
time: checks its geometry, reads each file whole, de-identifies it, writes it to storage and
records the scan and its slices in one transaction. A series lands whole or not at all; a
refused file or series never stops the others.

Faults: before a series' first file is written, its folder is named on the batch
(``report["storing"]``), so the files of a series whose worker was killed before it was
recorded can be found and removed (``import_leftovers_remove``: when the batch is rolled back,
and when another attempt starts). A full disk or a database that went away mid-series removes
what the series wrote and raises ``RetriableError``: the jobs framework tries the batch again
or fails it. A cancel is read between files in the first pass and between series in the second.
"""

import errno
import hashlib
import logging
import math
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from pydicom import config as pydicom_config
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

from annotations.dicom.archives import ExpansionLimits
from annotations.dicom.deid import Deidentifier, DeidResult, burned_in_annotation
from annotations.dicom.errors import GeometryError, RejectedFile
from annotations.dicom.instances import (
    NATIVE_LITTLE_ENDIAN,
    InstanceHeader,
    read_full,
    read_header,
)
from annotations.dicom.link import center_link_key, series_link
from annotations.dicom.series import OrderedSeries, order_series
from annotations.dicom.sources import Source, SourceProblem, iter_sources
from annotations.dicom.writer import part10_bytes
from annotations.models import (
    Center,
    ImportBatch,
    Patient,
    QuarantinedSeries,
    Scan,
    Slice,
)
from ichlabel.jobs import JobLost, RetriableError, database_gone, held

logger = logging.getLogger(__name__)

# Vendors write values that bend the standard (dates with dots, long strings); pydicom would
# warn for each and quote the value, which may be PHI. The importer checks what it needs itself.
# Set here, where files are read, and not at start-up: importing pydicom takes most of a second.
pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE

# Parsed headers kept from the first pass for the second (~20 kB each without pixel data):
# beyond this many, files are parsed again instead, so memory stays bounded on any batch.
MAX_KEPT_HEADERS = 5000


@dataclass
class ImportReport:
    """The per-file account of one import; ``as_dict`` is the ``--json`` output."""

    imported_scans: int = 0
    imported_slices: int = 0
    skipped_scans: int = 0
    skipped_slices: int = 0
    quarantined: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scans: list[dict] = field(default_factory=list)
    canceled: bool = False
    duration_s: float = 0.0

    def reject(self, label: str, reason: str) -> None:
        self.rejected.append({"path": label, "reason": reason})

    def as_dict(self) -> dict:
        return asdict(self)


ProgressCallback = Callable[[int, int], None]


def scan_import(
    *,
    paths: Iterable[Path | str],
    center: Center,
    split: str | None = None,
    batch: ImportBatch,
    base: Path | None = None,
    on_progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    accept_burned_in: bool = False,
    limits: ExpansionLimits | None = None,
) -> ImportReport:
    """Import every CT series found under ``paths`` into ``center``; return the report.

    ``accept_burned_in`` is for series a coordinator reviewed in quarantine and released.
    ``limits`` bound what files and archives may expand to (``annotations.dicom.archives``).
    """
    run = _ImportRun(
        center=center,
        split=split or center.split,
        batch=batch,
        accept_burned_in=accept_burned_in,
        on_progress=on_progress or (lambda done, total: None),
        should_cancel=should_cancel or (lambda: False),
    )
    if split and split != center.split:
        run.report.warnings.append(
            f"split {split!r} differs from center {center.name}'s split {center.split!r}; "
            f"the imported scans take {split!r}"
        )
    started = time.perf_counter()
    try:
        # An earlier attempt at this batch may have died with a series half written.
        import_leftovers_remove(batch)
        series = run.read_headers(iter_sources(list(paths), base=base, limits=limits))
        while series and not run.canceled():
            run.import_series(series.pop(0))  # popped: its parsed headers are freed when done
    except Exception as error:
        if database_gone(error):  # not the files' fault: tried again once the database is back
            raise RetriableError("the database was unavailable") from error
        raise
    run.report.duration_s = round(time.perf_counter() - started, 3)
    logger.info(
        "import finished: batch=%s imported_scans=%d imported_slices=%d rejected=%d "
        "quarantined=%d skipped_slices=%d",
        batch.pk,
        run.report.imported_scans,
        run.report.imported_slices,
        len(run.report.rejected),
        len(run.report.quarantined),
        run.report.skipped_slices,
    )
    return run.report


class _ImportRun:
    """The state of one import: the report, progress and the de-identifier."""

    def __init__(
        self, *, center, split, batch, accept_burned_in, on_progress, should_cancel
    ) -> None:
        self.center = center
        self.accept_burned_in = accept_burned_in
        self.split = split
        self.batch = batch
        self.report = ImportReport()
        self.deidentifier = Deidentifier(settings.DEID_SECRET)
        self.link_key = center_link_key(settings.DEID_SECRET, center.name)
        self.on_progress = on_progress
        self.should_cancel = should_cancel
        self.total = 0
        self.done = 0

    def canceled(self) -> bool:
        """Whether a cancel was asked (recorded in the report the first time it is seen)."""
        if not self.report.canceled and self.should_cancel():
            self.report.canceled = True
            self.report.warnings.append("import canceled: the remaining series were not imported")
        return self.report.canceled

    def advance(self, count: int = 1) -> None:
        self.done += count
        self.on_progress(self.done, self.total)

    # -- first pass ---------------------------------------------------------------------

    def read_headers(self, found: Iterable[Source | SourceProblem]) -> list[list[InstanceHeader]]:
        items = list(found)
        self.total = len(items)
        by_series: dict[str, list[InstanceHeader]] = defaultdict(list)
        kept = 0
        for item in items:
            if self.canceled():
                return []  # nothing imported yet: a cancel during the first pass keeps nothing
            if isinstance(item, SourceProblem):
                self.report.reject(item.label, item.reason)
                self.advance()
                continue
            try:
                header = read_header(item)
            except RejectedFile as exc:
                self.report.reject(item.label, exc.reason)
                self.advance()
                continue
            except Exception as exc:  # a malformed value pydicom cannot convert
                self.report.reject(item.label, f"unreadable header ({type(exc).__name__})")
                self.advance()
                continue
            if header.dataset is not None:
                kept += 1
                if kept > MAX_KEPT_HEADERS:
                    header = replace(header, dataset=None)
            by_series[header.series_instance_uid].append(header)
        return list(by_series.values())

    # -- second pass --------------------------------------------------------------------

    def import_series(self, headers: list[InstanceHeader]) -> None:
        conflict = _conflicting_duplicates(headers)
        if conflict:
            self._reject_series(headers, f"series refused: {conflict}")
            return
        headers = self._drop_duplicate_instances(headers)
        if not self.accept_burned_in and any(header.burned_in for header in headers):
            self._quarantine(
                headers, "burned-in annotation or screen capture: the pixels may show patient data"
            )
            return
        try:
            ordered = order_series([header.geometry for header in headers])
        except GeometryError as exc:
            self._reject_series(headers, f"series refused: {exc}")
            return
        by_key = {header.geometry.key: header for header in headers}
        headers = [by_key[key] for key in ordered.keys]
        series_uid = self.deidentifier.uid(headers[0].series_instance_uid)
        existing = (
            Scan.objects.select_related("center").filter(series_instance_uid=series_uid).first()
        )
        if existing is not None:
            self._skip_existing(existing, headers)
            return
        self._store_series(headers, ordered, series_uid)

    def _drop_duplicate_instances(self, headers: list[InstanceHeader]) -> list[InstanceHeader]:
        seen: dict[str, str] = {}
        kept = []
        for header in headers:
            first = seen.get(header.sop_instance_uid)
            if first is None:
                seen[header.sop_instance_uid] = header.source.label
                kept.append(header)
                continue
            self.report.skipped_slices += 1
            self.report.warnings.append(
                f"{header.source.label}: same SOP instance as {first}; imported once"
            )
            self.advance()
        return kept

    def _skip_existing(self, scan: Scan, headers: list[InstanceHeader]) -> None:
        stored = set(scan.slices.values_list("sop_instance_uid", flat=True))
        new = [h for h in headers if self.deidentifier.uid(h.sop_instance_uid) not in stored]
        if scan.center_id != self.center.pk:
            self.report.warnings.append(
                f"scan {scan.pk} was imported before under center {scan.center.name}; "
                f"it stays there, not under {self.center.name}"
            )
        if not new:
            self.report.skipped_scans += 1
            self.report.skipped_slices += len(headers)
            self.report.scans.append(_scan_entry(scan, "skipped", []))
        else:
            for header in new:
                self.report.reject(
                    header.source.label,
                    f"series already imported as scan {scan.pk} without this slice; "
                    "a stored scan is never changed: delete it to import the series again",
                )
            self.report.skipped_slices += len(headers) - len(new)
        self.advance(len(headers))

    def _reject_series(
        self, headers: list[InstanceHeader], reason: str, culprit: tuple[str, str] | None = None
    ) -> None:
        """Refuse every file of a series; ``culprit`` (label, reason) is the file that caused it."""
        for header in headers:
            if culprit and header.source.label == culprit[0]:
                self.report.reject(culprit[0], culprit[1])
            else:
                self.report.reject(header.source.label, reason)
        self.advance(len(headers))

    def _refuse_conflict(self, headers: list[InstanceHeader], series_uid: str) -> None:
        """A unique UID already stored: the same series imported at the same time, or a slice
        that another series holds."""
        scan = Scan.objects.filter(series_instance_uid=series_uid).first()
        if scan is not None:
            self.report.skipped_scans += 1
            self.report.skipped_slices += len(headers)
            self.report.warnings.append(f"scan {scan.pk} was imported at the same time elsewhere")
            self.advance(len(headers))
            return
        self._reject_series(
            headers,
            "series refused: one of its SOP instance UIDs is already stored in another scan",
        )

    def _quarantine(self, headers: list[InstanceHeader], reason: str) -> None:
        """Keep the original files aside for a coordinator to review; import nothing."""
        directory = Path(settings.QUARANTINE_DIR) / uuid.uuid4().hex
        directory.mkdir(parents=True)
        for position, header in enumerate(headers):
            (directory / f"{position:05d}.dcm").write_bytes(header.source.read_bytes())
        QuarantinedSeries.objects.create(
            batch=self.batch,
            center=self.center,
            split=self.split,
            reason=reason,
            file_count=len(headers),
            directory=directory.name,
        )
        for header in headers:
            self.report.quarantined.append({"path": header.source.label, "reason": reason})
        self.advance(len(headers))

    def _store_series(
        self, headers: list[InstanceHeader], ordered: OrderedSeries, series_uid: str
    ) -> None:
        written: list[str] = []
        try:
            files = self._write_files(headers, ordered, series_uid, written)
            link = series_link(self.link_key, headers[0].series_instance_uid)
            scan = self._record(files, ordered, series_uid, link)
        except _SeriesRefused as exc:
            _delete_files(written)
            self._reject_series(headers, exc.reason, culprit=exc.culprit)
            return
        except IntegrityError:
            _delete_files(written)
            self._refuse_conflict(headers, series_uid)
            return
        except (JobLost, RetriableError):
            # The batch was failed or taken over (its progress callback raised JobLost), or
            # storage failed in a way that may pass: the jobs framework decides what follows.
            _delete_files(written)
            raise
        except Exception as exc:  # one odd series must not fail the batch
            _delete_files(written)
            if database_gone(exc):  # but a database that went away is nobody's series' fault
                raise RetriableError("the database was unavailable") from exc
            logger.exception("series import failed: batch=%s", self.batch.pk)
            self._reject_series(headers, f"series refused: unexpected {type(exc).__name__}")
            return
        except BaseException:
            _delete_files(written)
            raise
        self.report.imported_scans += 1
        self.report.imported_slices += len(files.slices)
        findings = [finding.message for finding in ordered.findings]
        self.report.scans.append(_scan_entry(scan, "imported", findings))
        self.advance(len(headers))

    def _write_files(
        self,
        headers: list[InstanceHeader],
        ordered: OrderedSeries,
        series_uid: str,
        written: list[str],
    ) -> "_SeriesFiles":
        files: _SeriesFiles | None = None
        # A folder of its own per import of a series: two imports of one series at the same
        # time never touch each other's files, and the one that loses removes only its own.
        folder = f"dicom/{series_uid}/{uuid.uuid4().hex[:12]}"
        _mark_storing(self.batch, folder)
        for index, header in enumerate(headers):
            label = header.source.label
            try:
                ds = read_full(header)
            except RejectedFile as exc:
                raise _SeriesRefused(
                    f"series refused: {label} could not be read", (label, exc.reason)
                ) from exc
            if not self.accept_burned_in and burned_in_annotation(ds):
                raise _SeriesRefused("series refused: a slice declares burned-in annotation")
            # Keyed per center: the same MRN at two hospitals is two patients.
            result = self.deidentifier.deidentify(ds, issuer=self.center.name)
            if files is None:
                files = _SeriesFiles.first(ds, result)
            elif result.pseudonym != files.result.pseudonym:
                raise _SeriesRefused("series refused: its slices belong to different patients")
            try:
                rescale = _rescale(ds)
            except RejectedFile as exc:
                raise _SeriesRefused(
                    f"series refused: {label} has no usable rescale", (label, exc.reason)
                ) from exc
            content = _encode(ds)
            key = f"{folder}/{ds.SOPInstanceUID}.dcm"
            written.append(key)  # before the write: a write that fails half-way leaves a part
            _save(key, content)
            files.slices.append(
                _slice_row(ds, header, index, ordered.positions_mm[index], key, content, rescale)
            )
            self.on_progress(self.done + index, self.total)  # throttled; also the heartbeat
        assert files is not None
        return files

    def _record(
        self, files: "_SeriesFiles", ordered: OrderedSeries, series_uid: str, link: str
    ) -> Scan:
        first = files.slices[0]
        with transaction.atomic():
            patient, _ = Patient.objects.get_or_create(pseudonym=files.result.pseudonym)
            scan = Scan.objects.create(
                patient=patient,
                center=self.center,
                split=self.split,
                import_batch=self.batch,
                study_instance_uid=files.study_instance_uid,
                series_instance_uid=series_uid,
                source_link=link,
                series_description=files.result.series_description,
                manufacturer=files.manufacturer,
                acquisition_date=files.result.acquisition_date,
                age_band=files.result.age_band,
                sex=files.result.sex,
                slice_count=len(files.slices),
                rows=first.rows,
                columns=first.columns,
                slice_spacing_mm=ordered.spacing_mm,
                image_orientation_patient=list(files.orientation),
                flags=sorted({finding.code for finding in ordered.findings}),
                warnings=[finding.message for finding in ordered.findings],
            )
            for row in files.slices:
                row.scan = scan
            Slice.objects.bulk_create(files.slices)
        return scan


def _conflicting_duplicates(headers: list[InstanceHeader]) -> str:
    """Why the series cannot be trusted if two files share a SOP instance UID but differ."""
    seen: dict[str, InstanceHeader] = {}
    for header in headers:
        first = seen.setdefault(header.sop_instance_uid, header)
        if first is not header and first.geometry != replace(
            header.geometry, key=first.geometry.key
        ):
            return (
                f"{first.source.label} and {header.source.label} share a SOP instance UID "
                "but differ in geometry"
            )
    return ""


class _SeriesRefused(Exception):
    """A series is refused; ``culprit`` is the (label, reason) of the file that caused it."""

    def __init__(self, reason: str, culprit: tuple[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.culprit = culprit


@dataclass
class _SeriesFiles:
    """What the second pass wrote for one series, and the scan-level values of its first file."""

    result: DeidResult
    study_instance_uid: str
    manufacturer: str
    orientation: tuple[float, ...]
    slices: list[Slice] = field(default_factory=list)

    @classmethod
    def first(cls, ds: Dataset, result: DeidResult) -> "_SeriesFiles":
        return cls(
            result=result,
            study_instance_uid=str(ds.StudyInstanceUID),
            manufacturer=str(ds.get("Manufacturer", "") or "")[:64],
            orientation=tuple(float(v) for v in ds.ImageOrientationPatient),
        )


def _encode(ds: Dataset) -> bytes:
    """The de-identified file's bytes, as explicit or implicit VR little endian."""
    syntax = ds.file_meta.TransferSyntaxUID
    if syntax == ExplicitVRBigEndian:
        ds = _as_little_endian(ds)
    elif syntax not in NATIVE_LITTLE_ENDIAN:
        # Compressed or deflated: stored decoded, which the viewer and the model both read.
        _set_pixels(ds, _native(ds.pixel_array))
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return part10_bytes(ds)


def _as_little_endian(ds: Dataset) -> Dataset:
    """A big-endian dataset re-encoded little endian (pydicom will not convert in place).

    The DICOM JSON model carries values independent of byte order, so a round trip through it
    rebuilds the dataset; the pixels are set again from the decoded array.
    """
    pixels = _native(ds.pixel_array)
    del ds.PixelData
    converted = Dataset.from_json(ds.to_json_dict())
    converted.file_meta = FileMetaDataset(ds.file_meta)
    converted.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    _set_pixels(converted, pixels, like=ds)
    return converted


def _set_pixels(ds: Dataset, pixels: np.ndarray, like: Dataset | None = None) -> None:
    """Uncompressed pixel data; the (already remapped) SOP instance UID is kept."""
    source = like if like is not None else ds
    ds.set_pixel_data(
        pixels,
        source.PhotometricInterpretation,
        int(source.BitsStored),
        generate_instance_uid=False,
    )


def _native(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(pixels.dtype.newbyteorder("="), copy=False)


def _save(key: str, content: bytes) -> None:
    try:
        stored = default_storage.save(key, ContentFile(content))
    except OSError as error:  # a full disk, a network share or bucket that failed: may pass
        reason = os.strerror(error.errno) if error.errno else type(error).__name__
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            reason += ": free space in the DICOM store and start the import again"
        raise RetriableError(f"storage refused a file ({reason})") from error
    if stored != key:
        default_storage.delete(stored)
        raise RuntimeError(f"storage kept {stored!r} instead of {key!r}")


def _mark_storing(batch: ImportBatch, folder: str) -> None:
    """Name on the batch the folder a series is about to be written to, so that files a
    killed worker left unrecorded can be found (``import_leftovers_remove``)."""
    if not held(batch).update(report={"storing": folder}):
        raise JobLost("the batch was failed or taken over while it ran")


def import_leftovers_remove(batch: ImportBatch) -> None:
    """Remove the files of the series the batch was writing when its worker stopped, unless a
    scan records them (the series was finished)."""
    row = ImportBatch.objects.filter(pk=batch.pk).values_list("report", flat=True).first()
    folder = (row or {}).get("storing") if isinstance(row, dict) else None
    if not folder:
        return
    series_uid = folder.split("/")[1]  # dicom/<series>/<import>: found through the scan's index
    finished = Slice.objects.filter(
        scan__series_instance_uid=series_uid, storage_key__startswith=f"{folder}/"
    )
    if finished.exists():
        return
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    _delete_files([f"{folder}/{name}" for name in names])
    logger.warning("batch %s: removed %d files of a series left unrecorded", batch.pk, len(names))


def _delete_files(keys: list[str]) -> None:
    for key in keys:
        try:
            default_storage.delete(key)
        except OSError:
            logger.exception("could not remove %s after a failed series import", key)
    folders = {key.rsplit("/", 1)[0] for key in keys}
    for folder in folders:
        for path in (folder, folder.rsplit("/", 1)[0]):  # the import's folder, the series'
            try:
                default_storage.delete(path)  # a folder: removed when empty (file storage)
            except OSError:
                break  # not empty: another import of the series keeps its files there


def _rescale(ds: Dataset) -> tuple[float, float]:
    """(slope, intercept) of the modality LUT; HU = stored x slope + intercept."""
    raw_slope, raw_intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    try:
        slope = 1.0 if raw_slope in (None, "") else float(raw_slope)
        intercept = 0.0 if raw_intercept in (None, "") else float(raw_intercept)
    except (TypeError, ValueError) as exc:
        raise RejectedFile("RescaleSlope or RescaleIntercept is not a number") from exc
    if not (math.isfinite(slope) and math.isfinite(intercept)) or slope == 0:
        raise RejectedFile("RescaleSlope must be a finite, non-zero number")
    return slope, intercept


def _slice_row(
    ds: Dataset,
    header: InstanceHeader,
    index: int,
    z_mm: float,
    key: str,
    content: bytes,
    rescale: tuple[float, float],
) -> Slice:
    geometry = header.geometry
    return Slice(
        position_index=index,
        sop_instance_uid=str(ds.SOPInstanceUID),
        instance_number=geometry.instance_number,
        z_position_mm=z_mm,
        image_position_patient=list(geometry.image_position or ()),
        slice_thickness_mm=geometry.slice_thickness,
        pixel_spacing_row_mm=geometry.pixel_spacing[0],
        pixel_spacing_column_mm=geometry.pixel_spacing[1],
        rows=geometry.rows,
        columns=geometry.columns,
        rescale_slope=rescale[0],
        rescale_intercept=rescale[1],
        storage_key=key,
        file_size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _scan_entry(scan: Scan, status: str, findings: list[str]) -> dict:
    return {
        "scan_id": scan.pk,
        "series_instance_uid": scan.series_instance_uid,
        "slices": scan.slice_count,
        "status": status,
        "findings": findings,
    }

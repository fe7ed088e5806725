"""DICOM Structured Reports of the ground truth: one Comprehensive 3D SR per scan holding a
TID 1500 Measurement Report, built with highdicom, and a zip of them for many scans.

Structure of each report (TID 1500 ``Imaging Measurement Report``):

- observation context: the observer is the study's ground-truth process (a device observer
  named after the version), since a majority of readers is no single person;
- procedure reported: LOINC 24725-4 "Head CT";
- one TID 1501 measurement group per positive slice: tracking identifier ``slice <index>``,
  finding type "Intracranial hemorrhage", the slice as source image, and qualitative
  evaluations ``<class> = Present | Absent`` (SNOMED CT 52101004 / 272519000) for any ICH
  and each subtype;
- one group for the scan (tracking identifier ``scan``, finding type "Intracranial
  hemorrhage", no source image) with the same six evaluations at scan level;
- evidence: every slice of the scan (de-identified Study, Series and SOP Instance UIDs).

Deterministic: the SR's Series and SOP Instance UIDs, device UID and tracking UIDs are derived
from the version's id and content hash and the scan's UIDs, and its dates are the version's
creation time in UTC, so one version always gives the same bytes.
"""

import datetime
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import highdicom as hd
from pydicom import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from annotations.dicom.deid import remap_uid
from annotations.exports.base import (
    ALL_SCANS,
    ExportFilters,
    byte_order,
    manifest_json,
    version_manifest,
)
from annotations.models import (
    SUBTYPES,
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    Scan,
    Slice,
)

# SNOMED CT concepts of the classes. "Intracranial hemorrhage (disorder)" is taken from
# pydicom's bundled DICOM code dictionary (codes.SCT.IntracranialHemorrhage, 1386000). The
# subtypes are not in pydicom's or highdicom's dictionaries; they are the SNOMED CT
# International concepts for each (fully specified names in the comments). 274100004,
# 21454007 and 35486000 are widely used in stroke and neuroradiology value sets;
# 274110009 and 68752002 should be checked against a SNOMED CT browser before the SRs
# feed a clinical system.
HEMORRHAGE_CODES: dict[str, Code] = {
    "any_ich": codes.SCT.IntracranialHemorrhage,
    # Cerebral hemorrhage (disorder): bleeding into the brain parenchyma.
    "iph": Code("274100004", "SCT", "Cerebral hemorrhage"),
    # Intraventricular hemorrhage (disorder).
    "ivh": Code("274110009", "SCT", "Intraventricular hemorrhage"),
    # Subarachnoid intracranial hemorrhage (disorder).
    "sah": Code("21454007", "SCT", "Subarachnoid intracranial hemorrhage"),
    # Subdural intracranial hemorrhage (disorder).
    "sdh": Code("35486000", "SCT", "Subdural intracranial hemorrhage"),
    # Extradural hemorrhage (disorder), i.e. epidural hemorrhage.
    "edh": Code("68752002", "SCT", "Extradural hemorrhage"),
}
HEAD_CT = codes.LN.HeadCT  # LOINC 24725-4 "Head CT", from pydicom's dictionary
SR_MANUFACTURER = "ICHLabel"
SR_SERIES_NUMBER = 9001
SCANS_PER_BATCH = 200


@dataclass(frozen=True)
class ScanTruth:
    """What one SR says: the scan, its slices in order, the positive slices' subtypes and the
    scan-level classes."""

    scan: Scan
    slices: Sequence[tuple[int, str]]  # (position index, SOP Instance UID)
    positive_slices: Sequence[tuple[int, str, dict[str, bool]]]
    scan_classes: dict[str, bool]


def _uid(version: GroundTruthVersion, *parts: str) -> str:
    """A UID under 2.25 derived from the version (id and content hash) and ``parts`` with the
    project's keyed UID remapping: stable across exports, distinct for every version."""
    return remap_uid(
        "\x00".join(["ground-truth-sr", str(version.pk), *parts]), version.content_sha256
    )


def _utc(version: GroundTruthVersion) -> datetime.datetime:
    return version.created_at.astimezone(datetime.UTC)


def _evidence(truth: ScanTruth) -> list[Dataset]:
    """The referenced CT instances as highdicom needs them: patient and study from the
    de-identified scan (the stored files carry the same pseudonym and UIDs)."""
    scan = truth.scan
    study_date = scan.acquisition_date.strftime("%Y%m%d") if scan.acquisition_date else ""
    datasets = []
    for _index, sop_uid in truth.slices:
        ds = Dataset()
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sop_uid
        ds.StudyInstanceUID = scan.study_instance_uid
        ds.SeriesInstanceUID = scan.series_instance_uid
        ds.Modality = "CT"
        ds.PatientID = scan.patient.pseudonym
        ds.PatientName = scan.patient.pseudonym
        ds.PatientBirthDate = ""
        ds.PatientSex = scan.sex or ""
        ds.StudyID = ""
        ds.AccessionNumber = ""
        ds.StudyDate = study_date
        ds.StudyTime = ""
        ds.ReferringPhysicianName = ""
        datasets.append(ds)
    return datasets


def _observation_context(version: GroundTruthVersion) -> hd.sr.ObservationContext:
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=_uid(version, "observer"),
            name=f"ICHLabel ground truth {version.name}"[:64],
            manufacturer_name=SR_MANUFACTURER,
        ),
    )
    return hd.sr.ObservationContext(observer_device_context=device)


def _presence(flags: dict[str, bool]) -> list[hd.sr.QualitativeEvaluation]:
    """``<class> = Present | Absent`` for any ICH and each subtype. The class is the concept
    name (not TID 1501's "Finding", which the group's finding type already uses)."""
    return [
        hd.sr.QualitativeEvaluation(
            name=HEMORRHAGE_CODES[name],
            value=codes.SCT.Present if flags[name] else codes.SCT.Absent,
        )
        for name in ("any_ich", *SUBTYPES)
    ]


def _slice_group(
    version: GroundTruthVersion, index: int, sop_uid: str, flags: dict[str, bool]
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=_uid(version, "slice", sop_uid), identifier=f"slice {index}"
        ),
        finding_type=HEMORRHAGE_CODES["any_ich"],
        source_images=[hd.sr.SourceImageForMeasurementGroup(CTImageStorage, sop_uid)],
        qualitative_evaluations=_presence({"any_ich": True, **flags}),
    )


def _scan_group(
    version: GroundTruthVersion, truth: ScanTruth
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=_uid(version, "scan", truth.scan.series_instance_uid), identifier="scan"
        ),
        finding_type=HEMORRHAGE_CODES["any_ich"],
        qualitative_evaluations=_presence(truth.scan_classes),
    )


def build_scan_sr(*, version: GroundTruthVersion, truth: ScanTruth) -> hd.sr.Comprehensive3DSR:
    """The SR of one scan's ground truth in ``version`` (see the module docstring)."""
    series_uid = truth.scan.series_instance_uid
    groups = [
        _slice_group(version, index, sop_uid, flags)
        for index, sop_uid, flags in truth.positive_slices
    ]
    groups.append(_scan_group(version, truth))
    report = hd.sr.MeasurementReport(
        observation_context=_observation_context(version),
        procedure_reported=HEAD_CT,
        imaging_measurements=groups,
    )
    created = _utc(version)
    sr = hd.sr.Comprehensive3DSR(
        evidence=_evidence(truth),
        content=report,
        series_instance_uid=_uid(version, "series", series_uid),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=_uid(version, "instance", series_uid),
        instance_number=1,
        manufacturer=SR_MANUFACTURER,
        is_complete=True,
        is_final=True,
        series_description=f"Ground truth {version.name}"[:64],
        content_date=created.date(),
        content_time=created.time().replace(tzinfo=None),
        series_date=created.date(),
        series_time=created.time().replace(tzinfo=None),
    )
    # highdicom stamps the instance and its own contribution with the current time; the
    # version's time keeps the file the same on every export.
    sr.InstanceCreationDate = created.strftime("%Y%m%d")
    sr.InstanceCreationTime = created.strftime("%H%M%S.%f")
    for equipment in sr.get("ContributingEquipmentSequence", []):
        equipment.ContributionDateTime = created.strftime("%Y%m%d%H%M%S.%f")
    return sr


def sr_bytes(sr: hd.sr.Comprehensive3DSR) -> bytes:
    """The SR as a DICOM Part 10 file (preamble, file meta, explicit VR little endian)."""
    sr.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = io.BytesIO()
    sr.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def iter_scan_truths(
    *, version: GroundTruthVersion, filters: ExportFilters = ALL_SCANS
) -> Iterator[ScanTruth]:
    """The version's scans in series-UID order, loaded a batch of scans at a time (three
    queries per batch, none per scan)."""
    labels = (
        GroundTruthScanLabel.objects.filter(version=version, **filters.frozen_lookups())
        .select_related("scan__patient")
        .order_by(byte_order("scan__series_instance_uid"))
    )
    batch: list[GroundTruthScanLabel] = []
    for label in labels.iterator(chunk_size=SCANS_PER_BATCH):
        batch.append(label)
        if len(batch) == SCANS_PER_BATCH:
            yield from _load_batch(version, batch)
            batch = []
    if batch:
        yield from _load_batch(version, batch)


def _load_batch(
    version: GroundTruthVersion, labels: list[GroundTruthScanLabel]
) -> Iterator[ScanTruth]:
    scan_ids = [label.scan_id for label in labels]
    slices: dict[int, list[tuple[int, str]]] = {scan_id: [] for scan_id in scan_ids}
    for scan_id, index, sop_uid in (
        Slice.objects.filter(scan_id__in=scan_ids)
        .order_by("scan_id", "position_index")
        .values_list("scan_id", "position_index", "sop_instance_uid")
    ):
        slices[scan_id].append((index, sop_uid))
    positives: dict[int, list] = {scan_id: [] for scan_id in scan_ids}
    for scan_id, index, sop_uid, *flags in (
        GroundTruthSliceLabel.objects.filter(version=version, scan_id__in=scan_ids, any_ich=True)
        .order_by("scan_id", "slice__position_index")
        .values_list("scan_id", "slice__position_index", "slice__sop_instance_uid", *SUBTYPES)
    ):
        positives[scan_id].append((index, sop_uid, dict(zip(SUBTYPES, flags, strict=True))))
    for label in labels:
        yield ScanTruth(
            scan=label.scan,
            slices=slices[label.scan_id],
            positive_slices=positives[label.scan_id],
            scan_classes={name: getattr(label, name) for name in ("any_ich", *SUBTYPES)},
        )


class _ChunkSink:
    """A write-only file for ``zipfile`` that hands on what was written since the last
    ``take``: the zip streams as it is built. It tells its position, so zipfile writes
    each member's sizes after its data instead of seeking back."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._position = 0

    def write(self, data: bytes) -> int:
        self._buffer.extend(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


def _member(name: str, when: datetime.datetime) -> zipfile.ZipInfo:
    """A zip entry with fixed metadata (time, permissions, system): the same bytes on every
    machine."""
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info


def iter_sr_zip(
    *,
    version: GroundTruthVersion,
    filters: ExportFilters = ALL_SCANS,
    on_scan: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """A zip of one SR per scan (``sr/<series UID>.dcm``) and ``manifest.json`` last, which
    names the version (id, name, content hash), the filters and each file with its SHA-256.
    ``on_scan(done)`` is called after each scan's report (a job's progress and cancel)."""
    when = max(_utc(version), datetime.datetime(1980, 1, 1, tzinfo=datetime.UTC))
    sink = _ChunkSink()
    files = []
    with zipfile.ZipFile(sink, "w") as archive:
        for truth in iter_scan_truths(version=version, filters=filters):
            sr = build_scan_sr(version=version, truth=truth)
            data = sr_bytes(sr)
            name = f"sr/{truth.scan.series_instance_uid}.dcm"
            archive.writestr(_member(name, when), data)
            files.append(
                {
                    "path": name,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "sop_instance_uid": str(sr.SOPInstanceUID),
                    "patient_pseudonym": truth.scan.patient.pseudonym,
                    "series_instance_uid": truth.scan.series_instance_uid,
                    "positive_slices": len(truth.positive_slices),
                }
            )
            yield sink.take()
            if on_scan is not None:
                on_scan(len(files))
        manifest = {
            "format": "DICOM Comprehensive 3D SR, TID 1500 Measurement Report",
            "ground_truth_version": version_manifest(version),
            "filters": filters.as_dict(),
            "files": files,
        }
        archive.writestr(_member("manifest.json", when), manifest_json(manifest))
    yield sink.take()

"""A scored series as DICOM objects for the PACS, following IHE AI Results (AIR) as far as
highdicom builds it: a Comprehensive 3D SR with the decision and scores, and secondary captures
of the key slices.

The SR (``comprehensive_3d_sr``) is a TID 1500 Measurement Report:

- the algorithm is the observer: a device observer (TID 1004) named after the model and build,
  manufacturer ICHLabel, model name the model's; and contributing equipment (Processing
  Equipment, DCM 109102) with the model's name and the build number as software version,
  beside the scanner's acquisition equipment and highdicom's own entry;
- ``VerificationFlag`` UNVERIFIED (no person has checked it), ``CompletionFlag`` COMPLETE,
  ``PreliminaryFlag`` FINAL (the algorithm will not change it);
- procedure reported: LOINC 24725-4 "Head CT";
- one measurement group (TID 1501) per class, in the build's order: finding type the class's
  SNOMED CT concept; algorithm identification (TID 4019: the model's name, the build number as
  version, the threshold as parameter); the scan score (private code, see below) and the
  threshold (DCM 122411 "Threshold Value"), both unitless (UCUM "1"); the qualitative
  evaluation ``<class> = Present | Absent`` (SNOMED CT 52101004 / 272519000), the convention
  of the app's ground-truth SR (``annotations/exports/sr.py``); and, for a positive class, its
  key slice as the group's source image with that slice's score, referencing the slice;
- evidence: every slice of the series, so the PACS files the SR with the study (Patient and
  Study attributes are copied from the source).

Codes. The classes use the app's SNOMED CT concepts (``annotations/exports/sr.py``, which the
node cannot import: it needs Django): intracranial hemorrhage 1386000 (from the DICOM code
tables), cerebral hemorrhage 274100004 (IPH), intraventricular hemorrhage 274110009,
subarachnoid 21454007, subdural 35486000, extradural 68752002 (EDH); as the app notes there,
274110009 and 68752002 should be checked in a SNOMED CT browser before the SRs feed a clinical
system. A class the study does not define would get a private code. DICOM has no concept for
an uncalibrated classifier score, so the scan score and the key slice's score use the private
coding scheme ``99ICHLABEL`` (declared in the SR's Coding Scheme Identification Sequence).

The captures (``key_slice_captures``): one Secondary Capture image per distinct key slice, the
CT slice in the brain window (WL 40 / WW 80 HU, the reading view's preset) as 8-bit MONOCHROME2,
in a series of their own, naming the classes and scores they illustrate. The saliency captures
(``saliency_captures``): per positive class, its key slice with the node's occlusion map
(``saliency.py``) laid over it in colour (RGB), in another series of their own.

UIDs are derived from the source series, its instances and the build, so running the same
series on the same build again gives the same SR and captures (the same instances to the PACS,
which keeps or replaces them by its own policy, never second copies), while new instances or
another build give new ones.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import UID

from annotations.vocabulary import CLASS_DESCRIPTIONS, CLASS_NAMES, WINDOW_PRESETS
from ichlabel_edge.runner import Scored
from ichlabel_edge.saliency import KeySliceMap
from modelops.ml.preprocess import window

MANUFACTURER = "ICHLabel"
SR_SERIES_NUMBER = 9101
CAPTURE_SERIES_NUMBER = 9102
SALIENCY_SERIES_NUMBER = 9103
MAP_FLOOR = 0.2  # weights below this are left undrawn: the anatomy matters more than noise
MAP_OPACITY = 0.5
PRIVATE_SCHEME = "99ICHLABEL"
CODING_SCHEME = hd.coding_schemes.CodingSchemeIdentificationItem(
    designator=PRIVATE_SCHEME,
    name="ICHLabel codes",
    responsible_organization="ICHLabel",
)

CLASS_CODES: dict[str, Code] = {
    "any": codes.SCT.IntracranialHemorrhage,  # 1386000, Intracranial hemorrhage (disorder)
    "iph": Code("274100004", "SCT", "Cerebral hemorrhage"),
    "ivh": Code("274110009", "SCT", "Intraventricular hemorrhage"),
    "sah": Code("21454007", "SCT", "Subarachnoid intracranial hemorrhage"),
    "sdh": Code("35486000", "SCT", "Subdural intracranial hemorrhage"),
    "edh": Code("68752002", "SCT", "Extradural hemorrhage"),
}
SCAN_SCORE = Code("SCAN_SCORE", PRIVATE_SCHEME, "AI scan score")
SLICE_SCORE = Code("SLICE_SCORE", PRIVATE_SCHEME, "AI key slice score")
THRESHOLD = codes.DCM.ThresholdValue  # 122411
NO_UNITS = codes.UCUM.NoUnits  # "1"
HEAD_CT = codes.LN.HeadCT  # 24725-4
PRESENT, ABSENT = codes.SCT.Present, codes.SCT.Absent
SEXES = ("M", "F", "O")  # what highdicom accepts; another value is left out of a capture
BRAIN_WINDOW = next(
    (float(p["center"]), float(p["width"])) for p in WINDOW_PRESETS if p["name"] == "Brain"
)
# The namespace of the name-based UUIDs behind the result's UIDs (fixed: changing it changes
# every UID a rerun gives).
UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ichlabel/edge/results")
_LETTERS = (("R", "L"), ("A", "P"), ("F", "H"))  # LPS: -x, +x; -y, +y; -z, +z


def comprehensive_3d_sr(
    datasets: Sequence[pydicom.Dataset], scored: Scored, manifest: dict[str, Any]
) -> hd.sr.Comprehensive3DSR:
    """The SR of ``scored`` (the series ``datasets``, run with the build of ``manifest``)."""
    by_uid = _by_uid(datasets, scored)
    model, version = _model(manifest)
    algorithm = f"{model} build {version}"
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=_device_uid(manifest),
            name=algorithm[:64],
            manufacturer_name=MANUFACTURER,
            model_name=model[:64],
        ),
    )
    groups = [_class_group(scored, name, model, version, by_uid) for name in scored.classes]
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=device),
        procedure_reported=HEAD_CT,
        imaging_measurements=groups,
    )
    ordered = [by_uid[s.sop_instance_uid] for s in scored.slices]
    return hd.sr.Comprehensive3DSR(
        evidence=ordered,
        content=report,
        series_instance_uid=_uid(scored, "sr-series"),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=_uid(scored, "sr"),
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
        is_final=True,
        is_verified=False,
        series_description=f"ICH AI result (build {version})"[:64],
        contributing_equipment=[_equipment(model, version, "Scored the series")],
        coding_schemes=[CODING_SCHEME],
        manufacturer_model_name=model[:64],
        software_versions=str(version),
    )


def key_slice_captures(
    datasets: Sequence[pydicom.Dataset], scored: Scored, manifest: dict[str, Any]
) -> list[hd.sc.SCImage]:
    """A Secondary Capture of each distinct key slice in the brain window, in one new series;
    none for a series without a positive class."""
    by_uid = _by_uid(datasets, scored)
    model, version = _model(manifest)
    illustrated: dict[int, list[str]] = {}
    for name in scored.positive:
        illustrated.setdefault(scored.key_slices[name], []).append(name)
    captures = []
    for number, index in enumerate(sorted(illustrated), start=1):
        slice_ = scored.slices[index]
        source = by_uid[slice_.sop_instance_uid]
        described = "; ".join(
            f"{CLASS_NAMES.get(name, name)} {slice_.scores[name]:.3f} "
            f"(threshold {scored.thresholds[name]:.3f})"
            for name in illustrated[index]
        )
        captures.append(_capture(source, scored, model, version, number, described))
    return captures


def saliency_captures(
    datasets: Sequence[pydicom.Dataset],
    scored: Scored,
    maps: Sequence[KeySliceMap],
    manifest: dict[str, Any],
) -> list[hd.sc.SCImage]:
    """A Secondary Capture per positive class: its key slice in the brain window with the
    occlusion map (``saliency``) laid over it in colour, in one new series."""
    by_uid = _by_uid(datasets, scored)
    model, version = _model(manifest)
    captures = []
    for number, key_map in enumerate(maps, start=1):
        slice_ = scored.slices[key_map.slice_index]
        source = by_uid[slice_.sop_instance_uid]
        label = CLASS_NAMES.get(key_map.name, key_map.name)
        described = f"{label} {slice_.scores[key_map.name]:.3f}, occlusion map"
        overlay = SaliencyOverlay(key_map)
        captures.append(_capture(source, scored, model, version, number, described, overlay))
    return captures


@dataclass(frozen=True)
class SaliencyOverlay:
    """What makes a key-slice capture a saliency capture: the class's map over it."""

    key_map: KeySliceMap

    def draw(self, gray: np.ndarray) -> np.ndarray:
        """``gray`` (rows, columns) 0-255 as RGB, the map's weights above MAP_FLOOR in a
        yellow-to-red ramp, at most MAP_OPACITY opaque, so the anatomy stays readable."""
        weights = self.key_map.at(*gray.shape)
        alpha = np.where(weights > MAP_FLOOR, weights * MAP_OPACITY, 0.0)[..., None]
        heat = np.stack([np.full_like(weights, 255.0), 255.0 * (1 - weights), 0 * weights], -1)
        rgb = np.repeat(gray[..., None].astype(np.float32), 3, axis=-1)
        return np.round(rgb * (1 - alpha) + heat * alpha).astype(np.uint8)


# The SR's content


def _class_group(
    scored: Scored,
    name: str,
    model: str,
    version: str,
    by_uid: dict[str, pydicom.Dataset],
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    threshold = scored.thresholds[name]
    measurements = [
        hd.sr.Measurement(name=SCAN_SCORE, value=scored.scan_scores[name], unit=NO_UNITS),
        hd.sr.Measurement(name=THRESHOLD, value=threshold, unit=NO_UNITS),
    ]
    source_images = None
    if scored.decision[name]:
        key = scored.key_slice(name)
        ds = by_uid[key.sop_instance_uid]
        measurements.append(
            hd.sr.Measurement(
                name=SLICE_SCORE,
                value=key.scores[name],
                unit=NO_UNITS,
                referenced_images=[
                    hd.sr.SourceImageForMeasurement(str(ds.SOPClassUID), key.sop_instance_uid)
                ],
            )
        )
        source_images = [
            hd.sr.SourceImageForMeasurementGroup(str(ds.SOPClassUID), key.sop_instance_uid)
        ]
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=_uid(scored, "class", name),
            identifier=CLASS_DESCRIPTIONS.get(name, name)[:64],
        ),
        finding_type=_class_code(name),
        algorithm_id=hd.sr.AlgorithmIdentification(
            name=model[:64], version=str(version), parameters=[f"threshold={threshold:.6g}"]
        ),
        measurements=measurements,
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(
                name=_class_code(name), value=PRESENT if scored.decision[name] else ABSENT
            )
        ],
        source_images=source_images,
    )


def _class_code(name: str) -> Code:
    """The class's SNOMED CT concept; a class the study does not define (a build's own) gets a
    private code rather than none."""
    return CLASS_CODES.get(name) or Code(name.upper()[:16], PRIVATE_SCHEME, name)


def _equipment(model: str, version: str, what: str) -> hd.ContributingEquipment:
    """The model as processing equipment: AIR names the algorithm and its version here."""
    return hd.ContributingEquipment(
        manufacturer=MANUFACTURER,
        purpose_of_reference=codes.DCM.ProcessingEquipment,
        manufacturer_model_name=model[:64],
        software_versions=str(version),
        contribution_description=f"{what} (model {model}, build {version})"[:64],
    )


# The captures


def _capture(
    source: pydicom.Dataset,
    scored: Scored,
    model: str,
    version: str,
    number: int,
    described: str,
    overlay: SaliencyOverlay | None = None,
) -> hd.sc.SCImage:
    hu = np.asarray(apply_modality_lut(source.pixel_array, source), dtype=np.float32)
    level, width = BRAIN_WINDOW
    pixels = np.round(window(hu, level, width) * 255.0).astype(np.uint8)
    kind, series, series_number, what = "capture", "capture", CAPTURE_SERIES_NUMBER, "key slices"
    if overlay is not None:
        pixels = overlay.draw(pixels)
        kind = f"saliency-{overlay.key_map.name}"
        series, series_number, what = "saliency", SALIENCY_SERIES_NUMBER, "saliency"
    spacing = source.get("PixelSpacing")
    capture = hd.sc.SCImage(
        pixel_array=pixels,
        photometric_interpretation="MONOCHROME2" if overlay is None else "RGB",
        bits_allocated=8,
        coordinate_system="PATIENT",
        study_instance_uid=str(source.StudyInstanceUID),
        series_instance_uid=_uid(scored, f"{series}-series"),
        series_number=series_number,
        sop_instance_uid=_uid(scored, kind, source.SOPInstanceUID),
        instance_number=number,
        manufacturer=MANUFACTURER,
        patient_id=source.get("PatientID"),
        patient_name=source.get("PatientName"),
        patient_birth_date=source.get("PatientBirthDate"),
        patient_sex=source.get("PatientSex") if source.get("PatientSex") in SEXES else None,
        accession_number=source.get("AccessionNumber"),
        study_id=source.get("StudyID"),
        study_date=source.get("StudyDate"),
        study_time=source.get("StudyTime"),
        referring_physician_name=source.get("ReferringPhysicianName"),
        pixel_spacing=(float(spacing[0]), float(spacing[1])) if spacing else None,
        patient_orientation=_patient_orientation(source),
        contributing_equipment=[_equipment(model, version, f"{what.capitalize()} capture")],
        series_description=f"ICH AI {what} (build {version})"[:64],
        manufacturer_model_name=model[:64],
        software_versions=str(version),
    )
    text = f"Key slice: {described}. Brain window WL {level:g} / WW {width:g}. Unverified AI."
    capture.ImageComments = text
    capture.DerivationDescription = text[:1024]
    capture.BurnedInAnnotation = "NO"
    reference = pydicom.Dataset()
    reference.ReferencedSOPClassUID = source.SOPClassUID
    reference.ReferencedSOPInstanceUID = source.SOPInstanceUID
    capture.SourceImageSequence = [reference]
    return capture


def _patient_orientation(source: pydicom.Dataset) -> tuple[str, str]:
    """The letters of the patient directions along the rows and down the columns (the main
    axis of each direction cosine), as Patient Orientation writes them; axial when unknown."""
    cosines = source.get("ImageOrientationPatient")
    if cosines is None or len(cosines) != 6:
        return ("L", "P")
    letters = []
    for vector in (cosines[:3], cosines[3:]):
        values = [float(v) for v in vector]
        axis = int(np.argmax(np.abs(values)))
        letters.append(_LETTERS[axis][1 if values[axis] > 0 else 0])
    return (letters[0], letters[1])


# Small helpers


def _by_uid(datasets: Sequence[pydicom.Dataset], scored: Scored) -> dict[str, pydicom.Dataset]:
    by_uid = {str(ds.SOPInstanceUID): ds for ds in datasets}
    missing = [s.sop_instance_uid for s in scored.slices if s.sop_instance_uid not in by_uid]
    if missing:
        raise ValueError(f"{len(missing)} scored slices are not among the datasets given")
    return by_uid


def _model(manifest: dict[str, Any]) -> tuple[str, str]:
    model = str((manifest.get("model") or {}).get("name") or "ICHLabel model")
    return model, str(manifest["build"])


def _device_uid(manifest: dict[str, Any]) -> UID:
    """The algorithm's Device Observer UID: the same for every series a build scores."""
    model = manifest.get("model") or {}
    return _name_uid(
        "ichlabel-edge-device",
        str(model.get("name", "")),
        str(model.get("artifact_sha256", "")),
        str(manifest["build"]),
    )


def _uid(scored: Scored, *parts: str) -> UID:
    """A UID derived from the series, its instances, the build and ``parts``."""
    return _name_uid(
        "ichlabel-edge-result",
        scored.series_instance_uid,
        *(s.sop_instance_uid for s in scored.slices),
        str(scored.build),
        *parts,
    )


def _name_uid(*parts: str) -> UID:
    """A name-based UUID (RFC 4122 version 5) of ``parts`` as a UID under 2.25."""
    return UID(f"2.25.{uuid.uuid5(UID_NAMESPACE, chr(0).join(parts)).int}")

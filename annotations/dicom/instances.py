"""Read one file and decide whether it is a CT slice ICHLabel can take, or why not.

``read_header`` is the cheap first pass (pixel data deferred, not decoded); the importer groups
headers into series and only then reads each accepted file whole with ``read_full``.
Refusal reasons never quote attribute values: a value may be PHI, and reasons reach the
database, the API and the logs.
"""

import io
import math
from dataclasses import dataclass, field

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import get_decoder
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from annotations.dicom.deid import burned_in_annotation, text_values
from annotations.dicom.errors import RejectedFile
from annotations.dicom.series import InstanceGeometry
from annotations.dicom.sources import Source

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
DICOMDIR_STORAGE = "1.2.840.10008.1.3.10"
# Values of ImageType (value 3) that vendors use for scout/topogram images.
LOCALIZER_TYPES = {"LOCALIZER", "SCOUT", "TOPOGRAM", "SURVIEW", "SCANOGRAM"}
NATIVE_LITTLE_ENDIAN = {ImplicitVRLittleEndian, ExplicitVRLittleEndian}
# Values beyond this size are not read in the first pass: pixel data and overlays.
DEFER_SIZE = 1024


@dataclass(frozen=True)
class InstanceHeader:
    """What the first pass keeps of one accepted file (no pixel data).

    ``dataset`` is the parsed header of a plain file, its large values (pixel data) deferred:
    pydicom reads them from the file when they are first used, so the second pass need not
    parse the file again. The importer keeps a bounded number of these.
    """

    source: Source
    series_instance_uid: str
    sop_instance_uid: str
    burned_in: bool
    geometry: InstanceGeometry
    dataset: Dataset | None = field(default=None, compare=False, repr=False)


def read_header(source: Source) -> InstanceHeader:
    """Parse one file's header and check it; raise RejectedFile with the reason to report."""
    ds = _parse(source, defer=True)
    _check_sop_class(ds)
    _check_image(ds)
    return InstanceHeader(
        source=source,
        series_instance_uid=_text(ds, "SeriesInstanceUID"),
        sop_instance_uid=_text(ds, "SOPInstanceUID"),
        burned_in=burned_in_annotation(ds),
        geometry=_geometry(ds, source.label),
        dataset=ds if source.member is None else None,
    )


def read_full(header: InstanceHeader) -> Dataset:
    """The file's whole dataset; pixel data is checked (decoded if compressed)."""
    ds = header.dataset if header.dataset is not None else _parse(header.source, defer=False)
    try:
        _check_pixels_decode(ds)
    except OSError as exc:  # a deferred value whose file vanished or changed since the header
        raise RejectedFile(f"cannot read file ({type(exc).__name__})") from exc
    return ds


def _parse(source: Source, *, defer: bool) -> Dataset:
    kwargs = {"defer_size": DEFER_SIZE} if defer else {}
    if defer and source.member is None:
        # From the path, so that deferred values are read from the file later, not kept here.
        try:
            if source.path.stat().st_size == 0:
                raise RejectedFile("empty file")
            return pydicom.dcmread(source.path, **kwargs)
        except (InvalidDicomError, RejectedFile):
            pass
        except OSError as exc:
            raise RejectedFile(f"cannot read file ({type(exc).__name__})") from exc
        except Exception as exc:  # a truncated or corrupt DICOM file: pydicom raises many types
            raise RejectedFile(f"corrupt DICOM file ({type(exc).__name__})") from exc
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise RejectedFile(f"cannot read file ({type(exc).__name__})") from exc
    if not raw:
        raise RejectedFile("empty file")
    try:
        return pydicom.dcmread(io.BytesIO(raw), **kwargs)
    except InvalidDicomError:
        pass
    except Exception as exc:  # a truncated or corrupt DICOM file: pydicom raises many types
        raise RejectedFile(f"corrupt DICOM file ({type(exc).__name__})") from exc
    # No "DICM" preamble: some archives hold bare datasets. Accept them only if they parse and
    # carry the identifying attributes of an image, so random bytes are never taken for DICOM.
    try:
        ds = pydicom.dcmread(io.BytesIO(raw), force=True, **kwargs)
        if "SOPClassUID" in ds and "SOPInstanceUID" in ds and "SeriesInstanceUID" in ds:
            return _with_file_meta(ds)
    except Exception:
        pass
    raise RejectedFile("not a DICOM file")


def _with_file_meta(ds: Dataset) -> Dataset:
    """A bare dataset given the file meta group it lacks, from the encoding it was read in."""
    meta = getattr(ds, "file_meta", None) or FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit, little = ds.original_encoding
        if not little:
            syntax = ExplicitVRBigEndian
        else:
            syntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
        meta.TransferSyntaxUID = syntax
    meta.setdefault("MediaStorageSOPClassUID", ds.SOPClassUID)
    meta.setdefault("MediaStorageSOPInstanceUID", ds.SOPInstanceUID)
    ds.file_meta = meta
    return ds


def _check_sop_class(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None)
    sop_class = _text(ds, "SOPClassUID") or str(getattr(meta, "MediaStorageSOPClassUID", ""))
    modality = _text(ds, "Modality").upper()
    if sop_class == DICOMDIR_STORAGE:
        raise RejectedFile("DICOMDIR media index, not an image")
    if sop_class == ENHANCED_CT_IMAGE_STORAGE:
        raise RejectedFile("Enhanced CT (multi-frame) is not supported: export as CT Image Storage")
    if sop_class != CT_IMAGE_STORAGE:
        name = UID(sop_class).name if sop_class else "missing"
        raise RejectedFile(f"not a CT image (SOP class: {name}; modality: {modality or 'missing'})")
    if modality != "CT":
        raise RejectedFile(f"not a CT image (modality: {modality or 'missing'})")
    for keyword in ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"):
        if not _text(ds, keyword):
            raise RejectedFile(f"missing {keyword}")


def _check_image(ds: Dataset) -> None:
    image_type = [value.upper() for value in text_values(ds, "ImageType")]
    if LOCALIZER_TYPES.intersection(image_type):
        raise RejectedFile("localizer (scout) image, not an axial slice")
    if "PixelData" not in ds:
        raise RejectedFile("no pixel data")
    if _number(ds, "NumberOfFrames", 1) > 1:
        raise RejectedFile("multi-frame image: expected one slice per file")
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        raise RejectedFile("not a grayscale image (SamplesPerPixel is not 1)")
    if ds.get("BitsAllocated") not in (8, 16):
        raise RejectedFile("unsupported BitsAllocated: expected 8 or 16")
    if not ds.get("Rows") or not ds.get("Columns"):
        raise RejectedFile("missing Rows or Columns")
    meta = getattr(ds, "file_meta", None)
    transfer_syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if transfer_syntax is not None and not transfer_syntax.is_compressed:
        return
    if transfer_syntax is not None:
        try:
            decoder = get_decoder(transfer_syntax)
        except NotImplementedError:
            decoder = None
        if decoder is None or not decoder.is_available:
            raise RejectedFile(f"cannot decode transfer syntax {transfer_syntax.name}")


def _check_pixels_decode(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax in NATIVE_LITTLE_ENDIAN:
        # Native pixels need no decoding: the byte count proves the frame is whole, without
        # the cost of building an array the importer would not use.
        expected = int(ds.Rows) * int(ds.Columns) * (int(ds.BitsAllocated) // 8)
        if len(ds.PixelData) < expected:
            raise RejectedFile("pixel data is shorter than Rows x Columns (truncated file?)")
        return
    try:
        pixels = ds.pixel_array
    except Exception as exc:
        name = syntax.name if syntax is not None else "unknown transfer syntax"
        raise RejectedFile(f"pixel data cannot be decoded ({name}: {type(exc).__name__})") from exc
    if pixels.shape != (ds.Rows, ds.Columns):
        raise RejectedFile("pixel data does not match Rows x Columns")


def _text(ds: Dataset, keyword: str) -> str:
    return "\\".join(text_values(ds, keyword))


def _floats(ds: Dataset, keyword: str, count: int) -> tuple[float, ...] | None:
    try:
        numbers = tuple(float(item) for item in text_values(ds, keyword))
    except ValueError:
        return None
    if len(numbers) != count or not all(math.isfinite(number) for number in numbers):
        return None
    return numbers


def _number(ds: Dataset, keyword: str, default: float | None = None) -> float | None:
    values = _floats(ds, keyword, 1)
    return values[0] if values else default


def _geometry(ds: Dataset, key: str) -> InstanceGeometry:
    number = _number(ds, "InstanceNumber")
    return InstanceGeometry(
        key=key,
        image_position=_floats(ds, "ImagePositionPatient", 3),
        image_orientation=_floats(ds, "ImageOrientationPatient", 6),
        pixel_spacing=_floats(ds, "PixelSpacing", 2),
        rows=int(ds.Rows),
        columns=int(ds.Columns),
        slice_thickness=_number(ds, "SliceThickness"),
        instance_number=int(number) if number is not None else None,
    )

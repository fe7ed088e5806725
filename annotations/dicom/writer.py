"""Writing a dataset as a Part 10 file, fast for the elements that were read and not changed.

An imported slice is written back almost as it was read: of its ~80 elements the
de-identification replaces a few, the rest (pixel data included) are still the raw bytes
pydicom read. pydicom's writer spends ~25 us of Python on each element whatever it holds,
which made writing the slowest step of an import; here an unchanged raw element is written as
its header plus its bytes, and everything else goes through pydicom's own writer.
"""

import struct

from pydicom.charset import default_encoding
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_file_meta_info

PREAMBLE = b"\x00" * 128 + b"DICM"
GROUP_LENGTH = 0x00020000
# Version, media storage SOP class and instance, transfer syntax, implementation class.
REQUIRED_META = {0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012}
UNDEFINED_LENGTH = 0xFFFFFFFF
# Explicit VR: these VRs have 2 reserved bytes and a 32-bit length (PS3.5 7.1.2).
LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
_TAG = struct.Struct("<HH")
_IMPLICIT_HEADER = struct.Struct("<HHL")
_SHORT_HEADER = struct.Struct("<HH2sH")
_LONG_HEADER = struct.Struct("<HH2s2xL")


def part10_bytes(ds: Dataset) -> bytes:
    """A Part 10 file: a zeroed preamble (vendors hide data there), file meta, the dataset.

    The transfer syntax in ``ds.file_meta`` must be implicit or explicit VR little endian.
    """
    syntax = ds.file_meta.TransferSyntaxUID
    if not syntax.is_little_endian or syntax.is_compressed or syntax.is_deflated:
        raise ValueError(f"cannot write {syntax.name} this way")
    buffer = DicomBytesIO()
    buffer.write(PREAMBLE)
    _write_file_meta(buffer, ds.file_meta)
    buffer.is_little_endian = True
    buffer.is_implicit_VR = syntax.is_implicit_VR
    _write_elements(buffer, ds, syntax.is_implicit_VR)
    return buffer.getvalue()


def _write_file_meta(buffer: DicomBytesIO, meta: Dataset) -> None:
    """The file meta group, always explicit VR little endian, with its group length.

    pydicom's ``write_file_meta_info`` re-validates and rebuilds the group on every call
    (0.7 ms, as long as the rest of the file); that runs only when something is missing.
    """
    if not REQUIRED_META.issubset(meta.keys()):
        write_file_meta_info(buffer, meta, enforce_standard=True)
        return
    group = DicomBytesIO()
    group.is_little_endian, group.is_implicit_VR = True, False
    _write_elements(group, meta, implicit=False, skip=(GROUP_LENGTH,))
    content = group.getvalue()
    buffer.write(_SHORT_HEADER.pack(0x0002, 0x0000, b"UL", 4) + struct.pack("<L", len(content)))
    buffer.write(content)


def _write_elements(
    buffer: DicomBytesIO, ds: Dataset, implicit: bool, skip: tuple[int, ...] = ()
) -> None:
    encodings = ds.get("SpecificCharacterSet") or default_encoding
    for tag in sorted(ds.keys()):
        if tag in skip:
            continue
        elem = ds.get_item(tag)
        if isinstance(elem, RawDataElement) and _verbatim(elem, implicit):
            _write_raw(buffer, elem, implicit)
        else:
            write_data_element(buffer, ds[tag], encodings)


def _verbatim(elem: RawDataElement, implicit: bool) -> bool:
    """Whether the raw bytes are valid as they are in the output's encoding."""
    if not elem.is_little_endian or elem.length == UNDEFINED_LENGTH or elem.value is None:
        return False
    if elem.is_implicit_VR == implicit:
        return implicit or bool(elem.VR)
    # Across implicit/explicit only plain values keep their bytes; items of a sequence (and
    # UN, which may hide one) are encoded in the source's own VR mode.
    return bool(elem.VR) and elem.VR not in ("SQ", "UN") and len(elem.VR) == 2


def _write_raw(buffer: DicomBytesIO, elem: RawDataElement, implicit: bool) -> None:
    value = elem.value
    padded = len(value) + (len(value) % 2)
    group, element = elem.tag >> 16, elem.tag & 0xFFFF
    if implicit:
        buffer.write(_IMPLICIT_HEADER.pack(group, element, padded))
    elif elem.VR in LONG_VRS:
        buffer.write(_LONG_HEADER.pack(group, element, elem.VR.encode(), padded))
    else:
        buffer.write(_SHORT_HEADER.pack(group, element, elem.VR.encode(), padded))
    buffer.write(value)
    if padded != len(value):
        # Values are even-length by PS3.5 6.2 and 7.1.1: NUL pads UIDs and bytes, a space
        # pads text. An implicit-VR element carries no VR: the dictionary's tells which.
        vr = elem.VR or _dictionary_vr(elem.tag)
        buffer.write(b"\x00" if vr in ("UI", "OB", "UN") else b" ")


def _dictionary_vr(tag: int) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:  # private or unknown: treated as bytes
        return "UN"

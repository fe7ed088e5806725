"""De-identify a DICOM dataset: PS3.15 Annex E, Basic Application Level Confidentiality Profile.

What is applied (each with its CID 7050 code, written to DeidentificationMethodCodeSequence):

- 113100 Basic Application Confidentiality Profile: the actions of PS3.15 Table E.1-1, taken from
  the table that ``dicom-anonymizer`` ships as Python lists (``dicomfields_2026c``), applied at
  every nesting level in one recursive pass; all private attributes are removed.
- 113107 Retain Longitudinal Temporal Information with Modified Dates Option: dates (DA) and
  date-times (DT) are shifted by a keyed per-patient offset instead of being removed, so the
  intervals between a patient's examinations survive; times of day (TM) are kept, since whole-day
  shifts leave them unchanged and alone they identify no one.
- 113105 Clean Descriptors Option: SeriesDescription (X in the basic profile) is kept only when it
  passes a conservative cleaning (``clean_description``), because readers pick series by it.

Identifiers are replaced by keyed values (HMAC-SHA256 under the installation's secret): UIDs by
``remap_uid``, PatientName and PatientID by ``patient_pseudonym``. The same input and secret give
the same output in every process and import, so a patient's scans stay linked; without the secret
nothing can be mapped back.

Pure pydicom and stdlib: no Django import, so the importer, benchmarks and tests can all use it.
"""

import base64
import datetime
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as annex_e
from pydicom.charset import convert_encodings, decode_bytes
from pydicom.datadict import DicomDictionary, keyword_for_tag, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_sequence
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

__all__ = [
    "DeidResult",
    "Deidentifier",
    "burned_in_annotation",
    "clean_description",
    "date_shift_days",
    "patient_pseudonym",
    "remap_uid",
]

# -- keyed identifiers ----------------------------------------------------------------------

# Domain separation: the same secret derives UIDs, pseudonyms and date shifts, and a value in one
# role (a PatientID that happens to equal a UID) must not yield a related value in another.
_UID_DOMAIN = b"ichlabel-uid\x00"
_PATIENT_DOMAIN = b"ichlabel-patient\x00"
_SHIFT_DOMAIN = b"ichlabel-date-shift\x00"

# Date shifts lie in [-3650, -365] days: always earlier, never zero, at most ten years.
_SHIFT_MIN_DAYS = 365
_SHIFT_SPAN_DAYS = 3650 - 365 + 1


def _key(secret: bytes | str) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def _digest(secret: bytes | str, domain: bytes, *parts: str) -> bytes:
    # Parts joined with NUL so ("ab", "c") and ("a", "bc") never collide.
    message = domain + b"\x00".join(part.encode("utf-8") for part in parts)
    return hmac.new(_key(secret), message, hashlib.sha256).digest()


def remap_uid(uid: str, secret: bytes | str) -> str:
    """The keyed replacement of ``uid``: ``2.25.`` and a 128-bit decimal from HMAC-SHA256.

    The 128 bits are laid out as an RFC 9562 version 8 (custom) UUID, so the result is a
    well-formed UUID-derived UID under the 2.25 arc (ISO/IEC 9834-8, PS3.5 B.2): at most
    44 characters, and a decimal integer has no leading zero. Trailing NUL or space padding of
    the input is ignored, so a padded and an unpadded copy of one UID map alike.
    """
    value = int.from_bytes(_digest(secret, _UID_DOMAIN, uid.strip("\x00 "))[:16], "big")
    value = (value & ~(0xF << 76)) | (0x8 << 76)  # version 8
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant 10
    return f"2.25.{value}"


def patient_pseudonym(patient_id: str, secret: bytes | str, issuer: str = "") -> str:
    """A keyed pseudonym for a patient: ``P`` and 12 base32 characters (60 bits).

    Fixed length, so no pseudonym is a prefix of another; 13 characters fit LO and PN.
    ``issuer`` namespaces the ID (e.g. the importing center): two hospitals may both have a
    patient "12345".
    """
    digest = _digest(secret, _PATIENT_DOMAIN, issuer.strip(), patient_id.strip())
    return "P" + base64.b32encode(digest).decode("ascii")[:12]


def date_shift_days(patient_id: str, secret: bytes | str, issuer: str = "") -> int:
    """The patient's keyed date offset in days, between -3650 and -365 (never 0)."""
    digest = _digest(secret, _SHIFT_DOMAIN, issuer.strip(), patient_id.strip())
    return -(_SHIFT_MIN_DAYS + int.from_bytes(digest[:8], "big") % _SHIFT_SPAN_DAYS)


# -- dates -----------------------------------------------------------------------------------

_DT = re.compile(r"^(\d{8})(\d{0,6}(?:\.\d{1,6})?)(?:[+-]\d{4})?$")


def _parse_da(text: str) -> datetime.date | None:
    """A DA value as a date; also the ACR-NEMA form YYYY.MM.DD that old files still carry."""
    text = text.strip()
    if len(text) == 10 and text[4] == "." and text[7] == ".":
        text = text[:4] + text[5:7] + text[8:]
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _format_da(day: datetime.date) -> str:
    # Not strftime: %Y does not zero-pad years before 1000 on every platform.
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _shift_da(text: str, shift: datetime.timedelta) -> str:
    """The shifted DA value, or "" when the value cannot be read as a day."""
    day = _parse_da(text)
    if day is None:
        return ""
    try:
        return _format_da(day + shift)
    except OverflowError:
        return ""


def _shift_dt(text: str, shift: datetime.timedelta) -> str:
    """The shifted DT value, keeping the time of day; "" when coarser than a day or unreadable.

    The UTC offset is dropped: Timezone Offset From UTC is X in Table E.1-1 (it hints at where
    the patient was examined).
    """
    match = _DT.match(text.strip())
    if match is None:
        return ""
    day = _shift_da(match.group(1), shift)
    return day + match.group(2) if day else ""


# -- the profile's table, resolved for CT images ----------------------------------------------


class Action(Enum):
    """What happens to one attribute; the letters are PS3.15 Table E.1-1's action codes."""

    REMOVE = "X"
    EMPTY = "Z"
    DUMMY = "D"
    REMAP_UID = "U"
    RECURSE = "U*"  # keep the sequence; its items are cleaned like the top level
    SHIFT_DATE = "C"  # cleaned under the Modified Dates option
    PSEUDONYM = "pseudonym"
    DESCRIPTION = "clean descriptor"


# dicom-anonymizer's list names and the action codes of each.
_TABLE_LISTS: dict[str, tuple[str, ...]] = {
    "D_TAGS": ("D",),
    "Z_TAGS": ("Z",),
    "X_TAGS": ("X",),
    "U_TAGS": ("U",),
    "Z_D_TAGS": ("Z", "D"),
    "X_Z_TAGS": ("X", "Z"),
    "X_D_TAGS": ("X", "D"),
    "X_Z_D_TAGS": ("X", "Z", "D"),
    "X_Z_U_STAR_TAGS": ("X", "Z", "U*"),
}

# Type 2 and 2C attributes of the CT Image IOD's modules (PS3.3 A.3: Patient, General Study,
# General Series, Frame of Reference, General Equipment, General Acquisition, General Image,
# Contrast/Bolus, CT Image). A combined action (X/Z, X/D, X/Z/D) resolves to Z for these, so the
# stored file stays a valid CT image; to X for everything else (Type 3 or not in the IOD). No
# attribute with a combined action is Type 1 in the CT Image IOD, so D is never needed for IOD
# validity; Z/D resolves to Z.
_CT_TYPE2 = frozenset(
    {
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "StudyDate",
        "StudyTime",
        "ReferringPhysicianName",
        "StudyID",
        "AccessionNumber",
        "SeriesNumber",
        "Laterality",
        "PositionReferenceIndicator",
        "Manufacturer",
        "InstanceNumber",
        "PatientOrientation",
        "ContentDate",
        "ContentTime",
        "ContrastBolusAgent",
        "KVP",
        "AcquisitionNumber",
    }
)

_PATIENT_NAME = BaseTag(0x00100010)
_PATIENT_ID = BaseTag(0x00100020)
_PATIENT_BIRTH_DATE = BaseTag(0x00100030)
_PATIENT_BIRTH_TIME = BaseTag(0x00100032)
_SERIES_DESCRIPTION = BaseTag(0x0008103E)

# Attributes handled beyond the table's letter: the pseudonym goes where the name and ID were
# (Z and Z/D allow a dummy); the birth date is emptied, not shifted (Type 2, and with the age band
# kept it would only add identifying precision), and the birth time goes with it (X; unlike other
# times it describes the patient, not the examination); SeriesDescription is a cleaned descriptor.
_SPECIAL: dict[int, Action] = {
    _PATIENT_NAME: Action.PSEUDONYM,
    _PATIENT_ID: Action.PSEUDONYM,
    _PATIENT_BIRTH_DATE: Action.EMPTY,
    _PATIENT_BIRTH_TIME: Action.REMOVE,
    _SERIES_DESCRIPTION: Action.DESCRIPTION,
}

# File meta attributes that name the sending system or carry private data: not in Table E.1-1,
# but the AE titles of the dataset (Station AE Title, Retrieve AE Title) are X there.
_FILE_META_REMOVED = frozenset({0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102})
_MEDIA_STORAGE_SOP_INSTANCE_UID = BaseTag(0x00020003)
_SOP_INSTANCE_UID = BaseTag(0x00080018)

_SQ_TAGS = frozenset(tag for tag, entry in DicomDictionary.items() if entry[0] == "SQ")


def _choose(codes: tuple[str, ...], keyword: str) -> str:
    """One action code for a table row, keeping the CT Image IOD valid (see ``_CT_TYPE2``)."""
    if len(codes) == 1:
        return codes[0]
    if "Z" in codes and keyword in _CT_TYPE2:
        return "Z"
    return "X" if "X" in codes else "Z"


def _resolve(tag: int, codes: tuple[str, ...]) -> Action | None:
    """The action for one table row, or None to keep the attribute as it is."""
    if tag in _SPECIAL:
        return _SPECIAL[tag]
    entry = DicomDictionary.get(tag)
    vr = entry[0] if entry else ""
    if "U*" in codes:
        # X/Z/U*: keep the reference sequence and replace the instance UIDs it contains (they
        # are U in the table, so the recursive pass remaps them): references stay consistent.
        return Action.RECURSE if vr == "SQ" else Action.REMAP_UID if vr == "UI" else Action.REMOVE
    if codes == ("U",):
        return Action.REMAP_UID
    if vr in ("DA", "DT"):
        return Action.SHIFT_DATE
    if vr == "TM":
        return None
    code = _choose(codes, keyword_for_tag(tag))
    if vr == "UI" and code == "D":
        return Action.REMAP_UID  # a consistent dummy UID
    return {"X": Action.REMOVE, "Z": Action.EMPTY, "D": Action.DUMMY}[code]


def _build_table() -> tuple[dict[int, Action], tuple[tuple[int, int, int, int, Action], ...]]:
    """Exact-tag actions and mask rules (repeating groups 50xx/60xx) from the library's lists."""
    exact: dict[int, Action] = {}
    masked: list[tuple[int, int, int, int, Action]] = []
    for name, codes in _TABLE_LISTS.items():
        for row in getattr(annex_e, name):
            if len(row) == 4:
                group, element, group_mask, element_mask = row
                action = Action.REMOVE if "X" in codes else Action.EMPTY
                masked.append(
                    (group & group_mask, element & element_mask, group_mask, element_mask, action)
                )
                continue
            tag = (row[0] << 16) | row[1]
            action = _resolve(tag, codes)
            if action is not None:
                exact[tag] = action
    return exact, tuple(masked)


_EXACT_ACTIONS, _MASK_RULES = _build_table()


def _groups_matching(rule_group: int, group_mask: int) -> Iterable[int]:
    """Every group number g with g & group_mask == rule_group (subsets of the free bits)."""
    free = ~group_mask & 0xFFFF
    subset = free
    while True:
        yield rule_group | subset
        if subset == 0:
            return
        subset = (subset - 1) & free


# Groups where some mask rule may apply, so the per-element test is one set lookup.
_MASK_GROUPS = frozenset(
    group for rule in _MASK_RULES for group in _groups_matching(rule[0], rule[2])
)

# Public attributes kept as they are: known to the data dictionary, not in the table, not
# sequences (whose items are cleaned), not group lengths (which go stale).
_PLAIN_TAGS = frozenset(
    tag
    for tag, entry in DicomDictionary.items()
    if entry[0] != "SQ" and tag & 0xFFFF and tag not in _EXACT_ACTIONS and tag not in _SPECIAL
)

# -- dummies (action D) -------------------------------------------------------------------------

_DUMMY_TEXT = "ANONYMIZED"
_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
_TEXT_MAX = {"AE": 16, "CS": 16, "SH": 16, "LO": 64}
_NUMBER_VRS = frozenset({"FL", "FD", "SL", "SS", "UL", "US", "SV", "UV", "AT"})


def _dummy_value(vr: str) -> object:
    """A non-empty dummy of the VR (D: "a non-zero length value ... consistent with the VR")."""
    if vr in _TEXT_VRS:
        return _DUMMY_TEXT[: _TEXT_MAX.get(vr, len(_DUMMY_TEXT))]
    if vr in ("DS", "IS"):
        return "0"
    if vr == "AS":
        return "000Y"
    if vr in _NUMBER_VRS:
        return 0
    return b"\x00" * 8  # OB, OW, OF, OD, OL, OV, UN: 8 bytes suit every word size


# -- descriptors (Clean Descriptors Option) ----------------------------------------------------

_DESCRIPTION_CHARS = re.compile(r"^[A-Za-z0-9 ./()_-]{1,64}$")
# A date with or without separators, or a long run of digits (a date, an MRN, a phone number).
_DATE_OR_NUMBER = re.compile(r"\d{6,}|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def clean_description(text: str, identifiers: Iterable[str] = ()) -> str:
    """``text`` if it is safe to keep as a descriptor, else "".

    Kept only when it has at most 64 ASCII letters, digits, spaces and ``./-_()``; holds no date
    and no run of six or more digits; and shares no word with ``identifiers`` (the patient's name
    and IDs, the accession number...), nor contains one of those IDs of four or more characters.
    A description typed by a technician can hold anything, so anything unusual is dropped.
    """
    text = text.strip()
    if not _DESCRIPTION_CHARS.match(text) or _DATE_OR_NUMBER.search(text):
        return ""
    words = {word.upper() for word in _TOKEN.findall(text)}
    upper = text.upper()
    for identifier in identifiers:
        identifier = identifier.strip().upper()
        if len(identifier) >= 4 and identifier in upper:
            return ""
        if any(len(word) >= 2 and word in words for word in _TOKEN.findall(identifier)):
            return ""
    return text


# Attributes whose values the descriptor cleaning looks for in a description.
_IDENTIFIER_TAGS = (
    _PATIENT_NAME,
    _PATIENT_ID,
    0x00101000,  # Other Patient IDs
    0x00101001,  # Other Patient Names
    0x00101005,  # Patient's Birth Name
    0x00080050,  # Accession Number
    0x00080090,  # Referring Physician's Name
    0x00081050,  # Performing Physician's Name
    0x00081070,  # Operators' Name
    0x00080080,  # Institution Name
)

# -- what leaves ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeidResult:
    """What de-identification keeps of a dataset for the database: nothing that identifies.

    ``age_band`` is a decade ("60-69", "90+": ages of 90 and over are pooled, as HIPAA's safe
    harbor asks) or ""; ``sex`` is "F", "M", "O" or ""; ``acquisition_date`` is shifted like the
    file's dates; ``series_description`` is the cleaned description or "".
    """

    pseudonym: str
    date_shift_days: int
    age_band: str
    sex: str
    acquisition_date: datetime.date | None
    series_description: str


# CID 7050 codes (scheme DCM) for DeidentificationMethodCodeSequence, in the order applied.
_METHOD_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113105", "Clean Descriptors Option"),
    ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
)
_METHOD_TEXT = (
    "DICOM PS3.15 E.1 Basic Application Confidentiality Profile",
    "Clean Descriptors Option",
    "Retain Longitudinal Temporal Information Modified Dates Option",
)


def burned_in_annotation(ds: Dataset) -> bool:
    """Whether the pixels may show identifying text, so the image must not be imported as is.

    True when BurnedInAnnotation (0028,0301) is YES, or when ImageType names a screen capture
    ("SCREEN SAVE": scanner consoles save screenshots, patient banner included, under CT SOP
    classes). Nothing else is guessed from: the Clean Pixel Data Option is not applied, so a
    caller quarantines or rejects what this flags.
    """
    if str(ds.get("BurnedInAnnotation", "") or "").strip().upper() == "YES":
        return True
    image_type = ds.get("ImageType") or []
    if isinstance(image_type, str):
        image_type = image_type.split("\\")
    return any(str(value).strip().upper() == "SCREEN SAVE" for value in image_type)


_Element = DataElement | RawDataElement

# -- reading and writing values without pydicom's conversion ------------------------------------
#
# Converting a raw element into a DataElement (and validating the value) costs about ten
# microseconds; a CT header has ~100 elements and the import target is 175 slices per second
# per process. So values that are ASCII by definition (UI, DA, DT, and ASCII text) are read from
# the raw bytes, and replacements are written as RawDataElements, which pydicom writes as they
# are (or converts on first access, e.g. ``ds.SOPInstanceUID``). Text VR values carry the same
# bytes in every transfer syntax, so these elements are valid whatever the dataset's encoding.


def _raw(tag: BaseTag, vr: str, text: str) -> RawDataElement:
    """A raw element holding ``text`` (ASCII), padded to even length as PS3.5 6.2 asks."""
    data = text.encode("ascii")
    if len(data) % 2:
        data += b"\x00" if vr == "UI" else b" "
    return RawDataElement(tag, vr, len(data), data, 0, False, True)


def _strings(ds: Dataset, tag: BaseTag, elem: _Element | None = None) -> list[str] | None:
    """The values of a text element ([] if absent or empty); None if not readable as text.

    ``elem`` is the element as the dataset holds it, when the caller already has it. Raw
    values are decoded here rather than converted by pydicom: faster, and pydicom's validation
    of the original value (with its warnings in the log) never runs.
    """
    if elem is None:
        elem = ds.get_item(tag)
        if elem is None:
            return []
    if elem.is_raw and elem.value is not None:  # (a deferred value is None until read)
        text = _decode(ds, tag, elem)
        if text is None:
            return None
        if not text.strip(" \x00"):
            return []
        return [value.strip(" \x00") for value in text.split("\\")]
    if elem.is_raw:
        elem = _element(ds, tag)
        if elem is None:
            return None
    if elem.VR == "SQ" or isinstance(elem.value, bytes):
        return None
    return _values(elem.value)


# VRs whose values use the default character repertoire only (PS3.5 6.1.2.3 and Table 6.2-1).
_ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"})
_SPECIFIC_CHARACTER_SET = BaseTag(0x00080005)
_TEXT_DELIMITERS = {0x5C, 0x5E, 0x3D}  # \ ^ =


def _decode(ds: Dataset, tag: BaseTag, elem: RawDataElement) -> str | None:
    """A raw text value as str: ASCII directly, else in the dataset's character set."""
    data: bytes = elem.value
    if data.isascii():
        return data.decode("ascii")
    vr = _vr(elem, tag)
    if vr in _ASCII_VRS or vr not in _TEXT_VRS:
        return None  # a UID or date with other bytes, or not text at all: unreadable
    # A nested item without its own Specific Character Set falls back to the default
    # repertoire here (decoded as ISO 8859-1): only top-level names are read for their text.
    charsets = _strings(ds, _SPECIFIC_CHARACTER_SET) or ["ISO_IR 6"]
    return decode_bytes(data, convert_encodings(charsets), _TEXT_DELIMITERS)


def _values(value: object) -> list[str]:
    """The values of an element as text: one for a single value, none for an empty one."""
    if value is None or value == "":
        return []
    if isinstance(value, MultiValue | list | tuple):
        return [str(item).strip() for item in value]
    return [str(value).strip()]


def text_values(ds: Dataset, keyword: str) -> list[str]:
    """An ASCII-by-VR attribute's values read from the raw bytes ([] if absent or unreadable).

    For readers that only look (the importer's header pass): no conversion, no validation.
    """
    return _strings(ds, BaseTag(tag_for_keyword(keyword))) or []


def _text(ds: Dataset, tag: int) -> str:
    """An attribute's value as text ("" if absent or unreadable); multiple values joined by \\."""
    return "\\".join(_strings(ds, BaseTag(tag)) or ())


def _vr(elem: _Element, tag: int) -> str:
    """The element's VR; the dictionary's where the file left it unknown (implicit VR, UN)."""
    if elem.VR and elem.VR != "UN":
        return elem.VR
    entry = DicomDictionary.get(tag)
    return entry[0] if entry and " or " not in entry[0] else "UN"


def _element(ds: Dataset, tag: BaseTag) -> DataElement | None:
    """The converted element, or None (and the element removed) when its value cannot be read."""
    try:
        return ds[tag]
    except Exception:  # pydicom raises many types on corrupt values; unreadable means removed
        del ds[tag]
        return None


# -- what the dataset says about the patient ---------------------------------------------------


def _age_band(ds: Dataset) -> str:
    """The decade of the patient's age, from PatientAge or else birth date and study date."""
    years = _age_from_as(_text(ds, 0x00101010))
    if years is None:
        years = _age_from_dates(ds)
    if years is None or not 0 <= years <= 150:
        return ""
    if years >= 90:
        return "90+"
    decade = years // 10 * 10
    return f"{decade}-{decade + 9}"


def _age_from_as(text: str) -> int | None:
    """Whole years from an AS value (nnnD, nnnW, nnnM or nnnY)."""
    if len(text) != 4 or not text[:3].isdigit() or text[3] not in "DWMY":
        return None
    number = int(text[:3])
    return {"Y": number, "M": number // 12, "W": number // 52, "D": number // 365}[text[3]]


def _age_from_dates(ds: Dataset) -> int | None:
    birth = _parse_da(_text(ds, _PATIENT_BIRTH_DATE))
    if birth is None:
        return None
    for tag in (0x00080020, 0x00080022, 0x00080021, 0x00080023):  # Study, Acq., Series, Content
        seen = _parse_da(_text(ds, tag))
        if seen is not None:
            return seen.year - birth.year - ((seen.month, seen.day) < (birth.month, birth.day))
    return None


def _description(ds: Dataset) -> str:
    """The cleaned SeriesDescription (Clean Descriptors Option), or ""."""
    text = _text(ds, _SERIES_DESCRIPTION)
    if not clean_description(text):  # the cheap checks first: most descriptions stop here
        return ""
    return clean_description(text, (_text(ds, tag) for tag in _IDENTIFIER_TAGS))


def _sex(ds: Dataset) -> str:
    sex = _text(ds, 0x00100040).upper()
    return sex if sex in ("F", "M", "O") else ""


def _acquisition_day(ds: Dataset) -> datetime.date | None:
    """The day the slice was acquired: AcquisitionDate, AcquisitionDateTime, Series, Study..."""
    for tag in (0x00080022, 0x0008002A, 0x00080021, 0x00080020, 0x00080023):
        day = _parse_da(_text(ds, tag)[:8])
        if day is not None:
            return day
    return None


def _shift_day(day: datetime.date | None, shift: datetime.timedelta) -> datetime.date | None:
    if day is None:
        return None
    try:
        return day + shift
    except OverflowError:
        return None


# -- the pass --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Context:
    """Per-dataset state of one ``deidentify`` call."""

    pseudonym: str
    shift: datetime.timedelta
    description: str  # the cleaned top-level SeriesDescription, or ""


_PATIENT_IDENTITY_REMOVED = BaseTag(0x00120062)
_DEIDENTIFICATION_METHOD = BaseTag(0x00120063)
_DEIDENTIFICATION_METHOD_CODES = BaseTag(0x00120064)
_LONGITUDINAL_MODIFIED = BaseTag(0x00280303)
# The de-identification record, the same in every dataset (PS3.15 E.1.1, and E.3.6 for the
# Longitudinal Temporal Information Modified flag that the Modified Dates option requires).
_MARKS = tuple(
    (tag, _raw(tag, vr, text))
    for tag, vr, text in (
        (_PATIENT_IDENTITY_REMOVED, "CS", "YES"),
        (_DEIDENTIFICATION_METHOD, "LO", "\\".join(_METHOD_TEXT)),
        (_LONGITUDINAL_MODIFIED, "CS", "MODIFIED"),
    )
)


# An action's handler: (dataset, tag, element as held, context, top level?).
_Handler = Callable[[Dataset, BaseTag, _Element, _Context, bool], None]


class Deidentifier:
    """Applies the profile to datasets, in place; build once and reuse (it caches keyed values).

    ``secret`` is the installation's de-identification key (bytes, or text taken as UTF-8); it
    is kept as bytes in ``secret``.
    """

    _CACHE_LIMIT = 1 << 16

    def __init__(self, secret: bytes | str) -> None:
        self.secret: bytes = _key(secret)
        if not self.secret:
            raise ValueError("the de-identification secret is empty")
        self._uids: dict[str, str] = {}
        self._patients: dict[tuple[str, str], tuple[str, int]] = {}
        self._method_codes: dict[tuple[bool, bool], RawDataElement] = {}
        self._replacements: dict[tuple, RawDataElement] = {}
        self._handlers: dict[Action, _Handler] = {
            Action.REMOVE: self._remove,
            Action.EMPTY: self._empty,
            Action.DUMMY: self._dummy,
            Action.REMAP_UID: self._remap,
            Action.RECURSE: self._recurse,
            Action.SHIFT_DATE: self._shift,
            Action.PSEUDONYM: self._pseudonym,
            Action.DESCRIPTION: self._description,
        }
        # Tag -> handler, resolved once: the pass does one int-keyed lookup per element.
        self._by_tag: dict[int, _Handler] = {
            tag: self._handlers[action] for tag, action in _EXACT_ACTIONS.items()
        }

    # -- public -----------------------------------------------------------------------------

    def deidentify(self, ds: Dataset, *, issuer: str = "") -> DeidResult:
        """De-identify ``ds`` in place and return what the database may keep.

        ``issuer`` namespaces PatientID for the pseudonym and date shift (pass the center when
        IDs of different centers may coincide). A dataset without PatientID is keyed by its
        StudyInstanceUID: its study becomes a patient of its own rather than everyone's.
        """
        patient_key = _text(ds, _PATIENT_ID) or "study:" + _text(ds, 0x0020000D)
        pseudonym, shift_days = self._patient(patient_key, issuer)
        shift = datetime.timedelta(days=shift_days)
        description = _description(ds)
        result = DeidResult(
            pseudonym=pseudonym,
            date_shift_days=shift_days,
            age_band=_age_band(ds),
            sex=_sex(ds),
            acquisition_date=_shift_day(_acquisition_day(ds), shift),
            series_description=description,
        )
        ctx = _Context(pseudonym, shift, description)
        self._clean(ds, ctx, top=True)
        self._mark(ds, pseudonym)
        self._clean_file_meta(ds)
        return result

    def uid(self, uid: str) -> str:
        """``remap_uid`` under this secret, cached (a series repeats its study and series UIDs)."""
        new = self._uids.get(uid)
        if new is None:
            if len(self._uids) >= self._CACHE_LIMIT:
                self._uids.clear()
            new = self._uids[uid] = remap_uid(uid, self.secret)
        return new

    # -- the recursive pass --------------------------------------------------------------------

    def _clean(self, ds: Dataset, ctx: _Context, top: bool) -> None:
        """Apply the table to every element of ``ds``; keep what it does not list (PS3.15 E.1)."""
        by_tag = self._by_tag
        # items() gives the elements as held (raw ones unconverted); plain ints make the table
        # lookups C-level (BaseTag compares in Python).
        for tag, elem in list(ds.items()):
            number = int(tag)
            if number in _PLAIN_TAGS:
                continue  # most elements: kept as they are
            handler = by_tag.get(number)
            if handler is None:
                group = number >> 16
                if group & 1:
                    del ds[tag]  # private (and private creators): removed at every level
                    continue
                action = _mask_action(number) if group in _MASK_GROUPS else None
                if action is None:
                    self._unlisted(ds, tag, elem, ctx, top)
                    continue
                handler = self._handlers[action]
            handler(ds, tag, elem, ctx, top)

    def _unlisted(
        self, ds: Dataset, tag: BaseTag, elem: _Element, ctx: _Context, top: bool
    ) -> None:
        """A public attribute the table does not list: kept, and a sequence cleaned inside."""
        number = int(tag)
        if (number & 0xFFFF) == 0 or number not in DicomDictionary:
            # Group lengths go stale once values change. Attributes unknown to the data
            # dictionary (newer than pydicom, or retired repeating groups such as the rest of a
            # 50xx curve or 60xx overlay) cannot be judged: removed.
            del ds[tag]
        elif number in _SQ_TAGS:
            self._recurse(ds, tag, elem, ctx, top)

    def _clean_items(self, sequence: Sequence, ctx: _Context) -> None:
        for item in sequence:
            self._clean(item, ctx, top=False)
        _drop_empty_items(sequence)

    def _dummy_items(self, sequence: Sequence, ctx: _Context) -> None:
        """D on a sequence: every value inside becomes a dummy, so free text (an SR's TextValue,
        which the table does not list) cannot survive; UIDs and dates stay consistent."""
        for item in sequence:
            for tag, elem in list(item.items()):
                number = int(tag)
                if (number >> 16) & 1 or (number & 0xFFFF) == 0 or number not in DicomDictionary:
                    del item[tag]
                else:
                    self._dummy(item, tag, elem, ctx, False)
        _drop_empty_items(sequence)

    # -- actions --------------------------------------------------------------------------------

    def _remove(self, ds: Dataset, tag: BaseTag, elem: _Element, ctx: _Context, top: bool) -> None:
        del ds[tag]

    def _empty(self, ds: Dataset, tag: BaseTag, elem: _Element, ctx: _Context, top: bool) -> None:
        if elem.is_raw and elem.value == b"":
            return  # already empty (Type 2 attributes often are)
        vr = _vr(elem, tag)
        key = (int(tag), vr)
        new = self._replacements.get(key)
        if new is None:
            new = self._remember(key, _raw(tag, vr, ""))
        ds[tag] = new

    def _dummy(self, ds: Dataset, tag: BaseTag, elem: _Element, ctx: _Context, top: bool) -> None:
        # The old value is never converted: it is replaced whatever it was.
        vr = _vr(elem, tag)
        if vr == "SQ":
            converted = _element(ds, tag)
            if converted is not None:
                self._dummy_items(converted.value, ctx)
        elif vr == "UI":
            self._remap(ds, tag, elem, ctx, top)
        elif vr in ("DA", "DT"):
            self._shift(ds, tag, elem, ctx, top)
        elif vr != "TM":
            ds[tag] = DataElement(tag, vr, _dummy_value(vr))

    def _remap(self, ds: Dataset, tag: BaseTag, elem: _Element, ctx: _Context, top: bool) -> None:
        key = _raw_key(tag, elem, "UI")
        new = self._replacements.get(key) if key else None
        if new is None:
            values = _strings(ds, tag, elem)
            if values is None:  # not text: no UID to keep consistent
                del ds[tag]
                return
            new = _raw(tag, "UI", "\\".join(self.uid(value) if value else "" for value in values))
            if key:
                self._remember(key, new)
        ds[tag] = new

    def _recurse(self, ds: Dataset, tag: BaseTag, elem: _Element, ctx: _Context, top: bool) -> None:
        if _vr(elem, tag) != "SQ":  # X/Z/U* on a UID
            self._remap(ds, tag, elem, ctx, top)
            return
        converted = _element(ds, tag)
        if converted is not None:
            self._clean_items(converted.value, ctx)

    def _shift(self, ds: Dataset, tag: BaseTag, elem: _Element, ctx: _Context, top: bool) -> None:
        vr = _vr(elem, tag)
        key = _raw_key(tag, elem, vr, ctx.shift.days)
        new = self._replacements.get(key) if key else None
        if new is None:
            values = _strings(ds, tag, elem)
            if values is None or vr not in ("DA", "DT"):  # no readable date: keep nothing
                del ds[tag]
                return
            shift_one = _shift_da if vr == "DA" else _shift_dt
            shifted = [day for day in (shift_one(value, ctx.shift) for value in values) if day]
            new = _raw(tag, vr, "\\".join(shifted))
            if key:
                self._remember(key, new)
        ds[tag] = new

    def _pseudonym(
        self, ds: Dataset, tag: BaseTag, elem: _Element, ctx: _Context, top: bool
    ) -> None:
        # At the top level ``_mark`` writes the pseudonym after the pass. Nested copies (another
        # record's name or ID in an item) are not this patient's: Z for them.
        if not top:
            self._empty(ds, tag, elem, ctx, top)

    def _description(
        self, ds: Dataset, tag: BaseTag, elem: _Element, ctx: _Context, top: bool
    ) -> None:
        # The top-level description was cleaned before the pass, while the names it is checked
        # against were still there; a nested one is not needed and is removed (X).
        if top and ctx.description:
            ds[tag] = _raw(tag, "LO", ctx.description)
        else:
            del ds[tag]

    # -- helpers -----------------------------------------------------------------------------

    def _remember(self, key: tuple, new: RawDataElement) -> RawDataElement:
        """Cache a replacement element: slices of a series repeat their UIDs and dates, and a
        RawDataElement is immutable, so datasets can share it."""
        if len(self._replacements) >= self._CACHE_LIMIT:
            self._replacements.clear()
        self._replacements[key] = new
        return new

    def _pseudonym_element(self, tag: BaseTag, pseudonym: str) -> RawDataElement:
        key = (int(tag), pseudonym)
        new = self._replacements.get(key)
        if new is None:
            new = self._remember(key, _raw(tag, "PN" if tag == _PATIENT_NAME else "LO", pseudonym))
        return new

    def _patient(self, patient_key: str, issuer: str) -> tuple[str, int]:
        key = (issuer, patient_key)
        found = self._patients.get(key)
        if found is None:
            if len(self._patients) >= self._CACHE_LIMIT:
                self._patients.clear()
            found = self._patients[key] = (
                patient_pseudonym(patient_key, self.secret, issuer),
                date_shift_days(patient_key, self.secret, issuer),
            )
        return found

    def _mark(self, ds: Dataset, pseudonym: str) -> None:
        """Write the pseudonym and the de-identification record (PS3.15 E.1.1, PS3.3 C.7.1.1)."""
        ds[_PATIENT_NAME] = self._pseudonym_element(_PATIENT_NAME, pseudonym)
        ds[_PATIENT_ID] = self._pseudonym_element(_PATIENT_ID, pseudonym)
        for tag, element in _MARKS:
            ds[tag] = element
        ds[_DEIDENTIFICATION_METHOD_CODES] = self._method_code_sequence(ds)

    def _method_code_sequence(self, ds: Dataset) -> RawDataElement:
        """DeidentificationMethodCodeSequence, encoded once per transfer syntax encoding.

        Building three items as Datasets costs more than the rest of the pass; the raw bytes
        are encoded like the dataset (a dataset never read from a file is converted on write).
        """
        implicit, little = ds.original_encoding
        encoding = (bool(implicit), little is not False)
        raw = self._method_codes.get(encoding)
        if raw is None:
            raw = self._method_codes[encoding] = _encode_sequence(
                _DEIDENTIFICATION_METHOD_CODES, _method_code_items(), *encoding
            )
        return raw

    def _clean_file_meta(self, ds: Dataset) -> None:
        """The file meta group and preamble travel with the file: clean them too."""
        preamble = getattr(ds, "preamble", None)
        if preamble and preamble.strip(b"\x00"):
            ds.preamble = b"\x00" * 128  # dual-format files hide a TIFF header (and more) here
        meta = getattr(ds, "file_meta", None)
        if meta is None:
            return
        for tag in list(meta.keys()):
            if int(tag) in _FILE_META_REMOVED:
                del meta[tag]
        if _MEDIA_STORAGE_SOP_INSTANCE_UID in meta:
            # The file's instance is the dataset's (PS3.10 7.1): the remapped SOPInstanceUID.
            if _SOP_INSTANCE_UID in ds:
                uids = _strings(ds, _SOP_INSTANCE_UID)  # already remapped
            else:
                uids = [
                    self.uid(uid) for uid in _strings(meta, _MEDIA_STORAGE_SOP_INSTANCE_UID) or ()
                ]
            if uids and uids[0]:
                meta[_MEDIA_STORAGE_SOP_INSTANCE_UID] = _raw(
                    _MEDIA_STORAGE_SOP_INSTANCE_UID, "UI", uids[0]
                )
            else:
                del meta[_MEDIA_STORAGE_SOP_INSTANCE_UID]


def _raw_key(tag: BaseTag, elem: _Element, *more: object) -> tuple | None:
    """The cache key of a replacement computed from a raw value; None for other elements."""
    if elem.is_raw and elem.value is not None:
        return (int(tag), elem.VR, elem.value, *more)
    return None


def _mask_action(tag: int) -> Action | None:
    group, element = tag >> 16, tag & 0xFFFF
    for rule_group, rule_element, group_mask, element_mask, action in _MASK_RULES:
        if group & group_mask == rule_group and element & element_mask == rule_element:
            return action
    return None


def _drop_empty_items(sequence: Sequence) -> None:
    # An item left empty (it held only private attributes) is no valid item.
    for index in range(len(sequence) - 1, -1, -1):
        if len(sequence[index]) == 0:
            del sequence[index]


def _method_code_items() -> Sequence:
    items = []
    for value, meaning in _METHOD_CODES:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    return Sequence(items)


def _encode_sequence(tag: BaseTag, items: Sequence, implicit: bool, little: bool) -> RawDataElement:
    """A sequence as a raw element whose bytes follow the given encoding."""
    buffer = DicomBytesIO()
    buffer.is_implicit_VR = implicit
    buffer.is_little_endian = little
    write_sequence(buffer, DataElement(tag, "SQ", items), ["iso8859"])
    data = buffer.getvalue()
    return RawDataElement(tag, "SQ", len(data), data, 0, implicit, little)

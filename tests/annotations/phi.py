"""Plant identifying values in a dataset, to prove that none of them survives de-identification.

``plant_phi(ds)`` writes a distinctive marker into every attribute of PS3.15 Table E.1-1 (the
basic profile, as ``dicom-anonymizer`` ships it) that a dataset can hold, into items of nested
sequences, into private attributes (with and without a private creator), into a curve and an
overlay, into the file meta group and the preamble. It returns every string that must not be
found afterwards, in stored files, database rows, API responses or logs: the markers, the
private creator names, the instance UIDs (those already in the dataset and those planted) and
the planted dates in three spellings (20210304, 2021-03-04, 2021.03.04).

Every marker starts with ``MARKER_PREFIX``, so searching for the prefix alone is a quick check.
Search case-insensitively: a few markers sit in attributes that a tool may upper-case.

What is not returned, because it cannot be told apart from ordinary values: times of day (kept
under the Modified Dates option), numbers (weight, size), ages (AS) and the sex. Tests check
those attributes by tag instead.

The planted values depend only on the tag and ``variant``: planting into every slice of a series
keeps it one series of one patient (instance UIDs already present are left as they are), and
``variant`` (0-9) gives a second patient distinct markers, patient ID included.
"""

import datetime

from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as annex_e
from pydicom.datadict import DicomDictionary
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence

MARKER_PREFIX = "PHI7Q3K"

TABLE_LISTS = (
    "D_TAGS",
    "Z_TAGS",
    "X_TAGS",
    "U_TAGS",
    "Z_D_TAGS",
    "X_Z_TAGS",
    "X_D_TAGS",
    "X_Z_D_TAGS",
    "X_Z_U_STAR_TAGS",
)

# Dates all lie within 102 days: a patient's date shift is at least 365 days, so a shifted
# planted date can never equal another planted date and be taken for a leak.
_BASE_DATE = datetime.date(2021, 3, 4)
_DATE_OFFSETS = (0, 17, 34, 51, 68, 85, 102)
BIRTH_DATE = "19540611"
PATIENT_AGE = "067Y"
PATIENT_SEX = "F"
TIME = "101112"

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
_KEPT_SEQUENCES = (0x00081140, 0x00082112)  # Referenced / Source Image Sequence (X/Z/U*)
_PRIVATE_GROUP = 0x0029
_ORPHAN_PRIVATE = 0x00331001  # a private element whose creator is missing


def table_tags() -> list[int]:
    """Every exact tag of Table E.1-1 (repeating groups aside), as ints."""
    tags = []
    for name in TABLE_LISTS:
        tags.extend((row[0] << 16) | row[1] for row in getattr(annex_e, name) if len(row) == 2)
    return tags


def date_spellings(da: str) -> list[str]:
    """A DA value as DICOM, ISO and ACR-NEMA write it."""
    return [da, f"{da[:4]}-{da[4:6]}-{da[6:]}", f"{da[:4]}.{da[4:6]}.{da[6:]}"]


def plant_phi(ds: Dataset, *, variant: int = 0) -> list[str]:
    """Plant identifying values in ``ds`` (in place); return the strings that must not survive."""
    if not 0 <= variant <= 9:
        raise ValueError("variant is one digit")
    return _Planter(ds, variant).plant()


class _Planter:
    def __init__(self, ds: Dataset, variant: int) -> None:
        self.ds = ds
        self.variant = variant
        self.count = 0
        self.found: list[str] = []
        self.creator = f"{MARKER_PREFIX} CREATOR {variant}"

    # -- values ---------------------------------------------------------------------------

    def marker(self) -> str:
        """A new marker of 13 characters: valid in every text VR, CS and AE included."""
        self.count += 1
        text = f"{MARKER_PREFIX}V{self.variant}N{self.count:03d}"
        self.found.append(text)
        return text

    def marker_bytes(self) -> bytes:
        return self.marker().encode("ascii").ljust(16, b" ")

    def uid(self) -> str:
        self.count += 1
        text = f"1.2.826.0.1.3680043.10.7737.{self.variant}.{1000 + self.count}"
        self.found.append(text)
        return text

    def date(self) -> str:
        day = _BASE_DATE + datetime.timedelta(days=_DATE_OFFSETS[self.count % len(_DATE_OFFSETS)])
        self.count += 1
        text = f"{day:%Y%m%d}"
        self.found.extend(date_spellings(text))
        return text

    def value(self, tag: int, vr: str) -> object:
        """A planted value of the VR; for a UID already present, the original is recorded."""
        if vr == "UI":
            elem = self.ds.get(tag)
            present = str(elem.value or "").strip("\x00 ") if elem is not None else ""
            if present:
                self.found.append(present)
                return present
            return self.uid()
        if vr in ("AE", "CS", "SH", "LO", "LT", "ST", "UT", "UC"):
            return self.marker()
        if vr == "PN":
            return f"{self.marker()}^{self.marker()}"
        if vr == "UR":
            return f"https://example.invalid/{self.marker()}"
        if vr == "DA":
            return self.date()
        if vr == "DT":
            return self.date() + TIME
        if vr == "TM":
            return TIME
        if vr == "AS":
            return PATIENT_AGE
        if vr in ("DS", "IS"):
            return "77"
        if vr in ("US", "SS", "UL", "SL", "UV", "SV", "AT"):
            return 77
        if vr in ("FL", "FD"):
            return 7.7
        if vr == "SQ":
            return Sequence([self.item()])
        return self.marker_bytes()  # OB, OW, OF, OD, OL, OV, UN

    def item(self) -> Dataset:
        """A code-like item with free text and a private attribute."""
        item = Dataset()
        item.CodeValue = self.marker()
        item.CodingSchemeDesignator = "99PHI"
        item.CodeMeaning = self.marker()
        item.TextValue = self.marker()
        self.private(item)
        return item

    def private(self, ds: Dataset) -> None:
        block = ds.private_block(_PRIVATE_GROUP, self.creator, create=True)
        block.add_new(0x01, "LO", self.marker())
        block.add_new(0x02, "OB", self.marker_bytes())

    # -- planting -------------------------------------------------------------------------

    def plant(self) -> list[str]:
        ds = self.ds
        self.found.append(self.creator)
        for tag in table_tags():
            if tag >> 16 in (0x0000, 0x0002):
                continue  # command and file meta groups: not dataset attributes
            entry = DicomDictionary.get(tag)
            vr = entry[0].split(" or ")[0] if entry else "UN"
            value = self.value(tag, vr)
            ds[tag] = DataElement(tag, vr, value)
        self.patient()
        self.kept_sequences()
        self.private(ds)
        block = ds.private_block(_PRIVATE_GROUP, self.creator)
        block.add_new(0x03, "SQ", Sequence([self.item()]))
        ds[_ORPHAN_PRIVATE] = DataElement(_ORPHAN_PRIVATE, "LO", self.marker())
        self.curve_and_overlay()
        self.file_meta()
        return list(dict.fromkeys(self.found))

    def patient(self) -> None:
        """Realistic values where the profile computes something from them."""
        ds = self.ds
        family, given = self.marker(), self.marker()
        ds.PatientName = f"{family}^{given}"
        ds.PatientID = self.marker()
        ds.PatientBirthDate = BIRTH_DATE
        self.found.extend(date_spellings(BIRTH_DATE))
        ds.PatientAge = PATIENT_AGE
        ds.PatientSex = PATIENT_SEX
        # Technicians type names into descriptions: the description must go with the name.
        ds.SeriesDescription = f"AXIAL {family}"

    def kept_sequences(self) -> None:
        """Items of the reference sequences that the profile keeps (X/Z/U*), nested twice."""
        for tag in _KEPT_SEQUENCES:
            purpose = Dataset()
            purpose.CodeValue = "121311"
            purpose.CodingSchemeDesignator = "DCM"
            purpose.CodeMeaning = "Localizer"
            purpose.PersonName = self.marker()  # D at any depth
            self.private(purpose)
            item = Dataset()
            item.ReferencedSOPClassUID = CT_IMAGE_STORAGE
            item.ReferencedSOPInstanceUID = self.uid()
            item.PurposeOfReferenceCodeSequence = Sequence([purpose])
            item.InstitutionName = self.marker()
            item.PatientID = self.marker()
            item.StudyDate = self.date()
            self.private(item)
            self.ds[tag] = DataElement(tag, "SQ", Sequence([item]))

    def curve_and_overlay(self) -> None:
        """A retired curve (group 5000) and an overlay (group 6000), text and data both marked."""
        ds = self.ds
        ds.add_new(0x50000005, "US", 1)  # Curve Dimensions
        ds.add_new(0x50002500, "LO", self.marker())  # Curve Label
        ds.add_new(0x50003000, "OB", self.marker_bytes())  # Curve Data
        ds.add_new(0x60000010, "US", 8)  # Overlay Rows
        ds.add_new(0x60000011, "US", 16)  # Overlay Columns
        ds.add_new(0x60000022, "LO", self.marker())  # Overlay Description
        ds.add_new(0x60000040, "CS", "G")  # Overlay Type
        ds.add_new(0x60000050, "SS", [1, 1])  # Overlay Origin
        ds.add_new(0x60000100, "US", 1)  # Overlay Bits Allocated
        ds.add_new(0x60000102, "US", 0)  # Overlay Bit Position
        ds.add_new(0x60003000, "OW", self.marker_bytes())  # Overlay Data (8 x 16 bits)
        ds.add_new(0x60004000, "LT", self.marker())  # Overlay Comments

    def file_meta(self) -> None:
        ds = self.ds
        if isinstance(ds, FileDataset) or getattr(ds, "preamble", None) is not None:
            ds.preamble = self.marker().encode("ascii").ljust(128, b"\x00")
        meta = getattr(ds, "file_meta", None)
        if meta is None:
            return
        meta.SourceApplicationEntityTitle = self.marker()
        meta.SendingApplicationEntityTitle = self.marker()
        meta.ReceivingApplicationEntityTitle = self.marker()
        meta.PrivateInformationCreatorUID = self.uid()
        meta.PrivateInformation = self.marker_bytes()
        sop = str(meta.get("MediaStorageSOPInstanceUID", "") or "").strip("\x00 ")
        if sop:
            self.found.append(sop)

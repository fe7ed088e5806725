"""Header conventions that vary between scans, as they do between real scanners and PACS exports.

An importer that works on one vendor's files only is no importer. Each scan picks, deterministically
from the seed, a pixel encoding, a vendor style, a transfer syntax, how instance numbers relate to
slice position (never rely on them), and how files are named. `cycled_choice` makes sure every
option appears in each block of 10 scans.
"""

from __future__ import annotations

from dataclasses import dataclass

from .dicomfile import ENCODINGS, PixelEncoding, VendorStyle
from .seeding import cycled_choice

VENDORS: tuple[VendorStyle, ...] = (
    VendorStyle(
        manufacturer="GE MEDICAL SYSTEMS",
        model="LightSpeed VCT",
        series_description="HEAD W/O 5mm",
        kernel="STANDARD",
        window_center=(40.0, 40.0),  # GE often writes two windows, brain and a wider one
        window_width=(80.0, 150.0),
        station_name="CTGE01",
        private_creator="GEMS_IDEN_01",
    ),
    VendorStyle(
        manufacturer="SIEMENS",
        model="SOMATOM Definition AS",
        series_description="CT KOPF NATIV 5.0",
        study_description="CCT nativ",
        kernel="H31s",
        kvp=120.0,
        station_name="CTAWP00001",
        spacing_between_slices=False,
        private_creator="SIEMENS CT VA0  COAD",
    ),
    VendorStyle(
        manufacturer="Philips",
        model="Brilliance 64",
        series_description="Brain STD",
        kernel="UB",
        window_center=(35.0,),
        window_width=(80.0,),
        station_name="PHILIPS-CT2",
    ),
    VendorStyle(
        manufacturer="TOSHIBA",
        model="Aquilion ONE",
        series_description="NCCT HEAD AXIAL",
        kernel="FC21",
        window_center=(40.0,),
        window_width=(120.0,),
        kvp=135.0,
        station_name="AQ1CT",
        spacing_between_slices=False,
    ),
    VendorStyle(
        manufacturer="GE MEDICAL SYSTEMS",
        model="Revolution CT",
        series_description="HEAD 5mm STND",
        kernel="SOFT",
        window_center=(40.0,),
        window_width=(100.0,),
        station_name="CTREV02",
    ),
)

# Instance number 1 at the most inferior slice, at the most superior one, or no order at all.
INSTANCE_ORDERS = ("inferior_first", "superior_first", "shuffled")
# Files named by a hash of the SOP instance UID (*.dcm) or like a PACS export (IM000123, no suffix).
FILE_NAMINGS = ("hashed", "export")


@dataclass(frozen=True)
class HeaderConvention:
    encoding: PixelEncoding
    vendor: VendorStyle
    implicit_vr: bool
    instance_order: str
    file_naming: str

    def describe(self) -> dict[str, object]:
        return {
            "encoding": self.encoding.name,
            "pixel_representation": self.encoding.pixel_representation,
            "bits_stored": self.encoding.bits_stored,
            "rescale_intercept": self.encoding.intercept,
            "rescale_slope": self.encoding.slope,
            "manufacturer": self.vendor.manufacturer,
            "series_description": self.vendor.series_description,
            "transfer_syntax": "implicit" if self.implicit_vr else "explicit",
            "instance_order": self.instance_order,
            "file_naming": self.file_naming,
        }


def choose_convention(seed: int, center: str | None, index: int) -> HeaderConvention:
    """The header convention of scan `index`; each option appears in any block of 10 scans."""
    return HeaderConvention(
        encoding=cycled_choice(seed, center, index, "encoding", ENCODINGS),
        vendor=cycled_choice(seed, center, index, "vendor", VENDORS),
        implicit_vr=cycled_choice(seed, center, index, "transfer", (False, True)),
        instance_order=cycled_choice(seed, center, index, "instances", INSTANCE_ORDERS),
        file_naming=cycled_choice(seed, center, index, "naming", FILE_NAMINGS),
    )

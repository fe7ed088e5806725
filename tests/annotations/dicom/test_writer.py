"""part10_bytes writes exactly what pydicom's own writer writes, raw elements or not."""

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement

from annotations.dicom.deid import Deidentifier
from annotations.dicom.writer import part10_bytes
from annotations.phantoms import PatientInfo, build_ct_dataset, dataset_bytes
from tests.annotations.phi import plant_phi


@pytest.fixture(autouse=True)
def data_dir():
    """Pure tests: no Django settings needed."""
    return None


def pydicom_bytes(ds) -> bytes:
    ds.preamble = b"\x00" * 128
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def read(raw: bytes):
    return pydicom.dcmread(io.BytesIO(raw))


def phantom(implicit: bool) -> bytes:
    pixels = np.arange(64 * 64, dtype=np.int16).reshape(64, 64) - 1000
    return dataset_bytes(build_ct_dataset(pixels, implicit_vr=implicit, patient=PatientInfo()))


SOURCES = {
    "phantom-implicit": lambda: phantom(True),
    "phantom-explicit": lambda: phantom(False),
    "ct-small-with-private-and-sequences": lambda: Path(
        get_testdata_file("CT_small.dcm")
    ).read_bytes(),
}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("deidentify", [False, True], ids=["as-read", "deidentified"])
def test_same_bytes_as_pydicom(source, deidentify):
    raw = SOURCES[source]()
    ours, theirs = read(raw), read(raw)
    if deidentify:
        Deidentifier("k").deidentify(ours)
        Deidentifier("k").deidentify(theirs)

    assert part10_bytes(ours) == pydicom_bytes(theirs)


def test_planted_and_converted_elements_round_trip():
    ds = read(phantom(False))
    plant_phi(ds)
    Deidentifier("k").deidentify(ds)
    ds.PatientName  # noqa: B018  (converted now: goes through pydicom's writer)

    back = read(part10_bytes(ds))

    assert back.PatientIdentityRemoved == "YES"
    assert back.SOPInstanceUID == ds.SOPInstanceUID
    assert np.array_equal(back.pixel_array, ds.pixel_array)


def test_compressed_datasets_are_refused():
    ds = read(phantom(False))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.RLELossless

    with pytest.raises(ValueError, match="cannot write"):
        part10_bytes(ds)


def test_odd_length_implicit_text_is_padded_with_a_space():
    ds = read(phantom(True))
    tag = 0x00281052  # RescaleIntercept, DS
    ds[tag] = RawDataElement(tag, None, 5, b"-1024", 0, True, True)

    raw = part10_bytes(ds)

    assert b"\x28\x00\x52\x10\x06\x00\x00\x00-1024 " in raw
    assert read(raw).RescaleIntercept == -1024

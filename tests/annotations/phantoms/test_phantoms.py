"""Tests of the synthetic head-CT phantom (annotations.phantoms): pure, no database, small matrices.

They pin what the rest of ICHLabel relies on: files that read back to the HU volume through the
rescale attributes, truth that matches the painted lesions, determinism from the seed, the subtype
mix, the variety of header conventions, and plausible anatomy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_rescale

from annotations.phantoms import (
    ENCODINGS,
    SUBTYPES,
    VENDORS,
    PatientInfo,
    PixelEncoding,
    Tissue,
    build_ct_dataset,
    choose_convention,
    dataset_bytes,
    generate_scan,
    scan_subtypes,
    write_phantoms,
)
from annotations.phantoms.conventions import FILE_NAMINGS, INSTANCE_ORDERS

REPO = Path(__file__).resolve().parents[3]
SEED = 7
SIZE = 64
N_SCANS = 10


@pytest.fixture(autouse=True)
def data_dir():
    """Shadows tests/conftest.py's data_dir, which needs pytest-django's settings: these tests are
    pure (they also run with -p no:django) and use no data directory."""
    return None


@pytest.fixture(scope="module")
def scans():
    return [generate_scan(SEED, i, size=SIZE) for i in range(N_SCANS)]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantoms")
    return out, write_phantoms(out, scans=N_SCANS, seed=SEED, size=SIZE)


def read_series(directory: Path) -> list[pydicom.Dataset]:
    """All files of a folder, in slice position order (by ImagePositionPatient z, never by name)."""
    datasets = [pydicom.dcmread(p) for p in directory.iterdir()]
    return sorted(datasets, key=lambda ds: float(ds.ImagePositionPatient[2]))


# ---- files and truth ---------------------------------------------------------------------------


def test_files_read_back_to_the_hu_volume(scans, written):
    _, results = written
    for scan, result in zip(scans, results, strict=True):
        series = read_series(result.directory)
        volume = np.stack([apply_rescale(ds.pixel_array, ds) for ds in series])
        assert np.array_equal(volume, scan.volume_hu), scan.name


def test_files_are_ct_image_storage_with_the_required_attributes(written):
    _, results = written
    ds = pydicom.dcmread(results[0].files[0])
    assert ds.file_meta.MediaStorageSOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    assert ds.Modality == "CT"
    assert list(ds.ImageType) == ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert (ds.SamplesPerPixel, ds.BitsAllocated, ds.HighBit) == (1, 16, ds.BitsStored - 1)
    assert float(ds.SliceThickness) == 5.0
    assert ds.RescaleType == "HU" and ds.BurnedInAnnotation == "NO"
    assert (ds.Rows, ds.Columns) == (SIZE, SIZE)
    assert float(ds.PixelSpacing[0]) * SIZE == pytest.approx(230, abs=1)
    for keyword in (
        "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge", "StudyDate",
        "StudyTime", "AccessionNumber", "InstitutionName", "ReferringPhysicianName",
        "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID",
        "ImagePositionPatient", "KVP", "Manufacturer", "SeriesDescription", "InstanceNumber",
        "WindowCenter", "WindowWidth", "RescaleIntercept", "RescaleSlope", "PixelRepresentation",
    ):  # fmt: skip
        assert keyword in ds, keyword
    assert str(ds.PatientName).startswith("PHANTOM^")


def test_truth_json_lists_every_file_in_position_order(written):
    out, results = written
    truth = json.loads((out / "truth.json").read_text())
    assert [e["scan"] for e in truth] == [r.name for r in results]
    for entry, result in zip(truth, results, strict=True):
        series = read_series(result.directory)
        slices = entry["slices"]
        assert [s["sop_instance_uid"] for s in slices] == [ds.SOPInstanceUID for ds in series]
        assert [s["instance_number"] for s in slices] == [ds.InstanceNumber for ds in series]
        assert [s["z_mm"] for s in slices] == [float(ds.ImagePositionPatient[2]) for ds in series]
        assert np.allclose(np.diff([s["z_mm"] for s in slices]), 5.0)
        assert {s["file"] for s in slices} == {p.name for p in result.directory.iterdir()}
        assert {ds.SeriesInstanceUID for ds in series} == {entry["series_instance_uid"]}
        assert {ds.StudyInstanceUID for ds in series} == {entry["study_instance_uid"]}
        assert series[0].PatientID == entry["patient_id"]
        for s in slices:
            assert s["any"] == any(s[t] for t in SUBTYPES)
        for t in SUBTYPES:
            assert entry[t] == any(s[t] for s in slices)
        assert entry["any"] == any(entry[t] for t in SUBTYPES)
        assert entry["synthetic"] is True


def test_positive_slices_hold_blood_density(scans):
    for scan in scans:
        for sl in scan.slices:
            for index, subtype in enumerate(SUBTYPES, start=1):
                pixels = scan.volume_hu[sl.position][scan.labels[sl.position] == index]
                assert len(pixels) == sl.lesion_pixels[subtype]
                if sl.flags[subtype]:
                    assert 45 <= np.median(pixels) <= 95, (scan.name, sl.position, subtype)


def test_truth_subtypes_are_the_planned_ones(scans):
    for scan in scans:
        assert scan.subtypes == scan_subtypes(SEED, scan.index), scan.name


def test_negative_scans_have_no_lesion_pixels(scans):
    negatives = [s for s in scans if not scan_subtypes(SEED, s.index)]
    assert negatives
    for scan in negatives:
        assert not scan.labels.any()
        assert not any(sl.any for sl in scan.slices)
        assert not scan.truth()["any"]


# ---- the mix -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 123456])
def test_every_ten_scans_hold_all_subtypes_and_four_negatives(seed):
    for start in (0, 10):
        plans = [scan_subtypes(seed, i) for i in range(start, start + 10)]
        assert sum(1 for p in plans if not p) == 4
        assert set().union(*plans) == set(SUBTYPES)
        assert all(1 <= len(p) <= 3 for p in plans if p)


def test_mixed_hemorrhage_occurs():
    plans = [scan_subtypes(s, i) for s in range(3) for i in range(10)]
    assert any(len(p) >= 2 for p in plans)
    assert any(len(p) == 1 for p in plans)


def test_all_five_subtypes_are_visible_in_a_written_set(scans):
    assert set().union(*(s.subtypes for s in scans)) == set(SUBTYPES)


# ---- determinism -------------------------------------------------------------------------------


def _all_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files(tmp_path):
    write_phantoms(tmp_path / "a", scans=3, seed=11, size=48)
    write_phantoms(tmp_path / "b", scans=3, seed=11, size=48)
    a, b = _all_bytes(tmp_path / "a"), _all_bytes(tmp_path / "b")
    assert a.keys() == b.keys() and a == b


def test_different_seed_gives_different_scans():
    a, b = generate_scan(1, 0, size=48), generate_scan(2, 0, size=48)
    assert a.study_uid != b.study_uid
    assert a.patient.patient_id != b.patient.patient_id
    assert a.volume_hu.shape != b.volume_hu.shape or not np.array_equal(a.volume_hu, b.volume_hu)


def test_centers_with_the_same_seed_do_not_collide(tmp_path):
    north = generate_scan(5, 0, size=32, center="North")
    south = generate_scan(5, 0, size=32, center="South")
    assert north.name != south.name
    assert north.patient.patient_id != south.patient.patient_id
    assert north.patient.name != south.patient.name
    assert north.study_uid != south.study_uid and north.series_uid != south.series_uid
    write_phantoms(tmp_path, scans=2, seed=5, size=32, center="North")
    write_phantoms(tmp_path, scans=2, seed=5, size=32, center="South")
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert len(truth) == 4  # both centers listed in the shared truth.json


def test_an_occupied_scan_folder_is_refused_unless_overwrite(tmp_path):
    write_phantoms(tmp_path, scans=1, seed=5, size=32)
    with pytest.raises(FileExistsError):
        write_phantoms(tmp_path, scans=1, seed=5, size=32)
    write_phantoms(tmp_path, scans=1, seed=6, size=32, overwrite=True)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert [e["seed"] for e in truth] == [6]


def test_a_follow_up_scan_shares_the_patient():
    first, follow_up = generate_scan(3, 4, size=32), generate_scan(3, 5, size=32)
    assert follow_up.patient.patient_id == first.patient.patient_id
    assert follow_up.study_uid != first.study_uid
    assert follow_up.patient.study_date > first.patient.study_date


# ---- header conventions ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7, 99])
def test_every_header_convention_shows_up_in_ten_scans(seed):
    conventions = [choose_convention(seed, None, i) for i in range(10)]
    assert {c.encoding for c in conventions} == set(ENCODINGS)
    assert {c.vendor for c in conventions} == set(VENDORS)
    assert {c.implicit_vr for c in conventions} == {True, False}
    assert {c.instance_order for c in conventions} == set(INSTANCE_ORDERS)
    assert {c.file_naming for c in conventions} == set(FILE_NAMINGS)


def test_written_headers_vary_between_scans(written):
    _, results = written
    firsts = [pydicom.dcmread(r.files[0]) for r in results]
    assert {ds.PixelRepresentation for ds in firsts} == {0, 1}
    assert {int(ds.BitsStored) for ds in firsts} == {12, 16}
    assert {float(ds.RescaleIntercept) for ds in firsts} >= {0.0, -1024.0}
    assert {ds.file_meta.TransferSyntaxUID for ds in firsts} == {
        pydicom.uid.ImplicitVRLittleEndian,
        pydicom.uid.ExplicitVRLittleEndian,
    }
    assert len({ds.SeriesDescription for ds in firsts}) >= 3
    assert len({ds.Manufacturer for ds in firsts}) >= 3


def test_instance_numbers_are_not_always_in_position_order(scans):
    orders = set()
    for scan in scans:
        numbers = [sl.instance_number for sl in scan.slices]
        assert sorted(numbers) == list(range(1, scan.n_slices + 1))
        if numbers == sorted(numbers):
            orders.add("ascending")
        elif numbers == sorted(numbers, reverse=True):
            orders.add("descending")  # superior first: positions run downwards in instance order
        else:
            orders.add("shuffled")
    assert orders == {"ascending", "descending", "shuffled"}


@pytest.mark.parametrize("encoding", ENCODINGS, ids=lambda e: e.name)
def test_each_encoding_round_trips_through_rescale(encoding):
    hu = np.linspace(-1100, 3200, 48 * 48).reshape(48, 48)
    ds = pydicom.dcmread(
        pydicom.filebase.DicomBytesIO(dataset_bytes(build_ct_dataset(hu, encoding=encoding)))
    )
    back = apply_rescale(ds.pixel_array, ds)
    assert np.array_equal(back, encoding.representable(hu))
    lo, hi = encoding.stored_range
    assert lo <= ds.pixel_array.min() and ds.pixel_array.max() <= hi


# ---- build_ct_dataset for crafting odd files ---------------------------------------------------


def test_build_ct_dataset_defaults_and_overrides():
    hu = np.full((40, 50), 30.0)
    ds = build_ct_dataset(
        hu,
        instance_number=7,
        position_mm=(-10.0, -20.0, 42.5),
        encoding=PixelEncoding("odd-slope", 0, 16, -2048.0, slope=0.5),
        patient=PatientInfo(name="ODD^FILE", patient_id="X1"),
        implicit_vr=True,
        overrides={"SeriesDescription": "ODD", "PatientBirthDate": None},
    )
    back = pydicom.dcmread(pydicom.filebase.DicomBytesIO(dataset_bytes(ds)))
    assert back.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
    assert (back.Rows, back.Columns, back.InstanceNumber) == (40, 50, 7)
    assert [float(v) for v in back.ImagePositionPatient] == [-10.0, -20.0, 42.5]
    assert back.SeriesDescription == "ODD" and "PatientBirthDate" not in back
    assert str(back.PatientName) == "ODD^FILE"
    assert np.array_equal(apply_rescale(back.pixel_array, back), hu)
    assert pydicom.uid.UID(back.SOPInstanceUID).is_valid


# ---- anatomy -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def negative_scan():
    index = next(i for i in range(10) if not scan_subtypes(3, i))
    return generate_scan(3, index, size=128)


def test_tissue_densities_are_plausible(negative_scan):
    scan = negative_scan
    ranges = {
        Tissue.AIR: (-1024, -985),
        Tissue.BONE_CORTEX: (1100, 1500),
        Tissue.BONE_DIPLOE: (650, 900),
        Tissue.GREY: (33, 43),
        Tissue.WHITE: (23, 33),
        Tissue.CSF: (0, 12),
        Tissue.SOFT: (30, 50),
    }
    for tissue, (lo, hi) in ranges.items():
        median = np.median(scan.volume_hu[scan.tissue == tissue])
        assert lo <= median <= hi, (tissue.name, median)
    noise = scan.volume_hu[scan.tissue == Tissue.WHITE].std()
    assert 3 <= noise <= 10


def test_head_grows_from_base_then_shrinks_to_vertex(negative_scan):
    scan = negative_scan
    assert 28 <= scan.n_slices <= 40
    area = (scan.tissue != Tissue.AIR).sum(axis=(1, 2))
    widest = int(np.argmax(area))
    assert 0.3 * scan.n_slices < widest < 0.7 * scan.n_slices
    assert area[0] < area[widest] and area[-1] < 0.5 * area[widest]


def test_skull_is_thicker_at_the_base(negative_scan):
    scan = negative_scan
    bone = np.isin(scan.tissue, (Tissue.BONE_CORTEX, Tissue.BONE_DIPLOE)).sum(axis=(1, 2))
    head = (scan.tissue != Tissue.AIR).sum(axis=(1, 2))
    share = bone / head
    n = scan.n_slices
    assert share[: n // 5].mean() > 1.5 * share[2 * n // 5 : 3 * n // 5].mean()


def test_ventricles_sit_mid_head_and_brain_fills_the_skull(negative_scan):
    scan = negative_scan
    n = scan.n_slices
    middle = scan.tissue[int(0.45 * n)]
    centre = middle[40:88, 40:88]  # the central 48 x 48 pixels (86 mm)
    assert (centre == Tissue.CSF).sum() > 20  # lateral ventricles
    brain = np.isin(middle, (Tissue.GREY, Tissue.WHITE, Tissue.DEEP_GREY)).sum()
    assert brain > 0.5 * (middle != Tissue.AIR).sum()


def test_slice_count_varies_between_scans(scans):
    assert len({s.n_slices for s in scans}) >= 3
    assert all(28 <= s.n_slices <= 40 for s in scans)


# ---- lesion shapes -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lesion_scans():
    wanted, found = set(SUBTYPES), {}
    for seed in range(6):
        for i in range(10):
            plan = scan_subtypes(seed, i)
            if len(plan) == 1 and (subtype := next(iter(plan))) in wanted:
                wanted.discard(subtype)
                found[subtype] = generate_scan(seed, i, size=128)
    assert not wanted
    return found


def _positive_positions(scan, subtype):
    return [sl.position for sl in scan.slices if sl.flags[subtype]]


def test_ivh_lies_below_a_horizontal_fluid_level(lesion_scans):
    scan = lesion_scans["ivh"]
    code = SUBTYPES.index("ivh") + 1
    rows = np.nonzero(scan.labels == code)[1]
    level = rows.min()
    for k in _positive_positions(scan, "ivh"):
        ventricle_rows = np.nonzero((scan.tissue[k] == Tissue.CSF)[:, :] & (scan.labels[k] == 0))[0]
        blood_rows = np.nonzero(scan.labels[k] == code)[0]
        assert blood_rows.min() >= level  # one level for all slices: gravity, not anatomy
        assert blood_rows.mean() > 64  # the dependent (posterior) half of the image
        assert len(ventricle_rows)


def test_extra_axial_blood_touches_the_inner_table(lesion_scans):
    for subtype in ("sdh", "edh"):
        scan = lesion_scans[subtype]
        code = SUBTYPES.index(subtype) + 1
        bone = np.isin(scan.tissue, (Tissue.BONE_CORTEX, Tissue.BONE_DIPLOE))
        near_bone = bone.copy()
        for axis in (1, 2):
            near_bone |= np.roll(bone, 1, axis) | np.roll(bone, -1, axis)
        assert (near_bone & (scan.labels == code)).any(), subtype


def test_sdh_spans_more_slices_than_edh_is_thick(lesion_scans):
    assert len(_positive_positions(lesion_scans["sdh"], "sdh")) >= 5
    edh = lesion_scans["edh"]
    assert 2 <= len(_positive_positions(edh, "edh")) <= 10


def test_iph_is_a_parenchymal_blob(lesion_scans):
    scan = lesion_scans["iph"]
    code = SUBTYPES.index("iph") + 1
    k = max(_positive_positions(scan, "iph"), key=lambda p: scan.slices[p].lesion_pixels["iph"])
    blob = scan.labels[k] == code
    rows, cols = np.nonzero(blob)
    box = (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
    assert blob.sum() > 0.4 * box  # compact, not a thin rim


def test_sah_replaces_csf_spaces(lesion_scans):
    scan = lesion_scans["sah"]
    assert len(_positive_positions(scan, "sah")) >= 2


# ---- the management command --------------------------------------------------------------------


def test_make_phantoms_command_prints_json(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "make_phantoms", str(tmp_path), "--scans", "2",
         "--seed", "3", "--size", "32", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    summary = json.loads(result.stdout)
    assert summary["total_scans"] == 2 and summary["synthetic"] is True
    assert (tmp_path / "truth.json").exists()
    assert all(Path(s["directory"]).is_dir() for s in summary["scans"])

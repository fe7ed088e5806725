"""Exports of a frozen ground-truth version: exact CSV contents for a hand-made study, the RSNA
2019 layout, byte-identical files on every run and after new labels, DICOM SRs that read back
as TID 1500 with the scan's instances and the labelled findings, filters, and the role x
export matrix (raw reader labels for coordinators only, readers never)."""

import csv
import io
import json
import zipfile

import highdicom as hd
import pydicom
import pytest
from pydicom.sr.codedict import codes
from rest_framework.test import APIClient

from annotations.exports import (
    EXPORT_KINDS,
    HEMORRHAGE_CODES,
    ExportFilters,
    export_write,
    iter_reader_labels_csv,
    iter_rsna_csv,
    iter_scans_csv,
    iter_slices_csv,
    iter_sr_zip,
)
from annotations.ground_truth.services import ground_truth_freeze
from annotations.models import Center, ReadKind, ReadLevel, Scan
from annotations.reading.services import LabelChange, read_assign, slice_labels_save
from tests.annotations.study_factories import (
    label_and_complete,
    make_scan,
    scan_label_and_complete,
)
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

KINDS = tuple(EXPORT_KINDS)


@pytest.fixture
def study():
    """A validation scan read three times (2-of-3 votes), a training scan read once, a test
    scan read at scan level three times, frozen into version ``v1``."""
    people = {
        "coordinator": user_with_role("coord", "coordinator"),
        "ml_engineer": user_with_role("mleng", "ml_engineer"),
        "reader": user_with_role("neuroA", "neuroradiologist"),
        "reader_b": user_with_role("neuroB", "neuroradiologist"),
        "reader_c": user_with_role("neuroC", "neuroradiologist"),
    }
    readers = [people["reader"], people["reader_b"], people["reader_c"]]
    kinds = [ReadKind.PRIMARY, ReadKind.CROSS, ReadKind.CROSS]
    validation = make_scan(center="Center V", split="validation", slices=3)
    reads = [
        read_assign(scan=validation, reader=reader, kind=kind)
        for reader, kind in zip(readers, kinds, strict=True)
    ]
    # Slice 0: IPH by all; slice 1: SDH by two of three; slice 2: EDH by one only.
    label_and_complete(reads[0], {0: {"iph": True}, 1: {"sdh": True}, 2: {"edh": True}})
    label_and_complete(reads[1], {0: {"iph": True, "ivh": True}, 1: {"no_hemorrhage": True}})
    label_and_complete(reads[2], {0: {"iph": True}, 1: {"sdh": True}})
    train = make_scan(center="Center T", split="train", slices=2)
    label_and_complete(
        read_assign(scan=train, reader=people["reader_b"]), {1: {"sah": True, "ivh": True}}
    )
    test_scan = make_scan(center="Center P", split="test", slices=2)
    for reader, kind, values in zip(
        readers,
        kinds,
        ({"sah": True}, {"sah": True, "sdh": True}, {"no_hemorrhage": True}),
        strict=True,
    ):
        read = read_assign(scan=test_scan, reader=reader, kind=kind, level=ReadLevel.SCAN)
        scan_label_and_complete(read, values)
    version = ground_truth_freeze(name="v1 (validation)", created_by=people["coordinator"])
    return {
        "people": people,
        "version": version,
        "validation": validation,
        "train": train,
        "test": test_scan,
    }


def text(chunks) -> str:
    return b"".join(chunks).decode()


def rows(chunks) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text(chunks))))


def uid_order(*scans):
    """Scans in the byte order of their series UIDs (the exports' order)."""
    return sorted(scans, key=lambda scan: scan.series_instance_uid.encode())


def test_slices_csv_lists_each_slice_with_its_majority_labels(study):
    validation, train = study["validation"], study["train"]
    expected = {
        validation.pk: [
            [0, 1, 1, 0, 0, 0, 0],  # IPH 3/3, IVH 1/3
            [1, 1, 0, 0, 0, 1, 0],  # SDH 2/3
            [2, 0, 0, 0, 0, 0, 0],  # EDH 1/3
        ],
        train.pk: [[0, 0, 0, 0, 0, 0, 0], [1, 1, 0, 1, 1, 0, 0]],
    }
    lines = ["patient_pseudonym,series_instance_uid,slice_index,sop_instance_uid,"
             "any,iph,ivh,sah,sdh,edh"]  # fmt: skip
    for scan in uid_order(validation, train):
        for index, *flags in expected[scan.pk]:
            sop = f"{scan.series_instance_uid}.{index + 1}"
            values = ",".join(str(flag) for flag in flags)
            lines.append(
                f"{scan.patient.pseudonym},{scan.series_instance_uid},{index},{sop},{values}"
            )

    assert text(iter_slices_csv(version=study["version"])) == "\n".join(lines) + "\n"


def test_rsna_csv_has_six_rows_per_slice_in_the_challenge_order(study):
    table = rows(iter_rsna_csv(version=study["version"]))

    assert table[0] == ["ID", "Label"]
    assert len(table) - 1 == 6 * study["version"].slice_count == 30
    sop = f"{study['validation'].series_instance_uid}.2"  # slice 1: SDH
    start = [row[0] for row in table].index(f"ID_{sop}_epidural")
    assert table[start : start + 6] == [
        [f"ID_{sop}_epidural", "0"],
        [f"ID_{sop}_intraparenchymal", "0"],
        [f"ID_{sop}_intraventricular", "0"],
        [f"ID_{sop}_subarachnoid", "0"],
        [f"ID_{sop}_subdural", "1"],
        [f"ID_{sop}_any", "1"],
    ]
    assert all(row[0].startswith("ID_") and row[1] in {"0", "1"} for row in table[1:])


def test_scans_csv_holds_slice_and_scan_level_ground_truth(study):
    validation, train, test_scan = study["validation"], study["train"], study["test"]
    expected = {
        validation.pk: ["Center V", "validation", "slice", "3", "2", "1", "1", "0", "0", "1", "0",
                        "3", "0"],
        train.pk: ["Center T", "train", "slice", "2", "1", "1", "0", "1", "1", "0", "0", "1", "0"],
        test_scan.pk: ["Center P", "test", "scan", "2", "", "1", "0", "0", "1", "0", "0", "3",
                       "0"],
    }  # fmt: skip

    table = rows(iter_scans_csv(version=study["version"]))

    assert table[0] == ["patient_pseudonym", "series_instance_uid", "center", "split", "level",
                        "slice_count", "positive_slices", "any", "iph", "ivh", "sah", "sdh",
                        "edh", "reads", "adjudicated"]  # fmt: skip
    assert table[1:] == [
        [scan.patient.pseudonym, scan.series_instance_uid, *expected[scan.pk]]
        for scan in uid_order(validation, train, test_scan)
    ]


def test_reader_labels_csv_has_every_slice_of_every_voting_read(study):
    table = rows(iter_reader_labels_csv(version=study["version"]))
    header, body = table[0], table[1:]
    by_key = {(row[1], row[2], row[6]): dict(zip(header, row, strict=True)) for row in body}
    validation, test_scan = study["validation"], study["test"]

    # 3 reads x 3 slices + 1 read x 2 slices + 3 scan-level reads
    assert len(body) == 9 + 2 + 3
    assert header == ["patient_pseudonym", "series_instance_uid", "reader", "read_kind",
                      "read_status", "read_level", "slice_index", "sop_instance_uid", "iph",
                      "ivh", "sah", "sdh", "edh", "no_hemorrhage", "label_version"]  # fmt: skip
    labelled = by_key[(validation.series_instance_uid, "neuroB", "0")]
    assert (labelled["read_kind"], labelled["read_status"], labelled["read_level"]) == (
        "cross", "completed", "slice",
    )  # fmt: skip
    assert [labelled[k] for k in ("iph", "ivh", "sah", "sdh", "edh", "no_hemorrhage")] == [
        "1", "1", "0", "0", "0", "0",
    ]  # fmt: skip
    assert labelled["label_version"] == "1"
    unlabelled = by_key[(validation.series_instance_uid, "neuroB", "2")]
    assert unlabelled["iph"] == "" and unlabelled["label_version"] == "0"
    scan_level = by_key[(test_scan.series_instance_uid, "neuroB", "")]
    assert scan_level["read_level"] == "scan" and scan_level["sop_instance_uid"] == ""
    assert (scan_level["sah"], scan_level["sdh"], scan_level["no_hemorrhage"]) == ("1", "1", "0")
    # Ordered by series UID, then reader, then slice.
    keys = [(row[1].encode(), row[2].encode(), int(row[6] or -1)) for row in body]
    assert keys == sorted(keys)


def all_exports(version, filters: ExportFilters | None = None) -> dict[str, bytes]:
    filters = filters or ExportFilters()
    out = {}
    for name, kind in EXPORT_KINDS.items():
        buffer = io.BytesIO()
        export_write(buffer, kind.chunks(version=version, filters=filters))
        out[name] = buffer.getvalue()
    return out


def test_exports_are_byte_identical_on_every_run_and_after_new_labels(study):
    version = study["version"]
    first = all_exports(version)

    # Unrelated work after the freeze: a new read of a frozen scan, and labels on a new scan.
    late = user_with_role("late", "neuroradiologist")
    label_and_complete(read_assign(scan=study["validation"], reader=late), {2: {"edh": True}})
    other = read_assign(scan=make_scan(split="train", center="Center T"), reader=late)
    slice_labels_save(
        read_id=other.pk,
        reader=late,
        changes=[LabelChange(slice_index=0, values={"sah": True}, expected_version=0)],
    )
    # The study reorganised: the validation scan's center renamed and moved to another split.
    center = study["validation"].center
    Center.objects.filter(pk=center.pk).update(name="Center Renamed", split="test")
    Scan.objects.filter(center=center).update(split="test")
    second = all_exports(version)
    kept = all_exports(version, ExportFilters(split="validation", center_id=center.pk))

    assert set(first) == set(KINDS)
    scans = kept["scans.csv"].decode().splitlines()  # filters use the frozen split and center
    assert len(scans) == 2 and ",Center V,validation," in scans[1]
    for name in KINDS:
        assert first[name] == second[name], name
        assert first[name]


def read_zip(data: bytes) -> tuple[dict, dict[str, pydicom.Dataset]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names[-1] == "manifest.json"
        manifest = json.loads(archive.read("manifest.json"))
        files = {
            name: pydicom.dcmread(io.BytesIO(archive.read(name)))
            for name in names
            if name.endswith(".dcm")
        }
    return manifest, files


def presence(group) -> dict[str, str]:
    """A measurement group's evaluations as {class code: SNOMED present/absent code}."""
    return {e.name.value: e.value.value for e in group.get_qualitative_evaluations()}


def classes(**positive: bool) -> dict[str, str]:
    present, absent = codes.SCT.Present.value, codes.SCT.Absent.value
    return {
        HEMORRHAGE_CODES[name].value: present if positive.get(name) else absent
        for name in ("any_ich", "iph", "ivh", "sah", "sdh", "edh")
    }


def test_sr_zip_holds_a_tid_1500_report_per_scan_with_the_labelled_findings(study):
    version, validation = study["version"], study["validation"]

    manifest, files = read_zip(b"".join(iter_sr_zip(version=version)))

    assert manifest["ground_truth_version"]["content_sha256"] == version.content_sha256
    assert manifest["ground_truth_version"]["name"] == "v1 (validation)"
    assert [entry["path"] for entry in manifest["files"]] == sorted(files)
    assert len(files) == 3
    ds = files[f"sr/{validation.series_instance_uid}.dcm"]
    sr = hd.sr.Comprehensive3DSR.from_dataset(ds)
    assert ds.SOPClassUID == pydicom.uid.Comprehensive3DSRStorage
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    assert ds.StudyInstanceUID == validation.study_instance_uid
    assert ds.PatientID == validation.patient.pseudonym
    assert ds.ContentDate == version.created_at.strftime("%Y%m%d")
    evidence = ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert evidence.SeriesInstanceUID == validation.series_instance_uid
    assert sorted(item.ReferencedSOPInstanceUID for item in evidence.ReferencedSOPSequence) == (
        sorted(validation.slices.values_list("sop_instance_uid", flat=True))
    )
    report = hd.sr.MeasurementReport.from_sequence(sr.content)
    groups = {
        str(group.tracking_identifier): group for group in report.get_image_measurement_groups()
    }
    assert set(groups) == {"slice 0", "slice 1", "scan"}
    slice_0 = groups["slice 0"]
    assert slice_0.finding_type == HEMORRHAGE_CODES["any_ich"]
    assert [image.referenced_sop_instance_uid for image in slice_0.source_images] == [
        f"{validation.series_instance_uid}.1"
    ]
    assert presence(slice_0) == classes(any_ich=True, iph=True)
    assert presence(groups["slice 1"]) == classes(any_ich=True, sdh=True)
    assert presence(groups["scan"]) == classes(any_ich=True, iph=True, sdh=True)


def test_sr_of_a_scan_level_scan_has_only_the_scan_finding(study):
    _, files = read_zip(b"".join(iter_sr_zip(version=study["version"])))
    ds = files[f"sr/{study['test'].series_instance_uid}.dcm"]

    report = hd.sr.MeasurementReport.from_sequence(hd.sr.Comprehensive3DSR.from_dataset(ds).content)

    groups = report.get_image_measurement_groups()
    assert [str(group.tracking_identifier) for group in groups] == ["scan"]
    assert presence(groups[0]) == classes(any_ich=True, sah=True)


def test_filters_limit_every_export_to_the_chosen_scans(study):
    version, validation = study["version"], study["validation"]

    by_split = all_exports(version, ExportFilters(split="validation"))
    by_center = all_exports(version, ExportFilters(center_id=study["train"].center_id))

    assert len(rows([by_split["slices.csv"]])) == 1 + 3
    assert len(rows([by_split["rsna.csv"]])) == 1 + 18
    assert [row[1] for row in rows([by_split["scans.csv"]])[1:]] == [validation.series_instance_uid]
    assert {row[1] for row in rows([by_split["reader-labels.csv"]])[1:]} == {
        validation.series_instance_uid
    }
    _, files = read_zip(by_split["sr.zip"])
    assert list(files) == [f"sr/{validation.series_instance_uid}.dcm"]
    assert [row[2] for row in rows([by_center["scans.csv"]])[1:]] == ["Center T"]


# -- API ---------------------------------------------------------------------------------------

ACTORS = ("coordinator", "ml_engineer", "reader", "anonymous")
EXPECTED = {
    "coordinator": dict.fromkeys(KINDS, 200),
    "ml_engineer": {**dict.fromkeys(KINDS, 200), "reader-labels.csv": 403},
    "reader": dict.fromkeys(KINDS, 403),
    "anonymous": dict.fromkeys(KINDS, 403),
}


def client_as(study, actor: str) -> APIClient:
    client = APIClient()
    if actor != "anonymous":
        client.force_authenticate(study["people"][actor])
    return client


def url(version_id: int, kind: str, query: str = "") -> str:
    return f"/api/v1/ground-truth/{version_id}/exports/{kind}/{query}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("actor", ACTORS)
def test_role_by_export_matrix(study, actor, kind):
    response = client_as(study, actor).get(url(study["version"].pk, kind))

    assert response.status_code == EXPECTED[actor][kind], (actor, kind)
    if response.status_code == 200:
        assert response.streaming
        body = b"".join(response.streaming_content)
        assert body == all_exports(study["version"])[kind]
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert f"ichlabel-gt-v1-validation-v{study['version'].pk}-" in disposition
        assert response["X-Ground-Truth-SHA256"] == study["version"].content_sha256
        assert response["X-Ground-Truth-Name"] == "v1%20%28validation%29"
    else:
        assert response.json()["message"]


def test_api_filters_and_names_the_file_after_them(study):
    client = client_as(study, "coordinator")
    center = study["train"].center_id

    response = client.get(url(study["version"].pk, "scans.csv", f"?center={center}"))
    invalid = client.get(url(study["version"].pk, "scans.csv", "?split=holdout"))

    assert response.status_code == 200
    assert f"-center-{center}-scans.csv" in response["Content-Disposition"]
    table = rows(response.streaming_content)
    assert [row[2] for row in table[1:]] == ["Center T"]
    assert invalid.status_code == 400


def test_missing_version_or_kind_is_404_whatever_the_client_accepts(study):
    client = client_as(study, "coordinator")
    version_id = study["version"].pk

    missing = client.get(url(version_id + 1000, "slices.csv"), HTTP_ACCEPT="text/csv")
    unknown = client.get(url(version_id, "labels.xlsx"))

    assert missing.status_code == 404 and missing.json()["message"]
    assert unknown.status_code == 404

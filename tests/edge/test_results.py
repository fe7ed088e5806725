"""Results for the PACS (``ichlabel_edge.results``): the Comprehensive 3D SR and the key slices'
secondary captures of a scored phantom series, written as files and read back with pydicom and
highdicom. The SR is filed with the source study, unverified, names the model and build, and
holds every class with its score, threshold and decision; a positive class references its key
slice, and that slice comes back as a capture in the brain window."""

from dataclasses import replace

import highdicom as hd
import numpy as np
import pydicom
import pytest
from ichlabel_edge.results import (
    BRAIN_WINDOW,
    CLASS_CODES,
    PRIVATE_SCHEME,
    comprehensive_3d_sr,
    key_slice_captures,
)
from ichlabel_edge.runner import score_series
from pydicom.pixels import apply_modality_lut
from pydicom.sr.codedict import codes
from pydicom.uid import Comprehensive3DSRStorage, SecondaryCaptureImageStorage

from modelops.ml.preprocess import window

POSITIVE = ("any", "iph", "sah")


@pytest.fixture
def scored_build(phantom, active):
    """The active build with thresholds that make any, IPH and SAH positive (each exactly at
    its score) and the rest negative, and the phantom scored with it."""
    scores = score_series(phantom.datasets, active).scan_scores
    thresholds = {
        c: scores[c] if c in POSITIVE else float(np.nextafter(scores[c], 2.0)) for c in scores
    }
    build = replace(active, manifest={**active.manifest, "thresholds": thresholds})
    return score_series(phantom.datasets, build), build.manifest


def written(tmp_path, dataset, name):
    path = tmp_path / name
    pydicom.dcmwrite(path, dataset, enforce_file_format=True)
    return path


def content_items(sequence):
    """Every content item under ``sequence``, depth first."""
    for item in sequence:
        yield item
        yield from content_items(item.get("ContentSequence", []))


def text_values(ds, code_value):
    return [
        str(item.TextValue)
        for item in content_items(ds.ContentSequence)
        if item.ValueType == "TEXT" and item.ConceptNameCodeSequence[0].CodeValue == code_value
    ]


# The SR


def test_the_sr_reads_back_filed_with_the_study_and_unverified(tmp_path, phantom, scored_build):
    scored, manifest = scored_build
    path = written(tmp_path, comprehensive_3d_sr(phantom.datasets, scored, manifest), "sr.dcm")

    ds = pydicom.dcmread(path)
    sr = hd.sr.srread(path)

    assert isinstance(sr, hd.sr.Comprehensive3DSR)
    assert ds.SOPClassUID == Comprehensive3DSRStorage
    assert ds.VerificationFlag == "UNVERIFIED" and "VerifyingObserverSequence" not in ds
    assert ds.CompletionFlag == "COMPLETE"
    source = phantom.datasets[0]
    for keyword in ("StudyInstanceUID", "PatientID", "PatientName", "AccessionNumber", "StudyID"):
        assert ds[keyword].value == source[keyword].value
    assert ds.SeriesInstanceUID != source.SeriesInstanceUID
    assert ds.SOPInstanceUID not in phantom.sop_uids
    assert ds.SeriesDescription == "ICH AI result (build 1)"
    assert ds.Manufacturer == "ICHLabel"
    evidence = ds.CurrentRequestedProcedureEvidenceSequence[0]
    referenced = evidence.ReferencedSeriesSequence[0]
    assert evidence.StudyInstanceUID == source.StudyInstanceUID
    assert referenced.SeriesInstanceUID == source.SeriesInstanceUID
    assert sorted(r.ReferencedSOPInstanceUID for r in referenced.ReferencedSOPSequence) == sorted(
        phantom.sop_uids
    )


def test_the_sr_names_the_model_and_build(tmp_path, phantom, scored_build):
    scored, manifest = scored_build
    ds = pydicom.dcmread(
        written(tmp_path, comprehensive_3d_sr(phantom.datasets, scored, manifest), "sr.dcm")
    )

    equipment = [e for e in ds.ContributingEquipmentSequence if e.Manufacturer == "ICHLabel"]
    assert len(equipment) == 1
    assert equipment[0].ManufacturerModelName == "edge-test-1"
    assert equipment[0].SoftwareVersions == "1"
    assert equipment[0].PurposeOfReferenceCodeSequence[0].CodeValue == "109102"  # processing
    observer = hd.sr.Comprehensive3DSR.from_dataset(ds).content.get_observer_contexts()
    assert len(observer) == 1
    assert text_values(ds, "121013") == ["edge-test-1 build 1"]  # Device Observer Name
    assert text_values(ds, "121014") == ["ICHLabel"]  # Device Observer Manufacturer
    assert text_values(ds, "121015") == ["edge-test-1"]  # Device Observer Model Name
    assert text_values(ds, "111001") == ["edge-test-1"] * 6  # Algorithm Name, per class
    assert text_values(ds, "111003") == ["1"] * 6  # Algorithm Version
    declared = [s.CodingSchemeDesignator for s in ds.CodingSchemeIdentificationSequence]
    assert declared == [PRIVATE_SCHEME]


def test_every_class_is_in_the_sr_with_its_score_threshold_and_decision(
    tmp_path, phantom, scored_build
):
    scored, manifest = scored_build
    path = written(tmp_path, comprehensive_3d_sr(phantom.datasets, scored, manifest), "sr.dcm")

    groups = hd.sr.srread(path).content.get_image_measurement_groups()

    assert [g.finding_type.value for g in groups] == [CLASS_CODES[c].value for c in scored.classes]
    for name, group in zip(scored.classes, groups, strict=True):
        values = {m.name.value: m.value for m in group.get_measurements()}
        assert values["SCAN_SCORE"] == pytest.approx(scored.scan_scores[name], abs=1e-9)
        assert values["122411"] == pytest.approx(scored.thresholds[name], abs=1e-9)
        (evaluation,) = group.get_qualitative_evaluations()
        assert evaluation.name.value == CLASS_CODES[name].value
        expected = codes.SCT.Present if name in POSITIVE else codes.SCT.Absent
        assert evaluation.value.value == expected.value
        if name in POSITIVE:  # the key slice, and its score there
            key = scored.key_slice(name)
            (image,) = group.source_images
            assert image.referenced_sop_instance_uid == key.sop_instance_uid
            assert values["SLICE_SCORE"] == pytest.approx(key.scores[name], abs=1e-9)
        else:
            assert group.source_images == [] and "SLICE_SCORE" not in values


def test_the_same_series_and_build_give_the_same_uids(phantom, scored_build):
    scored, manifest = scored_build
    first = comprehensive_3d_sr(phantom.datasets, scored, manifest)
    again = comprehensive_3d_sr(phantom.datasets, scored, manifest)
    other = comprehensive_3d_sr(
        phantom.datasets, replace(scored, build=2), {**manifest, "build": 2}
    )

    assert (first.SOPInstanceUID, first.SeriesInstanceUID) == (
        again.SOPInstanceUID,
        again.SeriesInstanceUID,
    )
    assert first.SOPInstanceUID != other.SOPInstanceUID
    assert first.SeriesInstanceUID != other.SeriesInstanceUID


# The captures


def test_each_key_slice_comes_back_as_a_capture_in_the_brain_window(
    tmp_path, phantom, scored_build
):
    scored, manifest = scored_build
    captures = key_slice_captures(phantom.datasets, scored, manifest)
    key_uids = sorted(
        {scored.key_slice(name).sop_instance_uid for name in POSITIVE},
        key=phantom.sop_uids.index,
    )
    sr = comprehensive_3d_sr(phantom.datasets, scored, manifest)
    by_uid = {str(ds.SOPInstanceUID): ds for ds in phantom.datasets}

    assert len(captures) == len(key_uids)
    for number, (capture, uid) in enumerate(zip(captures, key_uids, strict=True), start=1):
        ds = pydicom.dcmread(written(tmp_path, capture, f"sc{number}.dcm"))
        source = by_uid[uid]
        assert ds.SOPClassUID == SecondaryCaptureImageStorage
        assert ds.StudyInstanceUID == source.StudyInstanceUID
        assert ds.PatientID == source.PatientID
        assert ds.SeriesInstanceUID not in (source.SeriesInstanceUID, sr.SeriesInstanceUID)
        assert ds.SeriesDescription == "ICH AI key slices (build 1)"
        assert ds.InstanceNumber == number
        assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == uid
        assert list(ds.PatientOrientation) == ["L", "P"]
        hu = apply_modality_lut(source.pixel_array, source).astype(np.float32)
        expected = np.round(window(hu, *BRAIN_WINDOW) * 255.0).astype(np.uint8)
        assert np.array_equal(ds.pixel_array, expected)
        assert "Unverified AI" in ds.ImageComments
    assert len({c.SeriesInstanceUID for c in captures}) == 1


def test_a_negative_series_gives_an_sr_of_absent_findings_and_no_captures(
    tmp_path, phantom, active
):
    negative = replace(
        active,
        manifest={**active.manifest, "thresholds": dict.fromkeys(active.manifest["classes"], 2.0)},
    )
    scored = score_series(phantom.datasets, negative)

    path = written(
        tmp_path, comprehensive_3d_sr(phantom.datasets, scored, negative.manifest), "sr.dcm"
    )
    groups = hd.sr.srread(path).content.get_image_measurement_groups()

    assert scored.positive == [] and scored.key_slices == {}
    assert all(
        g.get_qualitative_evaluations()[0].value.value == codes.SCT.Absent.value for g in groups
    )
    assert key_slice_captures(phantom.datasets, scored, negative.manifest) == []

"""Occlusion maps of the key slices (``ichlabel_edge.saliency``) and their captures for the PACS:
a square's weight is the drop of the whole model's score at the key slice without that square
(the build's two ONNX parts held to the whole model), and each positive class's key slice comes
back from a file as an RGB secondary capture with the map laid over it."""

from dataclasses import replace

import numpy as np
import pydicom
from ichlabel_edge.results import SALIENCY_SERIES_NUMBER, saliency_captures
from ichlabel_edge.runner import score_series
from ichlabel_edge.runtime import open_session, predict_scan
from ichlabel_edge.saliency import Occlusion, weights
from pydicom.uid import SecondaryCaptureImageStorage

GRID = 4


def test_a_squares_weight_is_the_whole_models_score_drop_without_it(phantom, active):
    scored = score_series(phantom.datasets, active)
    occlusion = Occlusion.of(active, grid=GRID)
    assert occlusion is not None
    whole = open_session(active.directory / "model.onnx")
    images = scored.images
    features = occlusion._features(images)
    checked = 0
    for k in (0, len(images) // 2):
        base = predict_scan(whole, images).slices[k]
        brute = []  # every class's drop per square, by the whole model
        for square in occlusion._hidden(images[k]):
            hidden = images.copy()
            hidden[k] = square
            brute.append(base - predict_scan(whole, hidden).slices[k])
        drops = occlusion.drops(images[k], features, k)
        for column in range(len(scored.classes)):
            expected = np.clip(np.array(brute)[:, column], 0, None).reshape(GRID, GRID)
            if expected.max() <= 1e-5:
                continue  # nothing here raises this class's score: no shape to compare
            got = weights(drops[:, column], GRID)
            assert np.allclose(got, expected / expected.max(), atol=1e-2), (k, column)
            checked += 1
    assert checked >= 2


def test_each_positive_class_gets_a_capture_with_its_map(phantom, active, tmp_path):
    scores = score_series(phantom.datasets, active).scan_scores
    positive = ("any", "sdh")
    thresholds = {c: 0.0 if c in positive else float(np.nextafter(scores[c], 2.0)) for c in scores}
    build = replace(active, manifest={**active.manifest, "thresholds": thresholds})
    scored = score_series(phantom.datasets, build)
    maps = Occlusion.of(build, grid=GRID).maps(scored)

    captures = saliency_captures(phantom.datasets, scored, maps, build.manifest)

    assert [m.name for m in maps] == list(positive) and len(captures) == 2
    for key_map, capture in zip(maps, captures, strict=True):
        path = tmp_path / f"{key_map.name}.dcm"
        pydicom.dcmwrite(path, capture, enforce_file_format=True)
        ds = pydicom.dcmread(path)
        source = phantom.datasets[0]
        assert ds.SOPClassUID == SecondaryCaptureImageStorage
        assert ds.PhotometricInterpretation == "RGB" and ds.SeriesNumber == SALIENCY_SERIES_NUMBER
        assert ds.StudyInstanceUID == source.StudyInstanceUID
        assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == (
            scored.slices[key_map.slice_index].sop_instance_uid
        )
        pixels = ds.pixel_array.astype(int)
        weights = key_map.at(ds.Rows, ds.Columns)
        if weights.max() > 0:  # the heaviest square is tinted red: more red than green there
            row, column = np.unravel_index(np.argmax(weights), weights.shape)
            assert pixels[row, column, 0] > pixels[row, column, 1]
        assert np.array_equal(pixels[weights <= 0.2, 0], pixels[weights <= 0.2, 1])  # gray
    assert len({c.SeriesInstanceUID for c in captures}) == 1

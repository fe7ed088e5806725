"""The health check (``ichlabel_edge.health``): the build's model, run here on its test scan,
gives the scores the manifest recorded, within its tolerance; anything else is refused with the
reason. The checks run on builds that verify, as an install runs them."""

import json

import numpy as np
import pytest
from ichlabel_edge.health import health_check

from modelops.builds.manifest import MANIFEST_NAME, BuildRefused


def manifest_of(directory) -> dict:
    return json.loads((directory / MANIFEST_NAME).read_bytes())


def test_the_model_gives_the_recorded_scores(build):
    source = build(1)

    check = health_check(source, manifest_of(source))

    assert check.max_abs_diff <= check.tolerance == 1e-4
    assert check.slices == 6 and check.inference_ms > 0
    assert set(check.as_dict()) == {"max_abs_diff", "tolerance", "slices", "inference_ms"}


def test_slice_scores_off_by_more_than_the_tolerance_are_refused(build):
    source = build(1)
    manifest = manifest_of(source)
    manifest["health_check"]["slice_scores"][3][2] += 2e-4

    with pytest.raises(BuildRefused, match=r"build 1: health check failed: .* by 2\.\d+e-04"):
        health_check(source, manifest)


def test_a_test_scan_of_another_size_is_refused(build, model_files):
    scan = np.load(model_files.test_scan)[:, :16, :16]
    source = build(1, test_scan=scan)

    with pytest.raises(BuildRefused, match=r"test scan is uint8 \(6, 16, 16, 3\), not uint8"):
        health_check(source, manifest_of(source))


def test_a_test_scan_that_is_not_an_array_is_refused(build):
    source = build(1)
    (source / "test_scan.npy").write_bytes(b"not numpy")

    with pytest.raises(BuildRefused, match="test scan cannot be read"):
        health_check(source, manifest_of(source))


def test_scores_of_another_shape_are_refused(build, model_files):
    source = build(1, scan_scores=model_files.scan_scores[:5])

    with pytest.raises(BuildRefused, match=r"scores of shape \(6,\) .* the manifest \(5,\)"):
        health_check(source, manifest_of(source))


def test_a_runtime_other_than_onnx_is_refused(build):
    source = build(1)
    manifest = manifest_of(source)
    manifest["runtime"]["format"] = "tensorrt"

    with pytest.raises(BuildRefused, match="runtime 'tensorrt' is not onnx"):
        health_check(source, manifest)

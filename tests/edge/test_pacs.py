"""Watching a real PACS (``ichlabel_edge.pacs``): Debian's Orthanc with its DICOMweb plugin holds
two phantom head CT series and, in the same studies, a localizer, a contrast series and a series
whose instances name a contrast agent. The watcher finds exactly the phantom series, only once
their instance count has held still, retrieves every instance, and after a restart does not
find the series it handled."""

import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from ichlabel_edge.pacs import PacsUnreachable, PacsWatcher, dicomweb_client
from ichlabel_edge.slots import NodeError
from pydicom.uid import ExplicitVRLittleEndian

from tests.edge.orthanc import free_port
from tests.edge.series import stable_series

STABLE_S = 1.0


def watcher(orthanc, data_dir: Path) -> PacsWatcher:
    return PacsWatcher(dicomweb_client(orthanc.dicomweb_url), data_dir, stable_s=STABLE_S)


def test_the_rules_find_the_phantom_series_and_not_the_localizer_or_contrast(
    orthanc, series_files, tmp_path
):
    orthanc.upload([f for s in series_files.all for f in s.files])
    pacs = watcher(orthanc, tmp_path / "node")
    rules_only = PacsWatcher(
        dicomweb_client(orthanc.dicomweb_url),
        tmp_path / "rules-only",
        stable_s=STABLE_S,
        exclude_contrast=False,
    )

    assert pacs.new_series(date.today()) == []  # seen once: not stable yet
    assert rules_only.new_series(date.today()) == []
    time.sleep(STABLE_S + 0.2)
    found = pacs.new_series(date.today())

    assert {(s.study_instance_uid, s.series_instance_uid, s.instances) for s in found} == {
        (p.study_instance_uid, p.series_instance_uid, len(p.files)) for p in series_files.phantoms
    }
    assert {s.selection for s in found} == {"Non-contrast head CT"}
    assert pacs.new_series(date.today() + timedelta(days=1)) == []  # studies dated before since
    # The rules alone leave the localizer and the contrast series by its description; the
    # series that only names its agent is left by the contrast guard.
    localizer, by_description, by_agent = series_files.others
    assert {s.series_instance_uid for s in rules_only.new_series(date.today())} == {
        *(p.series_instance_uid for p in series_files.phantoms),
        by_agent.series_instance_uid,
    }


def test_a_series_still_arriving_is_not_returned_until_its_count_holds(
    orthanc, series_files, tmp_path
):
    phantom = series_files.phantoms[0]
    orthanc.upload(phantom.files[:10])
    pacs = watcher(orthanc, tmp_path)
    assert stable_series(pacs) != []  # ten instances, unchanged for STABLE_S: stable so far

    orthanc.upload(phantom.files[10:])
    assert pacs.new_series(date.today()) == []  # more arrived: the clock starts again
    time.sleep(STABLE_S + 0.2)
    (found,) = pacs.new_series(date.today())

    assert found.series_instance_uid == phantom.series_instance_uid
    assert found.instances == len(phantom.files)
    assert STABLE_S <= found.waited_s < STABLE_S + 5  # measured since the count last changed


def test_retrieve_returns_every_instance_uncompressed(orthanc, series_files, tmp_path):
    phantom = series_files.phantoms[1]
    orthanc.upload(phantom.files)
    (series,) = stable_series(watcher(orthanc, tmp_path))

    datasets = watcher(orthanc, tmp_path).retrieve(series)

    assert {str(ds.SOPInstanceUID) for ds in datasets} == phantom.sop_instance_uids
    assert {ds.file_meta.TransferSyntaxUID for ds in datasets} == {ExplicitVRLittleEndian}
    assert all(ds.pixel_array.shape == (64, 64) for ds in datasets)


def test_a_restarted_watcher_does_not_find_handled_series_again(orthanc, series_files, tmp_path):
    orthanc.upload([f for s in series_files.all for f in s.files])
    first = watcher(orthanc, tmp_path)
    found = {s.series_instance_uid: s for s in stable_series(first)}
    handled, left = series_files.phantoms
    first.mark_handled(found[handled.series_instance_uid], "scored")
    assert [s.series_instance_uid for s in first.new_series(date.today())] == [
        left.series_instance_uid
    ]

    restarted = watcher(orthanc, tmp_path)

    assert [s.series_instance_uid for s in stable_series(restarted)] == [left.series_instance_uid]
    record = restarted.handled()
    assert list(record) == [handled.series_instance_uid]
    assert record[handled.series_instance_uid]["outcome"] == "scored"
    assert record[handled.series_instance_uid]["selection"] == "Non-contrast head CT"


def test_a_pacs_that_does_not_answer_is_worth_retrying(tmp_path):
    pacs = PacsWatcher(
        dicomweb_client(f"http://127.0.0.1:{free_port()}/dicom-web", attempts=1), tmp_path
    )

    with pytest.raises(PacsUnreachable, match="did not answer"):
        pacs.new_series(date.today())


@pytest.mark.parametrize("record", ["{not json", '{"handled": {}}', '{"series": {"1.2": {}}}'])
def test_a_damaged_record_of_handled_series_is_refused_not_forgotten(tmp_path, record):
    (tmp_path / "pacs").mkdir()
    (tmp_path / "pacs" / "handled.json").write_text(record)

    with pytest.raises(NodeError, match="handled"):
        PacsWatcher(dicomweb_client("http://127.0.0.1:9/dicom-web"), tmp_path)

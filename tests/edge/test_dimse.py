"""Watching a real PACS over DIMSE (``ichlabel_edge.dimse``): Debian's Orthanc with its DICOM port
open (in a network namespace of its own, reached through relays on 127.0.0.1: ``orthanc.py``)
holds the phantom series and, in the same studies, a localizer and contrast series
(``series.pacs_series``). Over C-FIND the watcher finds exactly the phantom series once they are
stable; C-GET retrieves every instance; C-STORE writes the node's SR and captures back; a wrong
AE title is refused and a closed port unreachable, with the peer named; a handled series is not
scored again, through the agent's own Scanner and after a restart."""

import io
import urllib.request
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pydicom
import pytest
from highdicom.sr import Comprehensive3DSR
from ichlabel_edge.agent import agent_of
from ichlabel_edge.config import Dimse, load_config
from ichlabel_edge.dimse import UNCOMPRESSED, DimseWatcher
from ichlabel_edge.outbox import Outbox
from ichlabel_edge.results import comprehensive_3d_sr, key_slice_captures
from ichlabel_edge.runner import score_series
from ichlabel_edge.scanning import Scanner
from ichlabel_edge.watching import PacsError, PacsUnreachable

from tests.edge.orthanc import (
    EDGE_AE,
    PACS_AE,
    Orthanc,
    free_port,
    orthanc_for_test,
)
from tests.edge.series import stable_series

STABLE_S = 1.0
TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def dimse_server(tmp_path_factory):
    """One Orthanc with its DICOM port for the module (``orthanc.py``); skipped where it cannot
    run, except under CI, as ``conftest.orthanc_server``; skipped, with the reason, on a machine
    that grants no network namespace (Orthanc's DICOM port must not listen beyond 127.0.0.1)."""

    server = orthanc_for_test(tmp_path_factory.mktemp("orthanc-dimse"), dicom=True)
    yield server
    server.stop()


@pytest.fixture
def pacs(dimse_server) -> Orthanc:
    """The module's Orthanc, emptied for this test."""
    dimse_server.clear()
    return dimse_server


def peer(pacs: Orthanc, **changes) -> Dimse:
    assert pacs.dicom_port is not None
    return replace(Dimse("127.0.0.1", pacs.dicom_port, PACS_AE, EDGE_AE, TIMEOUT_S), **changes)


def watcher(pacs: Orthanc, data_dir: Path, **options) -> DimseWatcher:
    return DimseWatcher(peer(pacs), data_dir, **{"stable_s": STABLE_S, **options})


def test_c_find_finds_the_phantom_series_and_not_the_localizer_or_contrast(
    pacs, series_files, tmp_path
):
    pacs.upload([f for s in series_files.all for f in s.files])
    node = watcher(pacs, tmp_path / "node")
    rules_only = watcher(pacs, tmp_path / "rules-only", exclude_contrast=False)

    assert node.new_series(date.today()) == []  # seen once: not stable yet
    found = stable_series(node)

    assert {(s.study_instance_uid, s.series_instance_uid, s.instances) for s in found} == {
        (p.study_instance_uid, p.series_instance_uid, len(p.files)) for p in series_files.phantoms
    }
    assert {s.selection for s in found} == {"Non-contrast head CT"}
    # The series that names its agent only in its instances is left by the contrast guard.
    by_agent = series_files.others[2]
    assert {s.series_instance_uid for s in stable_series(rules_only)} == {
        *(p.series_instance_uid for p in series_files.phantoms),
        by_agent.series_instance_uid,
    }


def test_c_get_retrieves_every_instance_readable_by_pydicom(pacs, series_files, tmp_path):
    phantom = series_files.phantoms[1]
    pacs.upload(phantom.files)
    node = watcher(pacs, tmp_path)
    (series,) = stable_series(node)

    datasets = node.retrieve(series)

    assert {str(ds.SOPInstanceUID) for ds in datasets} == phantom.sop_instance_uids
    assert {ds.file_meta.TransferSyntaxUID for ds in datasets} <= set(UNCOMPRESSED)
    sources = {str(s.SOPInstanceUID): s for s in map(pydicom.dcmread, phantom.files)}
    for ds in datasets:
        assert np.array_equal(ds.pixel_array, sources[str(ds.SOPInstanceUID)].pixel_array)


def test_the_sr_and_captures_are_stored_with_c_store(pacs, series_files, tmp_path, active):
    phantom = series_files.phantoms[0]
    datasets = [pydicom.dcmread(f) for f in phantom.files]
    # Every class positive: a key slice, and so a capture, for each.
    thresholds = dict.fromkeys(active.manifest["thresholds"], 0.0)
    build = replace(active, manifest={**active.manifest, "thresholds": thresholds})
    scored = score_series(datasets, build)
    sr = comprehensive_3d_sr(datasets, scored, build.manifest)
    captures = key_slice_captures(datasets, scored, build.manifest)
    assert captures

    watcher(pacs, tmp_path).store([sr, *captures])

    by_modality = {s["MainDicomTags"]["Modality"]: s for s in pacs.rest("GET", "/series?expand")}
    assert set(by_modality) == {"SR", "OT"}
    assert len(by_modality["OT"]["Instances"]) == len(captures)
    (instance,) = by_modality["SR"]["Instances"]
    with urllib.request.urlopen(f"{pacs.url}/instances/{instance}/file") as answer:  # noqa: S310
        stored = pydicom.dcmread(io.BytesIO(answer.read()))
    assert stored.SOPInstanceUID == sr.SOPInstanceUID
    assert stored.StudyInstanceUID == phantom.study_instance_uid
    assert stored.VerificationFlag == "UNVERIFIED"
    assert Comprehensive3DSR.from_dataset(stored) is not None


def test_a_wrong_called_ae_title_is_refused_naming_the_peer(pacs, tmp_path):
    wrong = DimseWatcher(peer(pacs, called_ae="NOT-THE-PACS"), tmp_path)

    with pytest.raises(PacsError, match=f"NOT-THE-PACS at 127.0.0.1:{pacs.dicom_port} rejected"):
        wrong.new_series(date.today())


def test_a_calling_ae_the_pacs_does_not_know_gets_no_series(pacs, series_files, tmp_path):
    """Orthanc accepts the association but ends it at the C-FIND it does not allow."""
    pacs.upload(series_files.phantoms[0].files)
    stranger = DimseWatcher(peer(pacs, calling_ae="STRANGER"), tmp_path, stable_s=0)

    with pytest.raises(PacsUnreachable, match=f"{PACS_AE} at 127.0.0.1:{pacs.dicom_port} ended"):
        stranger.new_series(date.today())


def test_a_closed_port_is_worth_retrying_and_named(tmp_path):
    port = free_port()
    closed = DimseWatcher(Dimse("127.0.0.1", port, PACS_AE, EDGE_AE, TIMEOUT_S), tmp_path)

    with pytest.raises(PacsUnreachable, match=f"{PACS_AE} at 127.0.0.1:{port} did not answer"):
        closed.new_series(date.today())


def test_a_series_is_scored_once_through_the_scanner_and_not_after_a_restart(
    pacs, series_files, active, node
):
    """The node's round over DIMSE: the series is found, retrieved, scored, its SR stored back
    and its result put in the outbox; the next round, and a restarted node, score nothing."""
    phantom = series_files.phantoms[0]
    pacs.upload(phantom.files)
    data_dir = node.config.data_dir
    (data_dir / "link_key").write_text("ab" * 32)  # what enrol keeps (scanning.LINK_KEY)

    def scanner() -> Scanner:
        return Scanner(watcher(pacs, data_dir, stable_s=0), Outbox(data_dir), data_dir)

    first = scanner()
    (done,) = first.round(active)

    assert "decision" in done and done["stored"] >= 1, done
    assert len(Outbox(data_dir).waiting()) == 1
    modalities = [s["MainDicomTags"]["Modality"] for s in pacs.rest("GET", "/series?expand")]
    assert sorted(modalities).count("SR") == 1
    assert first.round(active) == []
    assert scanner().round(active) == []
    (record,) = scanner().watcher.handled().values()
    assert record["outcome"] == "scored" and record["study_instance_uid"] == (
        phantom.study_instance_uid
    )


def test_the_agent_watches_over_dimse_when_the_config_says_so(tmp_path, node):
    config = node.config_path
    token = tmp_path / "token"
    token.write_text("node-token")
    token.chmod(0o600)
    node.config.data_dir.mkdir(parents=True, exist_ok=True)
    (node.config.data_dir / "link_key").write_text("ab" * 32)
    config.write_text(
        config.read_text()
        + f'\n[ichlabel]\nurl = "http://127.0.0.1:9"\ntoken_file = "{token}"\n'
        + '\n[pacs]\nstable_s = 5\ndimse = { host = "127.0.0.1", port = 11112, '
        + 'called_ae = "PACS", calling_ae = "NODE-1", timeout_s = 3 }\n'
    )

    agent = agent_of(load_config(config))

    assert agent.scanner is not None
    assert isinstance(agent.scanner.watcher, DimseWatcher)
    assert agent.scanner.watcher.peer == Dimse("127.0.0.1", 11112, "PACS", "NODE-1", 3.0)
    assert agent.scanner.watcher.stable_s == 5

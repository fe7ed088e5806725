"""Who may call what: every API route of the URL conf, with the status each role gets.

The routes come from the URL conf itself (every route under /api/, each HTTP method its view
answers), so a route added without a row in ``MATRIX`` fails ``test_every_api_route_has_a_row``
and a row whose route is gone fails ``test_every_row_names_an_api_route``.

Roles (columns): anonymous; ``owner``, the neuroradiologist who holds the read (and has a read of
the scan) named in the URL; ``other``, a neuroradiologist of the same study who does not;
coordinator; ML engineer; admin (a superuser, who passes every role check but owns no read).

Each request is made with real rows. A write that a role may not make must be refused (403, or
404 where the object is not the caller's to see) and leave every row as it was. A write that a
role may make is sent with an invalid body where its view validates one (400: the request got
past the permission layer, nothing changed); writes whose check needs a valid body (the reader's
own read: another reader's read must not exist for them) and writes without a body are made for
real. The API schema and its docs page are public by design (the frontend's types and the docs
are generated from them).

Rules that need more than a status (blinding of labels, released versions only, raw reader
labels for coordinators only) stay with their feature's tests, except one: every ground-truth
route a reader reaches answers without the fields withheld from readers (read counts,
adjudication, totals over the study).
"""

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from tests.conftest import _point_settings_at, user_with_role

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "owner", "other", "coordinator", "ml_engineer", "admin")
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Row:
    """The status per role, in ``ROLES`` order, and what the request sends."""

    anonymous: int
    owner: int
    other: int
    coordinator: int
    ml_engineer: int
    admin: int
    body: Any = None  # a dict, or a callable of the world giving one
    query: str = ""
    kwargs: dict = field(default_factory=dict)  # URL arguments that differ from the world's
    format: str = "json"

    def status(self, role: str) -> int:
        return getattr(self, role)


# The registry's routes name a model version as ``version_id``, as ground truth's name theirs.
MODEL = {"version_id": "model_version"}
# Saliency routes name their run ``run_id``, as training's do (a UUID there).
SALIENCY = {"run_id": "saliency_run"}
# A Likert case's token is its own, not its map's.
LIKERT_CASE = {"token": "likert_case"}
# The maps of the owner's scan, computed for the ML engineer (not released to readers).
SCAN_MAPS = {"run_id": "scan_saliency_run"}

# The released copy of the frozen version (the version of the other rows stays unreleased).
RELEASED = {"version_id": "released_version"}

# The reader study (its ``study_id`` and ``read_id`` are its own, not the Likert study's and
# the reading view's).
READER_STUDY = {"study_id": "reader_study"}
READER_STUDY_READ = {"read_id": "reader_study_read"}

# fmt: off
MATRIX: dict[tuple[str, str], Row] = {
    # route name, method:              anon owner other coord  ml  admin
    # Schema and docs: public by design.
    ("api-schema", "get"):         Row(200, 200, 200, 200, 200, 200),
    ("api-docs", "get"):           Row(200, 200, 200, 200, 200, 200),
    # Ingest: coordinators import; ML engineers see centers and scans.
    ("center-list", "get"):        Row(403, 403, 403, 200, 200, 200),
    ("center-create", "post"):     Row(403, 403, 403, 400, 403, 400, body={"name": ""}),
    ("center-split-set", "post"):  Row(403, 403, 403, 400, 403, 400, body={"split": "x"}),
    ("center-split-change", "get"): Row(403, 403, 403, 200, 403, 200, query="split=test"),
    ("scan-list", "get"):          Row(403, 403, 403, 200, 200, 200),
    ("scan-detail", "get"):        Row(403, 403, 403, 200, 200, 200),
    ("import-batch-list", "get"):  Row(403, 403, 403, 200, 403, 200),
    ("import-batch-create", "post"): Row(403, 403, 403, 400, 403, 400, body={"center": ""}),
    ("import-batch-detail", "get"): Row(403, 403, 403, 200, 403, 200),
    # No files in the request (multipart): 400.
    ("import-batch-files-add", "post"): Row(403, 403, 403, 400, 403, 400, body={},
                                            format="multipart"),
    # Nothing was uploaded to the batch: 400.
    ("import-batch-start", "post"): Row(403, 403, 403, 400, 403, 400),
    ("import-batch-cancel", "post"): Row(403, 403, 403, 200, 403, 200),
    # Reading: a reader's own reads; another's read does not exist for them (404).
    ("slice-file", "get"):         Row(403, 200, 404, 200, 200, 200),
    ("worklist", "get"):           Row(403, 200, 200, 403, 403, 200),
    ("read-detail", "get"):        Row(403, 200, 404, 403, 403, 404),
    ("slice-labels-save", "post"): Row(403, 200, 404, 403, 403, 404, body={
        "changes": [{"slice_index": 0, "version": 0, "iph": True}]}),
    ("read-progress", "post"):     Row(403, 200, 404, 403, 403, 404, body={
        "viewed": [0], "slice_index": 0, "seconds": 1.5}),
    ("read-flags-set", "post"):    Row(403, 200, 404, 403, 403, 404, body=lambda world: {
        "artifact": True, "version": world["read_version"]}),
    # Slices never shown: 409 for the owner, and the read stays open.
    ("read-complete", "post"):     Row(403, 409, 404, 403, 403, 404, body={"unseen_ok": False}),
    ("scan-label", "get"):         Row(403, 200, 404, 403, 403, 404,
                                       kwargs={"read_id": "scan_read"}),
    ("scan-label", "post"):        Row(403, 200, 404, 403, 403, 404,
                                       body={"version": 0, "sah": True},
                                       kwargs={"read_id": "scan_read"}),
    # Assignment: coordinators.
    ("scans-assign", "post"):      Row(403, 403, 403, 400, 403, 400, body={"dry_run": "x"}),
    ("study-read-list", "get"):    Row(403, 403, 403, 200, 403, 200),
    ("read-reassign", "post"):     Row(403, 403, 403, 400, 403, 400, body={"reader": "x"}),
    ("read-unassign", "post"):     Row(403, 403, 403, 400, 403, 400, body={"force": "x"}),
    ("read-change", "get"):        Row(403, 403, 403, 200, 403, 200),
    ("reader-workload", "get"):    Row(403, 403, 403, 200, 403, 200),
    # Adjudication: coordinators.
    ("adjudication-list", "get"):  Row(403, 403, 403, 200, 403, 200),
    ("adjudication-missing-reads", "post"): Row(403, 403, 403, 200, 403, 200),
    ("adjudication-split-votes", "post"): Row(403, 403, 403, 400, 403, 400,
                                              body={"subtypes": []}),
    ("adjudication-detail", "get"): Row(403, 403, 403, 200, 403, 200),
    ("adjudication-resolve", "post"): Row(403, 403, 403, 400, 403, 400, body={}),
    # Ground truth: coordinators freeze and release; coordinators and ML engineers see whole
    # versions. Readers have a view of their own: released versions, the scans they read (the
    # owner and the other reader both read the validation scan), nothing of how the truth was
    # reached (test_reader_ground_truth_holds_no_withheld_field); an unreleased version does
    # not exist for them (tests/annotations/ground_truth/test_reader_view.py).
    ("ground-truth-list", "get"):  Row(403, 403, 403, 200, 200, 200),
    ("ground-truth-freeze", "post"): Row(403, 403, 403, 400, 403, 400, body={}),
    ("ground-truth-compare", "get"): Row(403, 403, 403, 200, 200, 200,
                                         query="a={version_id}&b={version_id}"),
    ("ground-truth-detail", "get"): Row(403, 403, 403, 200, 200, 200),
    ("ground-truth-release", "post"): Row(403, 403, 403, 200, 403, 200),
    ("ground-truth-release-consequences", "get"): Row(403, 403, 403, 200, 403, 200),
    ("ground-truth-scans", "get"): Row(403, 403, 403, 200, 200, 200),
    ("ground-truth-slices", "get"): Row(403, 403, 403, 200, 200, 200,
                                        kwargs={"scan_id": "validation_scan"}),
    ("ground-truth-export", "get"): Row(403, 403, 403, 200, 200, 200),
    # Exports built as jobs: each user's own (here the coordinator's, not the ML engineer's).
    ("export-job-start", "post"):  Row(403, 403, 403, 400, 400, 400, body={"kind": "x"}),
    ("export-job-detail", "get"):  Row(403, 403, 403, 200, 404, 404),
    ("export-job-file", "get"):    Row(403, 403, 403, 200, 404, 404),
    # A queued export: canceled at once.
    ("export-job-cancel", "post"): Row(403, 403, 403, 200, 404, 404,
                                       kwargs={"job_id": "pending_export"}),
    ("reader-ground-truth-list", "get"): Row(403, 200, 200, 403, 403, 200),
    ("reader-ground-truth-detail", "get"): Row(403, 200, 200, 403, 403, 404, kwargs=RELEASED),
    ("reader-ground-truth-scans", "get"): Row(403, 200, 200, 403, 403, 404, kwargs=RELEASED),
    ("reader-ground-truth-slices", "get"): Row(403, 200, 200, 403, 403, 404,
                                               kwargs={**RELEASED, "scan_id": "validation_scan"}),
    # Agreement and progress: coordinators.
    ("agreement", "get"):          Row(403, 403, 403, 200, 403, 200, query="n_boot=0"),
    ("agreement-csv", "get"):      Row(403, 403, 403, 200, 403, 200, query="n_boot=0"),
    ("progress", "get"):           Row(403, 403, 403, 200, 403, 200),
    ("progress-csv", "get"):       Row(403, 403, 403, 200, 403, 200),
    # Modelops: ML engineers act, coordinators watch.
    ("snapshot-list", "get"):      Row(403, 403, 403, 200, 200, 200),
    ("snapshot-list", "post"):     Row(403, 403, 403, 403, 400, 400, body={"ground_truth": "x"}),
    ("snapshot-detail", "get"):    Row(403, 403, 403, 200, 200, 200),
    # A queued build: canceled at once.
    ("snapshot-cancel", "post"):   Row(403, 403, 403, 403, 200, 200,
                                       kwargs={"snapshot_id": "pending_snapshot"}),
    ("training-config", "get"):    Row(403, 403, 403, 200, 200, 200),
    ("training-run-list", "get"):  Row(403, 403, 403, 200, 200, 200),
    ("training-run-list", "post"): Row(403, 403, 403, 403, 400, 400, body={"snapshot": "x"}),
    ("training-run-detail", "get"): Row(403, 403, 403, 200, 200, 200),
    # A queued run: canceled at once.
    ("training-run-cancel", "post"): Row(403, 403, 403, 403, 200, 200,
                                         kwargs={"run_id": "pending_run"}),
    ("training-run-log", "get"):   Row(403, 403, 403, 200, 200, 200),
    ("model-version-list", "get"): Row(403, 403, 403, 200, 200, 200),
    ("model-version-detail", "get"): Row(403, 403, 403, 200, 200, 200, kwargs=MODEL),
    ("model-version-status", "post"): Row(403, 403, 403, 403, 400, 400, body={"status": "x"},
                                          kwargs=MODEL),
    ("model-version-artifact", "get"): Row(403, 403, 403, 200, 200, 200, kwargs=MODEL),
    # Saliency maps: ML engineers compute them, coordinators watch; the overlays of a run are
    # the ML engineer's view (the method is named), never a reader's.
    ("saliency-run-list", "get"):  Row(403, 403, 403, 200, 200, 200),
    ("saliency-run-list", "post"): Row(403, 403, 403, 403, 400, 400,
                                       body={"model_version": "x"}),
    ("saliency-run-detail", "get"): Row(403, 403, 403, 200, 200, 200, kwargs=SALIENCY),
    # A queued run: canceled at once.
    ("saliency-run-cancel", "post"): Row(403, 403, 403, 403, 200, 200, kwargs=SALIENCY),
    ("saliency-slice-list", "get"): Row(403, 403, 403, 200, 200, 200, kwargs=SALIENCY),
    ("saliency-overlay", "get"):   Row(403, 403, 403, 200, 200, 200),
    # The Likert study: coordinators set it up and close it; its readers (the owner) score
    # their own cases, which do not exist for other readers; coordinators and ML engineers
    # read the scores with their methods.
    ("likert-study-list", "get"):  Row(403, 200, 200, 200, 200, 200),
    ("likert-study-list", "post"): Row(403, 403, 403, 400, 403, 400, body={"name": ""}),
    ("likert-item-list", "get"):   Row(403, 200, 404, 403, 403, 404),
    ("likert-score", "post"):      Row(403, 200, 404, 403, 403, 404,
                                       body={"position": 0, "score": 3}),
    ("likert-study-close", "post"): Row(403, 403, 403, 200, 403, 200),
    ("likert-scores-csv", "get"):  Row(403, 403, 403, 200, 200, 200),
    ("likert-study-results", "get"): Row(403, 403, 403, 200, 200, 200),
    ("likert-case-overlay", "get"): Row(403, 200, 404, 200, 200, 200, kwargs=LIKERT_CASE),
    ("likert-case-slice", "get"):  Row(403, 200, 404, 200, 200, 200, kwargs=LIKERT_CASE),
    # The viewer's overlay: ML engineers on every scan; a reader on a scan they read, and only
    # what a coordinator released (nothing is released here: the model is a candidate);
    # coordinators see the scan, never the model's output on it.
    ("scan-model-output", "get"):  Row(403, 200, 404, 200, 200, 200),
    ("scan-saliency-request", "post"): Row(403, 400, 404, 400, 400, 400,
                                           body={"model_version": "x"}),
    ("scan-saliency-detail", "get"): Row(403, 404, 404, 404, 200, 200, kwargs=SCAN_MAPS),
    ("scan-saliency-overlay", "get"): Row(403, 404, 404, 404, 200, 200, kwargs=SCAN_MAPS),
    # Releases of a model's output to readers: coordinators release and withdraw.
    ("model-release-list", "get"): Row(403, 403, 403, 200, 200, 200, kwargs=MODEL),
    ("model-release-list", "post"): Row(403, 403, 403, 400, 403, 400, body={"split": "x"},
                                        kwargs=MODEL),
    ("model-release-withdraw", "post"): Row(403, 403, 403, 400, 403, 400, body={"split": "x"},
                                            kwargs=MODEL),
    # Builds for the inference nodes: ML engineers make them, coordinators watch.
    ("build-list", "get"):         Row(403, 403, 403, 200, 200, 200),
    ("build-list", "post"):        Row(403, 403, 403, 403, 400, 400,
                                       body={"model_version": "x"}),
    ("build-public-key", "get"):   Row(403, 403, 403, 200, 200, 200),
    ("build-detail", "get"):       Row(403, 403, 403, 200, 200, 200),
    ("build-file", "get"):         Row(403, 403, 403, 200, 200, 200),
    # Inference nodes. The node's own endpoints take a node token and nothing else (no user
    # reaches them; tests/modelops/nodes hold that a node token reaches nothing else); enrolment
    # needs only the one-time token (an empty one: 400 for everyone).
    ("node-enrol", "post"):        Row(400, 400, 400, 400, 400, 400,
                                       body={"enrolment_token": ""}),
    ("node-heartbeat", "post"):    Row(401, 403, 403, 403, 403, 403, body={}),
    ("node-build-file", "get"):    Row(401, 403, 403, 403, 403, 403),
    ("node-prediction", "post"):   Row(401, 403, 403, 403, 403, 403, body={}),
    ("node-series", "post"):       Row(401, 403, 403, 403, 403, 403, body={}),
    # What the nodes predicted and how the model does on them, as CSV: ML engineers;
    # coordinators watch; readers never learn of model output.
    ("prediction-csv", "get"):     Row(403, 403, 403, 200, 200, 200),
    ("monitoring-csv", "get"):     Row(403, 403, 403, 200, 200, 200),
    ("prospective-csv", "get"):    Row(403, 403, 403, 200, 200, 200, kwargs=MODEL),
    ("drift-csv", "get"):          Row(403, 403, 403, 200, 200, 200, kwargs=MODEL),
    # The ML engineer's: nodes, enrolment tokens, revocation, rollouts; coordinators watch.
    ("node-list", "get"):          Row(403, 403, 403, 200, 200, 200),
    ("node-list", "post"):         Row(403, 403, 403, 403, 400, 400, body={"name": ""}),
    ("node-revoke", "post"):       Row(403, 403, 403, 403, 200, 200),
    ("node-enrolment", "post"):    Row(403, 403, 403, 403, 200, 200),
    ("rollout-list", "get"):       Row(403, 403, 403, 200, 200, 200),
    ("rollout-list", "post"):      Row(403, 403, 403, 403, 400, 400, body={"build": "x"}),
    ("rollout-rollback", "post"):  Row(403, 403, 403, 403, 200, 200, body={}),
    # The disagreement loop, model side: coordinators and ML engineers see where a model
    # disagrees with the labels; only coordinators send scans to a second read; both may
    # have unscored scans scored; readers never learn of any of it.
    ("model-disagreements", "get"): Row(403, 403, 403, 200, 200, 200, kwargs=MODEL),
    ("model-disagreements-send", "post"): Row(403, 403, 403, 400, 403, 400, body={"items": []},
                                              kwargs=MODEL),
    ("model-scoring-runs", "get"): Row(403, 403, 403, 200, 200, 200, kwargs=MODEL),
    ("model-scoring-runs", "post"): Row(403, 403, 403, 400, 400, 400, body={"scans": "x"},
                                        kwargs=MODEL),
    # A queued scoring run: canceled at once.
    ("model-scoring-run-cancel", "post"): Row(403, 403, 403, 200, 200, 200, kwargs=MODEL),
    # The disagreement loop, labeling side: coordinators send scans to a blinded second read
    # and order the never-read pool by a model's uncertainty; coordinators and ML engineers
    # see what changed between ground-truth versions and why. Readers reach none of it.
    ("second-read-list", "get"):   Row(403, 403, 403, 200, 403, 200),
    ("second-read-list", "post"):  Row(403, 403, 403, 400, 403, 400, body={"scans": "x"}),
    ("ground-truth-scan-changes", "get"): Row(403, 403, 403, 200, 200, 200,
                                              query="a={version_id}&b={released_version}"),
    ("assignment-uncertainty", "get"): Row(403, 403, 403, 200, 403, 200,
                                           query="model_version={model_version}"),
    ("assignment-uncertainty", "post"): Row(403, 403, 403, 400, 403, 400,
                                            body={"model_version": "x"}),
    # The reader study: coordinators (and admins) set it up, edit it before its plan freezes,
    # prepare its model output and close it; coordinators and ML engineers follow it and read
    # its results and CSV. Its readers (owner and other) see the study and their own place in
    # it; a read (its slices, its overlay in the owner's aided session with the saliency
    # overlay) exists only for its reader; the owner's opened read is answered for real.
    ("reader-study-list", "get"):  Row(403, 200, 200, 200, 200, 200),
    ("reader-study-list", "post"): Row(403, 403, 403, 400, 403, 400, body={"name": ""}),
    ("reader-study-detail", "get"): Row(403, 200, 200, 200, 200, 200, kwargs=READER_STUDY),
    ("reader-study-detail", "patch"): Row(403, 403, 403, 400, 403, 400,
                                          body={"case_count": "x"}, kwargs=READER_STUDY),
    ("reader-study-close", "post"): Row(403, 403, 403, 200, 403, 200, kwargs=READER_STUDY),
    ("reader-study-prepare", "post"): Row(403, 403, 403, 200, 403, 200, kwargs=READER_STUDY),
    ("reader-study-next", "get"):  Row(403, 200, 200, 404, 404, 404, kwargs=READER_STUDY),
    ("reader-study-results", "get"): Row(403, 403, 403, 200, 200, 200, kwargs=READER_STUDY),
    ("reader-study-reads-csv", "get"): Row(403, 403, 403, 200, 200, 200, kwargs=READER_STUDY),
    ("reader-study-read", "get"):  Row(403, 200, 404, 404, 404, 404, kwargs=READER_STUDY_READ),
    ("reader-study-answer", "post"): Row(403, 200, 404, 404, 404, 404,
                                         body={"any_ich": True, "confidence": 60,
                                               "active_time_s": 1.0},
                                         kwargs=READER_STUDY_READ),
    ("reader-study-read-slice", "get"): Row(403, 200, 404, 404, 404, 404,
                                            kwargs=READER_STUDY_READ),
    ("reader-study-read-overlay", "get"): Row(403, 200, 404, 404, 404, 404,
                                              kwargs=READER_STUDY_READ),
}
# fmt: on


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def api_routes() -> dict[tuple[str, str], str]:
    """(route name, method) -> route, for every route under api/ and each method its view has."""
    routes = {}
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("api/"):
            continue
        assert pattern.name, f"API route {route} has no name"
        view = getattr(pattern.callback, "cls", None) or pattern.callback.view_class
        for method in METHODS:
            if hasattr(view, method):
                routes[(pattern.name, method)] = route
    return routes


def test_every_api_route_has_a_row():
    missing = sorted(set(api_routes()) - set(MATRIX))
    assert not missing, f"API routes without a row in the permission matrix: {missing}"


def test_every_row_names_an_api_route():
    stale = sorted(set(MATRIX) - set(api_routes()))
    assert not stale, f"rows of the permission matrix for routes that do not exist: {stale}"


# The world: built once for the module, each test's changes rolled back.


@pytest.fixture(scope="module")
def module_data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-data")


@pytest.fixture(autouse=True)
def data_dir(settings, module_data_dir):
    """The module's rows name files (a slice, a model) in one data folder: every test uses it."""
    _point_settings_at(settings, module_data_dir)
    return module_data_dir


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, module_data_dir):
    with (
        django_db_blocker.unblock(),
        override_settings(
            DATA_DIR=module_data_dir,
            MEDIA_ROOT=module_data_dir / "store",
            UPLOAD_DIR=module_data_dir / "uploads",
            QUARANTINE_DIR=module_data_dir / "quarantine",
        ),
        transaction.atomic(),
    ):
        yield _build_world()
        transaction.set_rollback(True)


def _build_world() -> dict:
    from annotations.adjudication.services import adjudication_split_votes_create
    from annotations.ground_truth.services import ground_truth_freeze, ground_truth_release
    from annotations.ingest.services import import_batch_create
    from annotations.models import AdjudicationItem, Center, ImportBatch, ReadKind, ReadLevel
    from annotations.reading.services import read_assign
    from tests.annotations.study_factories import label_and_complete, make_scan
    from tests.modelops.registry_factories import make_run, make_snapshot, make_version

    users = {
        "owner": user_with_role("owner", "neuroradiologist"),
        "other": user_with_role("other", "neuroradiologist"),
        "third": user_with_role("third", "neuroradiologist"),
        "coordinator": user_with_role("coord", "coordinator"),
        "ml_engineer": user_with_role("mleng", "ml_engineer"),
        "admin": User.objects.create_superuser("admin", password="pw-admin"),
    }
    # A validation scan read by three readers, a split vote on SDH, frozen (not released).
    validation = make_scan(split="validation", slices=3)
    for name, kind, labels in (
        ("owner", ReadKind.PRIMARY, {0: {"iph": True}, 1: {"sdh": True}}),
        ("other", ReadKind.CROSS, {0: {"iph": True}}),
        ("third", ReadKind.CROSS, {0: {"iph": True}, 1: {"sdh": True}}),
    ):
        label_and_complete(read_assign(scan=validation, reader=users[name], kind=kind), labels)
    adjudication_split_votes_create(subtypes=["sdh"], created_by=users["coordinator"])
    version = ground_truth_freeze(name="v1", created_by=users["coordinator"])
    released = ground_truth_freeze(name="v1-released", created_by=users["coordinator"])
    ground_truth_release(version_id=released.pk, released_by=users["coordinator"])
    export, pending_export = _exports(version, users["coordinator"])
    # The owner's open slice-level read of a training scan (the other reader has none of it)
    # and a scan-level read of a test scan; its slice 0 is stored.
    train = make_scan(split="train", center="Center T", slices=3)
    read = read_assign(scan=train, reader=users["owner"])
    test_scan = make_scan(split="test", center="Center P", slices=2)
    scan_read = read_assign(scan=test_scan, reader=users["owner"], level=ReadLevel.SCAN)
    first = train.slices.get(position_index=0)
    default_storage.save(first.storage_key, ContentFile(b"DICM"))
    batch = import_batch_create(
        center=Center.objects.get(name="Center T"),
        split=None,
        source=ImportBatch.Source.API,
        user=users["coordinator"],
    )
    # Modelops: a built snapshot of the version, a trained run with its model, and a
    # snapshot and a run that are queued.
    snapshot = make_snapshot(version=version, user=users["ml_engineer"])
    pending_snapshot = make_snapshot(
        version=version, user=users["ml_engineer"], name="v1-64px", image_size=64,
        status="pending",
    )  # fmt: skip
    run = make_run(snapshot=snapshot, user=users["ml_engineer"], name="baseline")
    pending_run = make_run(
        snapshot=snapshot, user=users["ml_engineer"], name="queued", status="pending"
    )
    # The model's id is not the ground-truth version's (both are ``version_id`` in their
    # URLs), so a row naming the wrong one cannot pass by chance.
    older = make_version(
        run=make_run(snapshot=snapshot, user=users["ml_engineer"], name="old"), name="old-1"
    )
    model = make_version(run=run, name="baseline-1")
    older.delete()
    assert model.pk != version.pk
    saliency_run, overlay = _saliency_run(model, first, users["ml_engineer"])
    likert_study, likert_case = _likert_study(overlay, users)
    scan_maps = _scan_saliency_run(model, first, users["ml_engineer"])
    build = _build(model, users["ml_engineer"])
    node, rollout = _node_and_rollout(build, train.center, users["ml_engineer"])
    scoring_run = _scoring_run(model, train, users["ml_engineer"])
    reader_study, reader_study_read = _reader_study(version, model, scan_maps, users)
    return {
        "users": {name: user.pk for name, user in users.items()},
        "read_version": read.version,
        "args": {
            "read_id": read.pk,
            "scan_read": scan_read.pk,
            "scan_id": train.pk,
            "validation_scan": validation.pk,
            "position_index": 0,
            "center_id": train.center_id,
            "batch_id": batch.pk,
            "item_id": AdjudicationItem.objects.get().pk,
            "version_id": version.pk,
            "released_version": released.pk,
            "job_id": export.pk,
            "pending_export": pending_export.pk,
            "model_version": model.pk,
            "kind": "slices.csv",
            "table": "readers",
            "snapshot_id": snapshot.pk,
            "pending_snapshot": pending_snapshot.pk,
            "run_id": run.pk,
            "pending_run": pending_run.pk,
            "saliency_run": saliency_run.pk,
            "token": overlay.token,
            "study_id": likert_study.pk,
            "likert_case": likert_case.token,
            "scan_saliency_run": scan_maps.pk,
            "method": "gradcam",
            "build_id": build.pk,
            "name": "manifest.json",
            "number": build.number,
            "node_id": node.pk,
            "rollout_id": rollout.pk,
            "scoring_run_id": scoring_run.pk,
            "reader_study": reader_study.pk,
            "reader_study_read": reader_study_read.pk,
        },
    }


def _scoring_run(model, scan, user):
    """A queued scoring run of the model (no worker takes it here)."""
    from modelops.models import ScanScoringRun

    return ScanScoringRun.objects.create(
        model_version=model, scan_ids=[scan.pk], scans_total=1, created_by=user
    )


def _exports(version, user):
    """A finished SR export of the version, its file stored, and a queued one."""
    from annotations.exports.selectors import export_job_path
    from annotations.models import ExportJob

    done = ExportJob.objects.create(
        version=version, kind="sr.zip", created_by=user, status="succeeded",
        file_name="v1-sr.zip", file_bytes=2, file_sha256="0" * 64,
    )  # fmt: skip
    path = export_job_path(done)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK")
    return done, ExportJob.objects.create(version=version, kind="sr.zip", created_by=user)


def _likert_study(saliency_map, users):
    """An open Likert study of that map, the owner its one reader."""
    from modelops.models import LikertCase, LikertScore, LikertStudy

    study = LikertStudy.objects.create(
        name="Likert 1", saliency_run=saliency_map.item.run, created_by=users["coordinator"]
    )
    study.readers.set([users["owner"]])
    case = LikertCase.objects.create(study=study, saliency_map=saliency_map)
    LikertScore.objects.create(study=study, case=case, reader=users["owner"], position=0)
    return study, case


def _saliency_run(model, slice_, user):
    """A queued saliency run of the model whose one sampled slice is mapped (its overlay
    stored), as a run that stopped part way and was asked for again."""
    from modelops.models import SaliencyMap, SaliencyRun, SaliencySlice
    from modelops.saliency.selectors import saliency_dir

    run = SaliencyRun.objects.create(
        model_version=model, split="train", per_subtype=1, created_by=user, slices_total=1
    )
    item = SaliencySlice.objects.create(
        run=run, scan=slice_.scan, slice=slice_, subtype="iph", position=0, done=True
    )
    overlay = SaliencyMap.objects.create(item=item, method="gradcam")
    directory = saliency_dir(run.pk)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{overlay.token}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return run, overlay


def _scan_saliency_run(model, slice_, user):
    """The model's finished maps of the slice's scan, its first slice's overlay stored."""
    from modelops.models import ScanSaliencyRun
    from modelops.scan_saliency.selectors import scan_saliency_png

    run = ScanSaliencyRun.objects.create(
        model_version=model, scan=slice_.scan, label="any", created_by=user, status="succeeded"
    )
    path = scan_saliency_png(run, "gradcam", slice_.position_index)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return run


def _build(model, user):
    """A finished build of the model with its manifest stored."""
    from django.utils import timezone

    from modelops.builds.selectors import build_dir
    from modelops.models import ModelBuild

    build = ModelBuild.objects.create(
        model_version=model, number=1, expires_at=timezone.now(), created_by=user,
        status="succeeded",
    )  # fmt: skip
    build_dir(build.number).mkdir(parents=True, exist_ok=True)
    (build_dir(build.number) / "manifest.json").write_text("{}")
    return build


def _node_and_rollout(build, center, user):
    """An enrolled node, the canary of a rollout of the build."""
    from django.utils import timezone

    from modelops.models import EdgeNode, Rollout

    node = EdgeNode.objects.create(
        name="jetson-1", center=center, created_by=user, enrolled_at=timezone.now(),
        token_hash="0" * 64, desired_build=build,
    )  # fmt: skip
    rollout = Rollout.objects.create(build=build, canary=node, created_by=user)
    return node, rollout


def _reader_study(version, model, scan_maps, users):
    """An open reader study of the scan of those maps (its normgrad overlay of slice 0 stored):
    the owner's first session aided with the saliency overlay and its read opened; the other
    reader's first session unaided."""
    from django.utils import timezone

    from modelops.reader_study.models import (
        ReaderStudy,
        ReaderStudyCase,
        ReaderStudyRead,
        ReaderStudySession,
    )
    from modelops.reader_study.services import DEFAULT_PRIMARY_ENDPOINT
    from modelops.scan_saliency.selectors import scan_saliency_png

    path = scan_saliency_png(scan_maps, "normgrad", 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    now = timezone.now()
    study = ReaderStudy.objects.create(
        name="Reader study 1", ground_truth_version=version, case_count=2,
        modalities=["unaided", "aided_saliency"], model_version=model, status="open",
        primary_endpoint=DEFAULT_PRIMARY_ENDPOINT, created_by=users["coordinator"],
        plan={"model": {"thresholds": {"any": 0.5}}},
    )  # fmt: skip
    case = ReaderStudyCase.objects.create(
        study=study, scan=scan_maps.scan, number=1, reference_any=True, reference_iph=True,
        reference_ivh=False, reference_sah=False, reference_sdh=False, reference_edh=False,
        saliency_run=scan_maps,
    )  # fmt: skip
    reads = {}
    for name, modalities in (
        ("owner", ("aided_saliency", "unaided")),
        ("other", ("unaided", "aided_saliency")),
    ):
        for sequence, modality in enumerate(modalities, start=1):
            session = ReaderStudySession.objects.create(
                study=study, reader=users[name], modality=modality, sequence=sequence,
                opens_at=now if sequence == 1 else None,
            )  # fmt: skip
            reads[(name, sequence)] = ReaderStudyRead.objects.create(
                session=session, case=case, position=0, opened_at=now if name == "owner" else None
            )
    return study, reads[("owner", 1)]


def rows_now() -> dict[str, list]:
    """Every row of the project's apps (and the users), to show that a request changed nothing."""
    models = [
        *apps.get_app_config("annotations").get_models(),
        *apps.get_app_config("modelops").get_models(),
        *apps.get_app_config("reader_study").get_models(),
        User,
    ]
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in models}


def _url(name: str, route: str, row: Row, world: dict) -> str:
    args = world["args"]
    kwargs = {}
    for param in re.findall(r"<(?:\w+:)?(\w+)>", route):
        kwargs[param] = args[row.kwargs.get(param, param)]
    url = reverse(name, kwargs=kwargs)
    return f"{url}?{row.query.format(**args)}" if row.query else url


def _client(world: dict, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(User.objects.get(pk=world["users"][role]))
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
def test_permission_matrix(world, role, name, method):
    row = MATRIX[(name, method)]
    route = api_routes()[(name, method)]
    body = row.body(world) if callable(row.body) else row.body
    expected = row.status(role)
    writes = method != "get"
    before = rows_now() if writes and expected >= 400 else None

    client = _client(world, role)
    url = _url(name, route, row, world)
    send = getattr(client, method)
    response = send(url, body, format=row.format) if writes else send(url)

    detail = getattr(response, "content", b"")[:300] if not response.streaming else b""
    assert response.status_code == expected, (role, name, method, detail)
    if before is not None:
        assert rows_now() == before, f"{role} {method} {name} was refused but changed rows"


# What a coordinator's view of ground truth tells of how it was reached or of the whole study.
GROUND_TRUTH_WITHHELD = {
    "reads", "adjudicated", "counts", "pending_scan_count", "slice_count", "note",
    "content_sha256", "created_by", "center", "split", "series_instance_uid", "sop_instance_uid",
}  # fmt: skip


def _keys(body) -> set[str]:
    if isinstance(body, dict):
        return set(body).union(*map(_keys, body.values()))
    if isinstance(body, list):
        return set().union(*map(_keys, body))
    return set()


READER_GROUND_TRUTH = [
    (name, role)
    for (name, method), row in MATRIX.items()
    for role in ("owner", "other")
    if "ground-truth" in name and method == "get" and row.status(role) == 200
]


@pytest.mark.parametrize(("name", "role"), READER_GROUND_TRUTH)
def test_reader_ground_truth_holds_no_withheld_field(world, name, role):
    row = MATRIX[(name, "get")]
    url = _url(name, api_routes()[(name, "get")], row, world)

    body = _client(world, role).get(url).json()

    assert _keys(body) and not _keys(body) & GROUND_TRUTH_WITHHELD, body
    if isinstance(body, dict) and "results" in body:
        assert body["results"], "the released version shows the reader's scan"

"""Property-based fuzzing of the whole API against the OpenAPI schema it serves.

A live server on PostgreSQL holds the permission matrix's world (tests/ichlabel/
test_permission_matrix.py: readers with reads and labels, a frozen ground truth, models, runs,
builds, nodes). schemathesis generates requests for every operation of /api/schema/ from the
schema itself, valid ones (with the world's ids in the path, and in half of them in the body
too) and invalid ones, and each is sent as every role: anonymous, a reader (``owner``), the ML
engineer and the coordinator. Every response must be no 5xx, a status the operation documents,
and a body of the documented media type and schema (errors in the one error shape,
ichlabel/schema.py); every operation refuses a query key it does not declare. No role may
change another user's data: the labels, flags and scores of the other readers are compared
before and after each operation's requests (for every role but the coordinator, their reads
too: only a coordinator reassigns or withdraws a read), and requests without credentials
change no row at all.

Not checked: that valid data is accepted and invalid data refused as the schema alone would
say (schemathesis' positive_data_acceptance and negative_data_rejection): the schema cannot
say which ids exist or which states allow a write, so a valid body is often rightly a 404 or
409, and the checks above hold every answer to the documented statuses instead.

Bounded for the suite: a fixed number of examples per operation and mode, generated once and
derandomized (the same requests on every run), no shrinking; each case is sent as each role.
Jobs the requests queue are recorded, never run (``jobs_queued``). To fuzz some operations
only, set ICHLABEL_FUZZ_OPERATIONS to a regular expression over "METHOD /path".
"""

import contextlib
import os
import re
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from django.contrib.auth.models import User
from django.core.servers.basehttp import WSGIRequestHandler
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

from tests.ichlabel.test_permission_matrix import MATRIX, _build_world, api_routes, rows_now

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ("anonymous", "owner", "ml_engineer", "coordinator")
# Examples per operation and generation mode, each sent as every role.
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 5}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# What a reader owns on their read: a coordinator's reassign or withdrawal leaves it as it was.
READER_FIELDS = (
    "flag_postoperative",
    "flag_artifact",
    "flag_mass_lesion",
    "flag_other",
    "note",
    "viewed_slices",
    "last_slice_index",
    "time_spent_s",
)
# Readers nobody fuzzes as: their data must come through every request as it was.
BYSTANDERS = ("other", "third")
REQUEST_TIMEOUT_S = 60
# A query key no operation declares.
UNKNOWN_KEY = "fuzz_unknown"
# Routes the schema leaves out: the schema itself and its docs page.
UNDOCUMENTED = ("/api/schema/", "/api/docs/")


@dataclass
class Finding:
    """One kind of failure of one operation, with the roles that met it and one request."""

    operation: str
    failure: str
    roles: set = field(default_factory=set)
    example: str = ""

    def __str__(self) -> str:
        return f"{self.operation} as {sorted(self.roles)}: {self.failure}\n    {self.example}"


def _failure_lines(exc: BaseException) -> list[str]:
    """Each failure of a check, in a line: its title and what the server answered."""
    failures = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
    lines = []
    for failure in failures:
        title = getattr(failure, "title", type(failure).__name__)
        text = f"{title}: {getattr(failure, 'message', failure)}"
        lines.append(" ".join(text.split())[:300])
    return lines


def _openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _real_path_parameters(world: dict) -> dict[tuple[str, str], dict]:
    """(OpenAPI path, method) -> the world's ids for its path parameters, as the matrix names
    them (a route's own ``kwargs`` say where a parameter means another object)."""
    args = world["args"]
    out = {}
    for (name, method), route in api_routes().items():
        row = MATRIX.get((name, method))  # its own test fails a route without a row
        names = row.kwargs if row else {}
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        out[(_openapi_path(route), method)] = {
            param: args[names.get(param, param)]
            for param in params
            if names.get(param, param) in args
        }
    return out


def _cases(operation, mode: GenerationMode) -> list:
    """The operation's examples in one generation mode: derandomized, no shrinking."""
    found: list = []

    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def collect(case):
        found.append(case)

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid: no parameters, no body
        collect()
    return found


def _bystanders_data(role: str, read_ids: list[int]) -> dict:
    """What belongs to the readers nobody fuzzes as (their reads at the start, by id), as far
    as ``role`` may not change it."""
    from annotations.models import Read, ScanLabel, SliceLabel
    from modelops.models import LikertScore

    readers = User.objects.filter(username__in=BYSTANDERS)
    fields = ("pk", *READER_FIELDS) if role == "coordinator" else ()
    label_fields = ("read_id", "iph", "ivh", "sah", "sdh", "edh", "no_hemorrhage", "version")
    return {
        "reads": list(Read.objects.filter(pk__in=read_ids).order_by("pk").values(*fields)),
        "slice_labels": list(
            SliceLabel.objects.filter(read_id__in=read_ids)
            .order_by("pk")
            .values("slice_id", *label_fields)
        ),
        "scan_labels": list(
            ScanLabel.objects.filter(read_id__in=read_ids).order_by("pk").values(*label_fields)
        ),
        "likert_scores": list(
            LikertScore.objects.filter(reader__in=readers).order_by("pk").values()
        ),
    }


def _real_ids(body, world: dict):
    """A generated body with the world's ids where its keys name objects (at the top level and
    in lists of objects), so that valid requests reach the services, not only "not found"."""
    if isinstance(body, list):
        return [_real_ids(item, world) for item in body]
    if not isinstance(body, dict):
        return body
    args, users = world["args"], world["users"]
    ids = {
        "center": args["center_id"],
        "scans": [args["scan_id"], args["validation_scan"]],
        "model_version": args["model_version"],
        "initial_model": args["model_version"],
        "saliency_run": args["saliency_run"],
        "ground_truth": args["version_id"],
        "snapshot": args["snapshot_id"],
        "build": args["build_id"],
        "canary": args["node_id"],
        "reader": users["other"],
        "readers": [users["owner"], users["other"]],
        "slice_index": 0,
        "version": world["read_version"],
    }
    return {key: ids.get(key, _real_ids(value, world)) for key, value in body.items()}


def _note(findings: dict, operation: str, failure: str, role: str, case) -> None:
    found = findings.setdefault((operation, failure), Finding(operation, failure))
    found.roles.add(role)
    if case is not None and not found.example:
        found.example = case.as_curl_command()[:500]


def _send(case, session: requests.Session, base_url: str, headers: dict) -> tuple:
    # The schema's security schemes make schemathesis invent credentials: the role's are sent
    # instead (an invented token would also count as a guess against the client's address).
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.cookies = {k: v for k, v in (case.cookies or {}).items() if k != "sessionid"}
    session.cookies.clear()
    try:
        return case.call(base_url=base_url, session=session, headers=headers,
                         timeout=REQUEST_TIMEOUT_S), None  # fmt: skip
    except schemathesis.errors.SerializationNotPossible:
        return None, None  # a body the declared media type cannot carry: nothing was sent
    except requests.RequestException as exc:
        return None, f"no response: {exc!r}"


@pytest.fixture
def server_without_nagle(live_server, monkeypatch):
    """The live server, its responses sent at once: Django's development server writes
    headers and body apart, and with Nagle's algorithm on each small response then waits out
    the client's delayed ACK (some 40 ms a request, most of this test's time)."""
    monkeypatch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)
    return live_server


def _unknown_key_refused(operation, real: dict, session, base_url: str, headers: dict) -> str:
    """The operation asked with a query key nobody declares: a 400 that names it, or what
    came instead."""
    path = operation.path
    for param, value in real.items():
        path = path.replace("{" + param + "}", str(value))
    url = f"{base_url}{path}?{UNKNOWN_KEY}=1"
    response = session.request(operation.method.upper(), url, headers=headers, timeout=60)
    body = response.json() if response.headers.get("Content-Type") == "application/json" else {}
    if response.status_code == 400 and UNKNOWN_KEY in body.get("extra", {}).get("fields", {}):
        return ""
    return f"an unknown query key got {response.status_code}: {response.text[:200]}"


def test_every_operation_as_every_role(server_without_nagle, data_dir, jobs_queued):
    from annotations.models import Read

    live_server = server_without_nagle
    world = _build_world()
    # A connection per request: on a kept-alive connection, after a form POST with an empty
    # body, Django's development server (not the app) answered the next request with a stray
    # error page where a status line belongs.
    headers = {"anonymous": {"Connection": "close"}}
    for role in ROLES[1:]:
        token = Token.objects.create(user_id=world["users"][role])
        headers[role] = {"Authorization": f"Token {token.key}", "Connection": "close"}
    served = requests.get(
        f"{live_server.url}/api/schema/?format=json", headers=headers["coordinator"], timeout=60
    )
    schema = schemathesis.openapi.from_dict(served.json())
    real_paths = _real_path_parameters(world)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {(operation.path, operation.method.lower()) for operation in operations}
    routed = {key for key in real_paths if not key[0].startswith(UNDOCUMENTED)}
    assert documented == routed, "the schema and the URL conf list different operations"

    only = re.compile(os.environ.get("ICHLABEL_FUZZ_OPERATIONS", ""))
    cases = {}  # operation -> its cases, generated once and sent as every role
    for operation in operations:
        name = f"{operation.method.upper()} {operation.path}"
        if not only.search(name):
            continue
        real = real_paths[(operation.path, operation.method.lower())]
        positive = _cases(operation, GenerationMode.POSITIVE)
        for index, case in enumerate(positive):  # valid requests about objects that exist
            case.path_parameters = {k: v if isinstance(v, int) else str(v) for k, v in real.items()}
            if index % 2 == 0 and isinstance(case.body, dict):
                case.body = _real_ids(case.body, world)
        cases[name] = (operation, real, [*positive, *_cases(operation, GenerationMode.NEGATIVE)])

    session = requests.Session()
    findings: dict[tuple[str, str], Finding] = {}
    everything = rows_now()
    bystanders = User.objects.filter(username__in=BYSTANDERS)
    read_ids = list(Read.objects.filter(reader__in=bystanders).values_list("pk", flat=True))
    for role in ROLES:  # the readers first: later, the coordinator reassigns and withdraws
        for name, (operation, real, examples) in cases.items():
            before = _bystanders_data(role, read_ids)
            refused = _unknown_key_refused(operation, real, session, live_server.url, headers[role])
            if refused:
                _note(findings, name, refused, role, None)
            for case in examples:
                response, error = _send(case, session, live_server.url, headers[role])
                if error:
                    _note(findings, name, error, role, case)
                if response is None:
                    continue
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Failure, FailureGroup) as exc:
                    for line in _failure_lines(exc):
                        _note(findings, name, line, role, case)
            if _bystanders_data(role, read_ids) != before:
                _note(findings, name, "changed another reader's data", role, None)
        if role == "anonymous" and rows_now() != everything:
            _note(findings, "any", "a request without credentials changed rows", role, None)
    session.close()

    report = "\n".join(map(str, findings.values()))
    assert not findings, f"{len(findings)} kinds of failure:\n{report}"

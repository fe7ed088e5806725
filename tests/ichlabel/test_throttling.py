"""Failed log-ins and token guesses lock the account or the client address for a while, in the
real shared cache (the file cache under the data directory): /login/, the admin's log-in, DRF
tokens, node tokens and enrolment tokens."""

import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Center
from modelops.nodes.services import node_create
from tests.conftest import ROOT, user_with_role

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.7"
ELSEWHERE = "203.0.113.9"


@pytest.fixture(autouse=True)
def limits(settings):
    """Small limits; every test starts and ends with no counter or lock in the cache."""
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.AUTH_FAILURES_PER_ADDRESS = 6
    settings.AUTH_FAILURE_WINDOW_S = 600
    settings.AUTH_LOCKOUT_S = 600
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def victim():
    return user_with_role("victim", "coordinator")


def log_in(username: str, password: str, address: str = ATTACKER, path: str = "/login/"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def test_the_right_password_is_refused_while_the_account_is_locked(victim):
    wrong = [log_in("victim", f"guess-{n}").status_code for n in range(3)]
    locked = log_in("victim", "pw-victim")
    from_elsewhere = log_in("victim", "pw-victim", address=ELSEWHERE)

    assert wrong == [200, 200, 429]
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    text = locked.content.decode()
    assert "this account" in text and "temporarily locked until" in text
    assert "Try again in 10 minutes" in text
    assert from_elsewhere.status_code == 429  # the account is locked, not only the address


def test_a_lock_expires_and_the_right_password_then_works(victim, settings):
    settings.AUTH_LOCKOUT_S = 1
    for n in range(3):
        log_in("victim", f"guess-{n}")
    assert log_in("victim", "pw-victim").status_code == 429

    time.sleep(1.5)  # the lock's own timeout in the cache: nothing is reset by hand
    after = log_in("victim", "pw-victim")

    # In, and on to the coordinator's start page.
    assert after.status_code == 302 and after["Location"] == "/study/"


def test_guesses_at_many_accounts_lock_the_address_only(victim):
    for n in range(6):
        log_in(f"nobody-{n}", "guess")  # one failure per account: no account reaches 3

    from_attacker = log_in("victim", "pw-victim")
    from_elsewhere = log_in("victim", "pw-victim", address=ELSEWHERE)

    assert from_attacker.status_code == 429 and "this address" in from_attacker.content.decode()
    assert from_elsewhere.status_code == 302


def test_logging_in_to_an_own_account_does_not_reset_the_address():
    user_with_role("mallory", "neuroradiologist")
    statuses = []
    for target in ("alice", "bob", "carol"):  # two guesses each: no account reaches 3
        statuses += [log_in(target, "guess").status_code for _ in range(2)]
        statuses.append(log_in("mallory", "pw-mallory").status_code)

    # The sixth guess locks the address, whatever log-ins succeeded in between.
    assert statuses == [200, 200, 302, 200, 200, 302, 200, 429, 429]


def test_a_successful_log_in_clears_its_own_accounts_failures(victim):
    first = [log_in("victim", "guess").status_code for _ in range(2)]
    ok = log_in("victim", "pw-victim", address=ELSEWHERE)
    second = [log_in("victim", "guess").status_code for _ in range(2)]

    assert first == second == [200, 200] and ok.status_code == 302


def test_the_admin_log_in_counts_failures_too(victim):
    victim.is_staff = True
    victim.save()
    for n in range(3):
        log_in("victim", f"guess-{n}", path="/admin/login/")

    locked = log_in("victim", "pw-victim", path="/admin/login/")
    site = log_in("victim", "pw-victim", path="/login/", address=ELSEWHERE)

    assert "temporarily locked" in locked.content.decode()
    assert site.status_code == 429


def test_a_lock_holds_for_every_process_sharing_the_cache(victim):
    for n in range(3):
        log_in("victim", f"guess-{n}")
    code = (
        "import django; django.setup()\n"
        "from ichlabel.throttling import login_lockout_get\n"
        "print(login_lockout_get(username='victim', address='192.0.2.1').subject)\n"
    )

    # The test profile's environment (database, data directory) is inherited.
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "account"


def _api(address: str, header: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_unknown_api_tokens_lock_the_address_with_a_json_429(victim):
    token = Token.objects.create(user=victim)
    guesses = [
        _api(ATTACKER, f"Token {n:040x}").get("/api/v1/centers/").status_code for n in range(6)
    ]

    locked = _api(ATTACKER, f"Token {token.key}").get("/api/v1/centers/")
    elsewhere = _api(ELSEWHERE, f"Token {token.key}").get("/api/v1/centers/")

    # 403, not 401: the session is the API's first scheme (DRF answers 401 only to the first).
    assert guesses == [403] * 6
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert locked["Content-Type"] == "application/json"
    assert "temporarily locked" in locked.json()["message"]
    assert elsewhere.status_code == 200


def test_unknown_node_tokens_lock_the_address(victim):
    guesses = [
        _api(ATTACKER, f"Node {n:064x}").post("/api/v1/modelops/node/heartbeat/", {}).status_code
        for n in range(6)
    ]

    locked = _api(ATTACKER, "Node x").post("/api/v1/modelops/node/heartbeat/", {})

    assert guesses == [401] * 6
    assert locked.status_code == 429 and "Retry-After" in locked
    assert "temporarily locked" in locked.json()["message"]


def test_unknown_enrolment_tokens_lock_the_address(victim):
    center = Center.objects.create(name="Center E", split="test")
    node, enrolment = node_create(name="jetson-e", center=center, created_by=victim)
    url = "/api/v1/modelops/node/enrol/"

    guesses = [
        APIClient(REMOTE_ADDR=ATTACKER)
        .post(url, {"enrolment_token": f"{n:064x}"}, format="json")
        .status_code
        for n in range(6)
    ]
    locked = APIClient(REMOTE_ADDR=ATTACKER).post(
        url, {"enrolment_token": enrolment}, format="json"
    )
    elsewhere = APIClient(REMOTE_ADDR=ELSEWHERE).post(
        url, {"enrolment_token": enrolment}, format="json"
    )

    assert guesses == [403] * 6
    assert locked.status_code == 429 and "Retry-After" in locked
    assert elsewhere.status_code == 200 and elsewhere.json()["node"] == "jetson-e"

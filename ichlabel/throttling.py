"""Failed log-ins and token guesses, counted in the shared cache; too many lock the account or
the client address for a while.

Two counters, each over a window of ``AUTH_FAILURE_WINDOW_S`` (settings.py):

- per account: failed log-ins naming it, from any address (``LOGIN_FAILURES_PER_ACCOUNT``);
- per client address: failed log-ins for any account plus unknown tokens of any kind (API,
  node and enrolment tokens; ``AUTH_FAILURES_PER_ADDRESS``).

A counter that reaches its limit becomes a lock of ``AUTH_LOCKOUT_S``, kept in the cache with
that timeout, so it expires on its own; while it holds, even the right password or token is
refused (otherwise a guesser would still learn which guess was right). A successful log-in
clears only its own account's counter: the address's counter stays, so an attacker cannot
interleave log-ins to an account of their own with guesses at another's.

Counting is get-then-set: with the file cache, simultaneous failures may count once instead
of twice, which only ever delays a lock by a guess or two.
"""

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework import authentication, exceptions

ACCOUNT = "account"
ADDRESS = "address"


@dataclass(frozen=True)
class Lockout:
    """A lock on an account or a client address, until ``until`` (seconds since the epoch)."""

    subject: str  # ACCOUNT or ADDRESS
    until: float

    @property
    def retry_after_s(self) -> int:
        return max(1, math.ceil(self.until - time.time()))

    @property
    def until_text(self) -> str:
        return datetime.fromtimestamp(self.until, UTC).strftime("%H:%M:%S UTC")

    def message(self, what: str = "failed log-ins") -> str:
        whose = "this account" if self.subject == ACCOUNT else "this address"
        minutes = math.ceil(self.retry_after_s / 60)
        return (
            f"Too many {what} for {whose}: it is temporarily locked until {self.until_text}. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


def client_address(request: HttpRequest) -> str:
    """The client's address: the socket's peer, or behind ``AUTH_TRUSTED_PROXIES`` proxies the
    entry the outermost of them appended to X-Forwarded-For (entries left of it are the
    client's to choose). An IPv6 address counts as its /64: one host holds a whole one."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.AUTH_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key(kind: str, subject: str, value: str) -> str:
    # Hashed: a user name or address may hold characters a cache key must not.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"ichlabel:auth:{kind}:{subject}:{digest}"


def _lockout(subject: str, value: str) -> Lockout | None:
    until = cache.get(_key("lock", subject, value))
    if until is None or until <= time.time():
        return None
    return Lockout(subject=subject, until=until)


def _failure_count(subject: str, value: str, limit: int) -> Lockout | None:
    """One more failure for ``value``; the lock it now holds, if this one reached ``limit``."""
    now = time.time()
    key = _key("failures", subject, value)
    count, window_end = cache.get(key) or (0, 0.0)
    if window_end <= now:
        count, window_end = 0, now + settings.AUTH_FAILURE_WINDOW_S
    count += 1
    if count < limit:
        cache.set(key, (count, window_end), timeout=math.ceil(window_end - now))
        return None
    cache.delete(key)
    until = now + settings.AUTH_LOCKOUT_S
    cache.set(_key("lock", subject, value), until, timeout=settings.AUTH_LOCKOUT_S)
    return Lockout(subject=subject, until=until)


def _latest(*lockouts: Lockout | None) -> Lockout | None:
    held = [lockout for lockout in lockouts if lockout is not None]
    return max(held, key=lambda lockout: lockout.until) if held else None


def _account(username: str) -> str:
    # Case-folded: "Admin" and "admin" share a counter whatever the backend makes of them.
    return username.strip().casefold()


def login_lockout_get(*, username: str, address: str) -> Lockout | None:
    """The lock that refuses a log-in to ``username`` from ``address`` now, if any."""
    return _latest(_lockout(ACCOUNT, _account(username)), _lockout(ADDRESS, address))


def login_failure_record(*, username: str, address: str) -> Lockout | None:
    """Count a failed log-in; the lock it brought about, if any."""
    return _latest(
        _failure_count(ACCOUNT, _account(username), settings.LOGIN_FAILURES_PER_ACCOUNT),
        _failure_count(ADDRESS, address, settings.AUTH_FAILURES_PER_ADDRESS),
    )


def login_success_record(*, username: str) -> None:
    """A successful log-in clears its account's failures, never its address's."""
    cache.delete(_key("failures", ACCOUNT, _account(username)))


def token_lockout_get(*, address: str) -> Lockout | None:
    return _lockout(ADDRESS, address)


def token_failure_record(*, address: str) -> Lockout | None:
    """Count an unknown or revoked token (API, node or enrolment) sent from ``address``."""
    return _failure_count(ADDRESS, address, settings.AUTH_FAILURES_PER_ADDRESS)


# --- the API side ---------------------------------------------------------------------------


class AddressLocked(exceptions.Throttled):
    """A 429 with Retry-After (DRF's handler adds the header from ``wait``)."""

    def __init__(self, lockout: Lockout) -> None:
        super().__init__(wait=lockout.retry_after_s, detail=lockout.message("failed attempts"))


def token_check_not_locked(request: HttpRequest) -> None:
    """Raises ``AddressLocked`` while the request's address is locked."""
    lockout = token_lockout_get(address=client_address(request))
    if lockout is not None:
        raise AddressLocked(lockout)


def token_failure(request: HttpRequest) -> None:
    """Counts a token the request sent that matched nothing."""
    token_failure_record(address=client_address(request))


class ThrottledTokenAuthentication(authentication.TokenAuthentication):
    """DRF's ``Authorization: Token <key>``; a locked address is answered 429 before its token
    is looked at, and an unknown token counts against its address."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        token_check_not_locked(request)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            token_failure(request)
            raise

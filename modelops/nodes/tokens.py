"""Node tokens: random, shown once, stored as SHA-256 hashes (a stolen database holds none)."""

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

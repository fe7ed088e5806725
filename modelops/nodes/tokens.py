"""Node tokens: random, shown once, stored as SHA-256 hashes (a stolen database holds none)."""

import hashlib
import secrets


def new_token() -> str:
    # Hex, not URL-safe base64: a token pasted after ``--token`` must never begin with "-".
    return secrets.token_hex(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

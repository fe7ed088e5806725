"""Test profile: PostgreSQL and Redis on this machine, as CI has them; a fixed de-id secret."""

import os
from pathlib import Path

_base = Path(__file__).resolve().parent.parent
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ichlabel")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("ICHLABEL_DATA_DIR", str(_base / "var" / "test"))
os.environ.setdefault("ICHLABEL_DEID_SECRET", "ichlabel-test-deid-secret")
os.environ.setdefault("SECRET_KEY", "ichlabel-test-secret-key-not-for-production-use-0123456789")

from ichlabel.settings import *  # noqa: E402,F403

# Fast hashing: tests create many users; nothing here protects real passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files straight from the app folders (the e2e tests' live server needs the built
# frontend without a collectstatic step).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

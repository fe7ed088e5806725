"""Settings profiles: the embedded defaults and the production profile's deploy check."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.DATA_DIR, s.MEDIA_ROOT)"
)


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "ICHLABEL_DATA_DIR",
            "SECRET_KEY",
            "ICHLABEL_DEID_SECRET",
            "DJANGO_SETTINGS_MODULE",
            "ICHLABEL_STORAGE_DIR",
        }
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_defaults_keep_everything_under_one_data_directory(tmp_path):
    done = run(
        {"ICHLABEL_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "ichlabel.settings"},
        "-c",
        PRINT,
    )

    engine, broker, data_dir, media = done.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert data_dir == str(tmp_path) and media == str(tmp_path / "store")
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "deid_secret").exists()


def test_installation_secrets_stay_the_same_across_starts(tmp_path):
    env = {"ICHLABEL_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "ichlabel.settings"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; print(s.DEID_SECRET)"
    )

    first, second = run(env, "-c", code).stdout, run(env, "-c", code).stdout

    assert first == second and len(first.strip()) > 40


def production_env(tmp_path) -> dict:
    return {
        "DJANGO_SETTINGS_MODULE": "ichlabel.settings_production",
        "SECRET_KEY": "k" * 20 + "production-secret-key-with-enough-entropy-0123456789",
        "ICHLABEL_DEID_SECRET": "deid",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ICHLABEL_DATA_DIR": str(tmp_path),
    }


def test_production_profile_passes_the_deploy_check(tmp_path):
    done = run(
        production_env(tmp_path),
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )

    assert done.returncode == 0, done.stdout + done.stderr


SCHEMA_PROBE = """
import django
django.setup()
from django.test import Client
for path in ("/api/schema/", "/api/docs/"):
    print(path, Client(SERVER_NAME="localhost").get(path, secure=True).status_code)
"""


def test_production_serves_the_api_schema_to_signed_in_users_only(tmp_path):
    done = run(
        production_env(tmp_path),
        "-c",
        SCHEMA_PROBE,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split() == ["/api/schema/", "403", "/api/docs/", "403"]

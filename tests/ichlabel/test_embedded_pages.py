"""The pages on the embedded stack a fresh ``scripts/run`` serves: SQLite and local files, the
demo's users and data. The rest of the suite runs on PostgreSQL; a query SQLite cannot run
(DISTINCT ON, say) fails only here, as it would for everyone trying ICHLabel out."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )


def test_every_demo_users_pages_answer_on_sqlite(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "ICHLABEL_CACHE_URL")
    }
    env.update(DJANGO_SETTINGS_MODULE="ichlabel.settings", ICHLABEL_DATA_DIR=str(tmp_path))
    _manage(env, "migrate", "-v0")
    _manage(env, "seed_demo", "--scans-per-center", "1", "--size", "64")
    _manage(env, "seed_training_demo", "--scans-per-center", "2", "--size", "64")

    crawled = subprocess.run(
        [sys.executable, "-m", "tests.ichlabel.embedded_crawl"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert crawled.returncode == 0, crawled.stderr[-3000:]
    report = json.loads(crawled.stdout)
    for user, result in report.items():
        assert not result["failed"], f"{user}: 5xx on {result['failed']}"
    reader_pages = report["neuro1"]["pages"]
    assert "/reading/" in reader_pages
    assert any(re.fullmatch(r"/reading/\d+/", page) for page in reader_pages)
    assert {"/study/", "/study/ground-truth/", "/study/dashboard/"} <= set(
        report["coordinator"]["pages"]
    )
    assert "/models/" in report["mlengineer"]["pages"]

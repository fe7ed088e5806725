"""The production profile's Content-Security-Policy: on every response, strict enough to refuse
inline scripts, loose enough for the app's pages (the viewer's WebAssembly codecs and workers)."""

import re

import pytest

from tests.conftest import ROOT
from tests.ichlabel.test_settings import production_env, run

# The manifest storage of production needs collectstatic first: the probe renders pages with
# plain storage (the policy does not depend on it).
PROBE = """
import django
import ichlabel.settings_production as production
production.STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedStaticFilesStorage"
django.setup()
from django.test import Client
client = Client(SERVER_NAME="localhost")
for path in ("/login/", "/api/v1/worklist/", "/static/ichlabel/app.css"):
    response = client.get(path, secure=True)
    print(path, response.status_code, response.get("Content-Security-Policy"), sep="|")
"""


def _policies(tmp_path) -> dict[str, tuple[int, dict[str, list[str]]]]:
    done = run(production_env(tmp_path), "-c", PROBE)
    assert done.returncode == 0, done.stdout + done.stderr
    out = {}
    for line in done.stdout.splitlines():
        path, status, header = line.split("|")
        directives = [part.split() for part in header.split(";") if part.strip()]
        out[path] = (int(status), {name: sources for name, *sources in directives})
    return out


def test_production_sends_the_policy_on_pages_api_and_static_files(tmp_path):
    policies = _policies(tmp_path)

    status, policy = policies["/login/"]
    assert status == 200
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]  # no inline, no eval
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert "blob:" in policy["worker-src"]
    assert policies["/api/v1/worklist/"][1] == policy  # a 403 carries it as well
    assert policies["/static/ichlabel/app.css"][1] == policy


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_no_page_template_needs_what_the_policy_refuses():
    templates = [
        path
        for app in ("annotations", "modelops", "ichlabel")
        for path in (ROOT / app).rglob("templates/**/*.html")
    ]
    offending = [
        str(path.relative_to(ROOT))
        for path in templates
        if INLINE_SCRIPT.search(text := path.read_text())
        or STYLE_ELEMENT.search(text)
        or EVENT_HANDLER.search(text)
    ]

    assert templates and not offending


@pytest.mark.django_db
def test_the_api_docs_page_loads_its_script_and_styles_from_files(client, coordinator):
    client.force_login(coordinator)

    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script")

    html = page.content.decode()
    assert page.status_code == 200 and "ichlabel/swagger" in html
    assert not INLINE_SCRIPT.search(html) and not STYLE_ELEMENT.search(html)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()

"""The frontend's API types are generated from the schema the running app serves.

scripts/test (and `npm run build`) write frontend/src/generated/schema.json with `manage.py
spectacular` and turn it into TypeScript; `tsc` then fails where the pages no longer fit it. This
test closes the loop: the document the types came from is the one /api/schema/ serves, so a
schema that depends on the request or the settings cannot leave the types behind.
"""

import json
from pathlib import Path

import pytest

GENERATED = Path(__file__).resolve().parents[2] / "frontend" / "src" / "generated" / "schema.json"


@pytest.mark.django_db
def test_the_generated_types_come_from_the_served_schema(client, coordinator):
    if not GENERATED.exists():
        pytest.fail("frontend/src/generated/schema.json is missing: run scripts/test")
    client.force_login(coordinator)

    served = client.get("/api/schema/", {"format": "json"})

    assert served.status_code == 200
    assert json.loads(served.content) == json.loads(GENERATED.read_text())

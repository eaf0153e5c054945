"""The served OpenAPI document is exactly the one committed in tests/contract/openapi.json.

Clients are generated from `/schema/`, so any change to it must be on purpose: a refactoring that
moves documentation around (calendars/openapi.py and friends) must serve the same document, and a
feature that changes the API shows its change in the diff of the snapshot. After a deliberate change:

    UPDATE_SCHEMA_SNAPSHOT=1 .venv/bin/pytest tests/test_schema_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

SNAPSHOT = Path(__file__).parent / "contract" / "openapi.json"

pytestmark = pytest.mark.django_db


def served() -> dict:
    response = APIClient().get("/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_served_schema_is_the_committed_one():
    document = served()
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SCHEMA_SNAPSHOT") == "1":
        SNAPSHOT.write_text(text)
    committed = json.loads(SNAPSHOT.read_text())
    changed = sorted(
        f"{method.upper()} {path}"
        for path in set(document["paths"]) | set(committed["paths"])
        for method in set(document["paths"].get(path, {})) | set(committed["paths"].get(path, {}))
        if document["paths"].get(path, {}).get(method) != committed["paths"].get(path, {}).get(method)
    )
    components = sorted(
        name
        for name in set(document["components"]["schemas"]) | set(committed["components"]["schemas"])
        if document["components"]["schemas"].get(name) != committed["components"]["schemas"].get(name)
    )
    assert (changed, components) == ([], []), "the schema changed; see the module's docstring"
    assert document == committed

"""The generated OpenAPI schema against the seed spec (tests/contract/seed_contract.json).

The contract file is the machine reading of the spec we were given; every operation
keeps its path, method, success status and component names, every component its
properties or enum values.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

CONTRACT = json.loads((Path(__file__).parent / "contract" / "seed_contract.json").read_text())


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def ref_name(schema: dict | None) -> str | None:
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            if name := ref_name(part):
                return name
    return None


def op_id(op: dict) -> str:
    return f"{op['method'].upper()} {op['path']}"


@pytest.mark.parametrize("op", CONTRACT["operations"], ids=op_id)
def test_operation_matches_seed(schema, op):
    operation = schema["paths"][op["path"]][op["method"]]
    responses = {str(code): body for code, body in operation["responses"].items()}
    assert op["status"] in responses
    if op["response"]:
        content = responses[op["status"]]["content"]["application/json"]
        assert ref_name(content["schema"]) == op["response"]
    if op["request"]:
        content = operation["requestBody"]["content"]
        for media in CONTRACT["request_media_types"]:
            assert ref_name(content[media]["schema"]) == op["request"], media
    declared = {p["name"] for p in operation.get("parameters", [])}
    assert set(op.get("query", [])) <= declared


@pytest.mark.parametrize("name", sorted(CONTRACT["components"]))
def test_component_matches_seed(schema, name):
    want = CONTRACT["components"][name]
    component = schema["components"]["schemas"][name]
    if "properties" in want:
        assert set(want["properties"]) <= set(component["properties"])
    if "enum" in want:
        assert sorted(map(str, component["enum"])) == sorted(map(str, want["enum"]))


def test_seed_is_complete():
    # The spec we were given: 34 operations and 20 components, none of them optional.
    assert len(CONTRACT["operations"]) == 34
    assert len(CONTRACT["components"]) == 20


def test_every_operation_documents_its_errors(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(map(str, operation["responses"]))
            assert "503" in codes, f"{method} {path}"
            if "{" in path:
                assert "404" in codes, f"{method} {path}"
            if "requestBody" in operation:
                assert "400" in codes, f"{method} {path}"


def test_schema_has_no_warnings(capsys):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")

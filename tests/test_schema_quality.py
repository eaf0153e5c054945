"""What client authors and generators need from the schema, held for every operation.

Each operation has an operation id that reads well, a summary and a description, an example for
its request body, a named schema for every body it answers (success and error alike), and the
error statuses it can answer. scripts/ci/client.sh proves the same end to end with a generated
client; these checks say which operation falls short, in a second.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")
JSON = "application/json"
REF = "#/components/schemas/"
# Bodies that are text by nature: iCalendar documents, and gunicorn's own page for an over-long request line.
TEXT_MEDIA_TYPES = {"text/calendar", "text/html"}
THROTTLED = {
    "auth_register",
    "auth_login",
    "auth_refresh",
    "auth_logout",
    "auth_me_export",
    "auth_me_delete",
    "calendars_invitations_remind",
}


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


SCHEMA = _schema()
OPERATIONS = {
    operation["operationId"]: (method, path, operation)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if method in METHODS
}
COMPONENTS = SCHEMA["components"]["schemas"]


def operations(*, with_body: bool = False) -> list:
    return [
        pytest.param(op_id, id=op_id)
        for op_id, (_method, _path, operation) in sorted(OPERATIONS.items())
        if "requestBody" in operation or not with_body
    ]


def is_named(schema: dict) -> bool:
    """A JSON body a generator can name: a component, a list of components, or one of those (`oneOf`)."""
    if "$ref" in schema:
        return schema["$ref"].startswith(REF)
    if "oneOf" in schema:
        return all(is_named(part) for part in schema["oneOf"])
    return schema.get("type") == "array" and "$ref" in schema.get("items", {})


def refs_in(schema: dict) -> list[str]:
    """The components a named body points at."""
    if "$ref" in schema:
        return [schema["$ref"].removeprefix(REF)]
    if "oneOf" in schema:
        return [name for part in schema["oneOf"] for name in refs_in(part)]
    return refs_in(schema["items"])


def untyped(node, where: str) -> list[str]:
    """Places in a schema fragment with no type at all (generators make them `Any`)."""
    found = []
    if isinstance(node, dict):
        typed = any(key in node for key in ("type", "$ref", "allOf", "oneOf", "anyOf", "enum"))
        if not typed:
            found.append(where)
        for key, value in node.get("properties", {}).items():
            found += untyped(value, f"{where}.{key}")
        if isinstance(node.get("items"), dict):
            found += untyped(node["items"], f"{where}[]")
        if isinstance(node.get("additionalProperties"), dict):
            found += untyped(node["additionalProperties"], f"{where}{{}}")
        for key in ("allOf", "oneOf", "anyOf"):
            for index, part in enumerate(node.get(key, [])):
                found += untyped(part, f"{where}.{key}[{index}]")
    return found


class TestEveryOperation:
    def test_operation_ids_are_unique(self):
        ids = [
            operation.get("operationId")
            for item in SCHEMA["paths"].values()
            for method, operation in item.items()
            if method in METHODS
        ]
        assert None not in ids
        assert len(ids) == len(set(ids))

    @pytest.mark.parametrize("op_id", operations())
    def test_operation_id_reads_well(self, op_id):
        # snake_case words, starting with the area (first path segment), no numbered duplicates.
        _method, path, _operation = OPERATIONS[op_id]
        area = path.strip("/").split("/")[0]
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", op_id), op_id
        assert op_id.startswith(area), f"{op_id} does not start with its area {area!r}"

    @pytest.mark.parametrize("op_id", operations())
    def test_has_summary_description_and_one_tag(self, op_id):
        operation = OPERATIONS[op_id][2]
        assert operation.get("summary", "").strip(), "no summary"
        assert len(operation.get("description", "").strip()) >= 20, "no description worth the name"
        assert len(operation.get("tags", [])) == 1, operation.get("tags")

    @pytest.mark.parametrize("op_id", operations(with_body=True))
    def test_request_body_is_named_and_has_an_example(self, op_id):
        operation = OPERATIONS[op_id][2]
        content = operation["requestBody"]["content"]
        assert JSON in content
        assert is_named(content[JSON]["schema"]), content[JSON]["schema"]
        examples = content[JSON].get("examples") or {}
        assert examples or "example" in content[JSON], "no request example"
        for example in examples.values():
            # A body: an object, or (for operations that take several) an array of objects.
            value = example.get("value")
            assert isinstance(value, dict) or (isinstance(value, list) and all(isinstance(v, dict) for v in value))

    @pytest.mark.parametrize("op_id", operations())
    def test_every_body_answered_has_a_named_schema(self, op_id):
        _method, _path, operation = OPERATIONS[op_id]
        responses = operation["responses"]
        successes = [code for code in responses if code.startswith("2")]
        assert len(successes) == 1, successes
        for code, response in responses.items():
            if not code.startswith("2"):
                assert response.get("description", "").strip(), f"{code} has no description"
            if code in ("204", "304"):  # No Content; Not Modified (the answer to If-None-Match)
                assert "content" not in response, f"{code} declares a body"
                continue
            content = response.get("content")
            assert content, f"{code} declares no body"
            for media, body in content.items():
                assert "schema" in body, f"{code} {media} has no schema"
                if media in TEXT_MEDIA_TYPES:
                    assert body["schema"].get("type") == "string", f"{code} {media}"
                else:
                    assert media == JSON, f"{code} answers {media}"
                    assert is_named(body["schema"]), f"{code} answers an unnamed body {body['schema']}"

    @pytest.mark.parametrize("op_id", operations())
    def test_declares_the_errors_it_can_answer(self, op_id):
        _method, path, operation = OPERATIONS[op_id]
        declared = set(operation["responses"])
        authenticated = {} not in operation.get("security", [{}])
        has_input = "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", []))
        expected = {"503"}
        if authenticated:
            expected.add("401")
        if "{" in path:
            expected.add("404")
        if has_input:
            expected.add("400")
        if op_id in THROTTLED:
            expected.add("429")
        assert expected <= declared, f"missing {sorted(expected - declared)}"
        for code in declared - {"414"}:
            if code[0] in "45":
                schema = operation["responses"][code]["content"][JSON]["schema"]
                name = schema["$ref"].removeprefix(REF)
                assert name in {"ErrorDetail", "ValidationErrorBody"}, f"{code} answers {name}"

    @pytest.mark.parametrize("op_id", operations())
    def test_parameters_are_typed_and_described(self, op_id):
        for parameter in OPERATIONS[op_id][2].get("parameters", []):
            assert parameter.get("description", "").strip(), f"{parameter['name']} has no description"
            assert untyped(parameter["schema"], parameter["name"]) == []


class TestComponents:
    @pytest.mark.parametrize("name", sorted(COMPONENTS))
    def test_every_property_is_typed(self, name):
        places = untyped(COMPONENTS[name], name)
        # Field errors are free-form by nature: a list of messages, or nested errors for nested fields.
        assert [place for place in places if place != "ValidationErrorBody{}"] == []

    @pytest.mark.parametrize("name", sorted(n for n, c in COMPONENTS.items() if "enum" in c))
    def test_enums_are_typed_and_complete(self, name):
        enum = COMPONENTS[name]
        assert enum.get("type") in {"string", "integer"}
        assert len(enum["enum"]) == len(set(enum["enum"])) >= 2
        assert enum.get("description", "").startswith("*"), "the values are not explained"

    def test_every_component_is_used(self):
        text = json.dumps(SCHEMA["paths"]) + json.dumps(COMPONENTS)
        unused = [name for name in COMPONENTS if f'"{REF}{name}"' not in text]
        assert unused == []


# --- the document the generated client is made from (stories/client/prepare_schema.py) --------------------


def _prepare_module():
    path = Path(__file__).resolve().parent.parent / "stories" / "client" / "prepare_schema.py"
    spec = importlib.util.spec_from_file_location("prepare_schema", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def prepared() -> dict:
    module = _prepare_module()
    doc = json.loads(json.dumps(SCHEMA))
    module.json_only_request_bodies(doc)
    module.split_by_direction(doc)
    return doc


class TestClientDocument:
    def test_keeps_every_operation_and_its_answers(self, prepared):
        for path, item in SCHEMA["paths"].items():
            for method, operation in item.items():
                if method not in METHODS:
                    continue
                mine = prepared["paths"][path][method]
                assert mine["operationId"] == operation["operationId"]
                assert mine["responses"].keys() == operation["responses"].keys()
                assert mine.get("parameters") == operation.get("parameters")

    def test_request_bodies_are_json_and_never_ask_for_read_only_fields(self, prepared):
        components = prepared["components"]["schemas"]
        for item in prepared["paths"].values():
            for method, operation in item.items():
                if method in METHODS and "requestBody" in operation:
                    content = operation["requestBody"]["content"]
                    assert list(content) == [JSON]
                    for name in refs_in(content[JSON]["schema"]):
                        properties = components[name].get("properties", {})
                        assert not [p for p, s in properties.items() if s.get("readOnly")], name
        calendar = components["CalendarCreateRequest"]
        assert "id" not in calendar["properties"]
        assert calendar["properties"]["days"]["items"]["$ref"] == f"{REF}DayRequest"
        assert components["DayRequest"]["properties"]["timeslots"]["items"]["$ref"] == f"{REF}TimeSlotRequest"
        assert set(components["TimeSlotRequest"]["required"]) == {"start_time", "end_time"}

    def test_answers_never_expect_write_only_fields(self, prepared):
        components = prepared["components"]["schemas"]
        assert set(components["TokenObtainPair"]["required"]) == {"access", "refresh"}
        assert set(components["TokenObtainPairRequest"]["required"]) == {"username", "password"}
        assert "password" not in components["User"]["properties"]
        assert {"password", "password2"} <= set(components["UserRequest"]["required"])

    def test_timeslots_can_be_sent_one_or_several_at_once(self, prepared):
        # A generated client sends one slot or an array of them to POST, and an array to the whole-day PUT.
        item = prepared["paths"]["/calendars/{calendar_id}/day/{day_id}/timeslot/"]
        create = item["post"]["requestBody"]["content"][JSON]["schema"]
        assert [part.get("$ref") or part["items"]["$ref"] for part in create["oneOf"]] == [
            f"{REF}TimeSlotRequest",
            f"{REF}TimeSlotRequest",
        ]
        assert item["post"]["requestBody"]["required"] is True
        replace = item["put"]["requestBody"]["content"][JSON]["schema"]
        assert replace == {"type": "array", "items": {"$ref": f"{REF}TimeSlotBulkItem"}}
        assert item["put"]["responses"]["200"]["content"][JSON]["schema"]["items"] == {"$ref": f"{REF}TimeSlot"}

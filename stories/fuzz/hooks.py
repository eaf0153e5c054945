"""schemathesis hooks for scripts/ci/fuzz.sh: consistent ids for nested routes, one leniency.

The dictionaries in the config draw each path id on its own, so a calendar, a day of that
calendar and a slot of that day rarely come together. Here, whenever the fuzzer generated
valid integer ids for a nested route, half of the cases use a seeded (calendar, day, slot) or
(calendar, invitation) that exists instead; deletes spare a few seeded calendars and friendships
so that the operations tested after them still find them, the feed gets the fuzzer's current
token half of the time, and a valid Idempotency-Key is made unique (a key drawn twice would be a
replay). Ids come from FUZZ_IDS_FILE (stories/fuzz/seed.py), the served OpenAPI document from
FUZZ_SCHEMA_FILE.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import schemathesis
from hypothesis import strategies as st

IDS = json.loads(Path(os.environ["FUZZ_IDS_FILE"]).read_text())
PATHS = {
    frozenset({"calendar_id", "day_id"}): [{"calendar_id": c, "day_id": d} for c, d in IDS["day_paths"]],
    frozenset({"calendar_id", "day_id", "id"}): [
        {"calendar_id": c, "day_id": d, "id": s} for c, d, s in IDS["slot_paths"]
    ],
    frozenset({"calendar_id", "id"}): [{"calendar_id": c, "id": i} for c, i in IDS["invitation_paths"]],
}
# Operations that would end the seeded objects the others need: they spare a few.
PROTECTED = {
    ("DELETE", "/calendars/{id}/"): set(IDS["protected_calendars"]),
    ("DELETE", "/contacts/{id}/"): set(IDS["protected_contacts"]),
    ("PUT", "/contacts/{id}/"): set(IDS["protected_contacts"]),
    ("PATCH", "/contacts/{id}/"): set(IDS["protected_contacts"]),
}
FEED = "/calendars/feed/{token}.ics"


def _current_feed_token() -> str | None:
    """The fuzzer's feed token now (the fuzzer rotates it too), read with its own JWT."""
    import requests

    response = requests.get(
        os.environ["FUZZ_BASE_URL"] + "/calendars/feed-token/",
        headers={"Authorization": f"Bearer {os.environ['FUZZ_TOKEN']}"},
        timeout=10,
    )
    return response.json().get("token") if response.ok else None


# A key the fuzzer draws twice ("0" is a favourite) turns the second request into a replay of another
# one, or a 422, on purpose (docs/idempotency.md): a valid key is made unique, an invalid one stays (400).
IDEMPOTENCY_KEY = "Idempotency-Key"
VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def _unique_idempotency_key(case) -> None:
    key = (case.headers or {}).get(IDEMPOTENCY_KEY)
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        case.headers[IDEMPOTENCY_KEY] = f"fuzz-{uuid.uuid4()}"


@schemathesis.hook
def before_call(context, case, kwargs):
    # Every phase, the deterministic coverage phase included, goes through here.
    _unique_idempotency_key(case)
    protected = PROTECTED.get((case.method.upper(), case.operation.path))
    if not protected or not isinstance(case.path_parameters, dict):
        return
    value = case.path_parameters.get("id")  # an int, or its text in the coverage phase
    if not isinstance(value, bool) and str(value) in {str(pk) for pk in protected}:
        spared = int(value) + 1_000_000
        case.path_parameters = {**case.path_parameters, "id": spared if isinstance(value, int) else str(spared)}


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    if not isinstance(path_parameters, dict):  # a negative case without valid parameters
        return st.just(path_parameters)
    operation = context.operation
    if operation.path == FEED and isinstance(path_parameters.get("token"), str):
        token = _current_feed_token()
        return st.sampled_from([path_parameters, {"token": token}] if token else [path_parameters])
    seeded = PATHS.get(frozenset(path_parameters or ()))
    # Only where the generated ids are valid: a case made invalid on purpose stays invalid.
    if not seeded or not all(type(value) is int for value in path_parameters.values()):
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.sampled_from(seeded))


# Two leniencies of DRF that OpenAPI cannot state, kept on purpose (docs/security.md, "Fuzzing"):
# - a JSON number sent for a string field is read as its text (`0` becomes "0");
# - in a form body (multipart or urlencoded) an optional field sent empty counts as not sent,
#   and a read-only field sent is ignored, as in every body.
# A "schema-violating request accepted" whose every violation is one of these, or whose request
# is valid after all (the tool's record of the case does not match what it sent), is dropped here
# (schemathesis prints how many); every other one fails the run.
SCHEMA = json.loads(Path(os.environ["FUZZ_SCHEMA_FILE"]).read_text())
FORMS = {"multipart/form-data", "application/x-www-form-urlencoded"}


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _media_type(case) -> str:
    # A stateful step may leave the media type unset: its body is then sent as JSON.
    return case.media_type or "application/json"


def _body_schema(case) -> dict | None:
    operation = SCHEMA["paths"].get(case.operation.path, {}).get(case.method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {}).get(_media_type(case))
    return None if content is None else _resolve(content["schema"])


def _schema_at(schema: dict, parts: list[str]) -> dict | None:
    """The schema a pointer's segments lead to (`properties/a`, `items`, `$ref/Name`), or None."""
    parts = list(parts)
    while parts:
        keyword = parts.pop(0)
        if keyword == "$ref" and parts:
            parts.pop(0)  # the value channel names the reference it followed; _resolve follows it at each step
        elif keyword == "properties" and parts:
            schema = _resolve(schema.get("properties", {}).get(parts.pop(0), {}))
        elif keyword == "items":
            schema = _resolve(schema.get("items", {}))
        else:
            return None
    return schema


def _value_along(body, parts: list[str]) -> object:
    """The value a pointer's segments lead to in the body, an array's first item standing for its items."""
    for index, keyword in enumerate(parts):
        if keyword == "properties" and index + 1 < len(parts) and isinstance(body, dict):
            body = body.get(parts[index + 1])
        elif keyword == "items":
            if not isinstance(body, list) or not body:
                return None
            body = body[0]
    return body


def _value_at(body, path) -> object:
    for key in path:
        if isinstance(body, dict) and isinstance(key, str):
            body = body.get(key)
        elif isinstance(body, list) and isinstance(key, int) and 0 <= key < len(body):
            body = body[key]
        else:
            return None
    return body


def _string_number(schema: dict, body, pointer: str, keywords: tuple[str, ...], path: tuple = ()) -> bool:
    """True when a `type` violation at `pointer` is a number sent for a string field.

    Both spellings of the pointer occur: the schema channel names the keyword
    (`/properties/a/items/properties/b/type`, sometimes with a leading `#`), the value channel
    names the property (`/properties/username`, with `/$ref/Name` where it followed a reference)
    and gives the value's own path in the body.
    """
    parts = [part for part in pointer.lstrip("#").split("/") if part]
    if parts[-1:] == ["type"] and parts[-2:-1] != ["properties"]:  # the keyword, not a property named "type"
        parts, keywords = parts[:-1], ("type",)
    if tuple(keywords) != ("type",):
        return False
    target = _schema_at(schema, parts)
    if target is None:
        return False
    value = _value_at(body, path) if path else _value_along(body, parts)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and target.get("type") == "string"


def _form_leniency(schema: dict, body, pointer: str) -> bool:
    """True when `pointer` names a top-level form field that is read-only, or optional and sent empty."""
    parts = pointer.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "properties" or not isinstance(body, dict):
        return False
    name = parts[1]
    prop = _resolve(schema.get("properties", {}).get(name, {}))
    if prop.get("readOnly"):
        return True
    return body.get(name) in ("", [""]) and name not in schema.get("required", [])


def _not_a_violation(schema: dict, case, data) -> bool:
    """Findings whose request is valid after all: the case's record does not match what was sent."""
    description = str(getattr(data, "description", "") or "")
    if description.startswith("Missing required property: "):
        # Seen with properties that have a default: they are optional in the schema.
        name = description.removeprefix("Missing required property: ").strip()
        return name not in schema.get("required", [])
    mutations = getattr(data, "mutations", ())
    # "The body became a string" while the body sent is an object (a dictionary draw replaced it).
    return (
        bool(mutations)
        and isinstance(case.body, dict)
        and all(m.schema_pointer in ("", "/", "#") and "type" in m.keywords for m in mutations)
    )


def _excused(case) -> bool:
    schema = _body_schema(case)
    data = case.meta.phase.data
    if schema is None:
        return False
    if _not_a_violation(schema, case, data):
        return True
    mutations = [(m.schema_pointer, tuple(m.keywords), tuple(m.path)) for m in getattr(data, "mutations", ())]
    # The coverage phase records only a pointer (`location`).
    found = mutations or [(getattr(data, "location", None), (), ())]
    if not all(pointer for pointer, _, _ in found):
        return False
    if _media_type(case) == "application/json":
        return all(_string_number(schema, case.body, *mutation) for mutation in found)
    if _media_type(case) in FORMS:
        return all(_form_leniency(schema, case.body, pointer) for pointer, _, _ in found)
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if failure.code != "ST201" or case.meta is None:
        return True
    return not _excused(case)

"""OpenAPI post-processing: every operation documents the errors it can answer with.

drf-spectacular documents only the success status; clients and fuzzers need the
error statuses too, each with its body. The schemathesis run in CI (scripts/ci/fuzz.sh)
checks every response against what this hook declares, so a status declared here that
the code never answers, or one answered but not declared, shows up there.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.request import Request

ERROR_REF = {"$ref": "#/components/schemas/ErrorDetail"}
VALIDATION_REF = {"$ref": "#/components/schemas/ValidationErrorBody"}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: each offending field is named with its messages.",
    "401": "Authentication credentials were not provided or are invalid.",
    "403": "The object is visible to you but you may not perform this action.",
    "404": "Not found, or not visible to you.",
    "413": "The request body is larger than the server accepts (`MAX_REQUEST_BODY_BYTES`, 1 MiB by default).",
    "415": "The request body's media type is not one of those listed for this operation.",
    "503": "The database is unavailable; nothing was changed. Retry later (see `Retry-After`).",
}
URI_TOO_LONG = {
    "description": (
        "The request line (method, path and query string) is longer than the HTTP server accepts "
        "(8190 bytes). Answered by the HTTP server before the application, as an HTML page."
    ),
    "content": {"text/html": {"schema": {"type": "string"}}},
}
WRITE_METHODS = {"post", "put", "patch"}
# Every write of a signed-in user takes an Idempotency-Key (idempotency/; docs/frontend.md, "Sending a write again").
KEYED_METHODS = {"post", "put", "patch", "delete"}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": (
        "A key you make for this one write (a UUID), to send it again safely: for 24 hours, the same request "
        "(method, path and body) with the same key is not done again but answered the first answer, with "
        "`Idempotent-Replayed: true`; another request with the key is a 422, and one sent while the first is "
        "still running a 409. 1 to 255 printable ASCII characters; keys are per user."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    "example": "0b8e2bb4-53a4-4c52-9a52-1b6f3c5d7e90",
}
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer of an earlier request with the same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before sending the request again (when it is worth sending again).",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
KEY_IN_USE = "A request with this `Idempotency-Key` is still in progress: send it again after `Retry-After` seconds."
KEY_IN_USE_EXAMPLE = {
    "value": {
        "detail": ("A request with this Idempotency-Key is still in progress; send it again after Retry-After seconds.")
    }
}
KEY_REUSED = {
    "description": (
        "The `Idempotency-Key` was used in the last 24 hours for another request (another method, path or body); "
        "nothing was done. Send a new key with a new request."
    ),
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorDetail"},
            "examples": {
                "KeyReused": {
                    "value": {
                        "detail": (
                            "This Idempotency-Key was used for another request (POST /calendars/) in the last "
                            "24 hours: a key goes with one method, path and body. Send a new key with a new request."
                        )
                    }
                }
            },
        }
    },
}
INVALID_KEY = "The `Idempotency-Key` header is not 1 to 255 printable ASCII characters."
INVALID_KEY_EXAMPLE = {
    "value": {"Idempotency-Key": ["The Idempotency-Key header must be 1 to 255 printable ASCII characters."]}
}


def _json(ref: dict) -> dict:
    return {"application/json": {"schema": ref}}


def _max_page_size() -> int:
    from oneonone.pagination import PageNumberPagination

    return PageNumberPagination.max_page_size


def _tighten_parameters(operation: dict) -> None:
    """Declare what the server enforces on path ids and query parameters."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("in") == "path" and schema.get("type") == "string" and schema.get("pattern") == r"^\d+$":
            # A viewset's `lookup_value_regex = r"\d+"` comes out as a string; it is an integer id.
            parameter["schema"] = {"type": "integer"}
            continue
        if parameter.get("in") != "query":
            continue
        if parameter.get("name") == "page_size":
            schema.update({"type": "integer", "minimum": 1, "maximum": _max_page_size()})
            parameter["description"] = f"Number of results to return per page, 1 to {_max_page_size()} (default 10)."
        elif parameter.get("name") == "page":
            schema.update({"type": "integer", "minimum": 1})
        if not parameter.get("required"):
            # DRF, django-filter and the query serializers read `?name=` as if `name` were left out.
            parameter["allowEmptyValue"] = True


def _sent(paths: dict, schemas: dict) -> set[str]:
    """The components a request body can hold, at any depth."""
    seen: set[str] = set()
    todo = [operation.get("requestBody", {}) for item in paths.values() for operation in item.values()]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            name = ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None
            if name and name not in seen:
                seen.add(name)
                todo.append(schemas.get(name, {}))
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return seen


def _require_non_blank(schemas: dict, sent: set[str]) -> None:
    """Required, writable free-text strings of what clients send are non-blank (DRF's CharField refuses "").

    drf-spectacular emits `minLength: 1` only with COMPONENT_SPLIT_REQUEST, which the spec's
    component names rule out; a field that does allow blanks would show up in the fuzzer as
    a blank value accepted against the schema. Components only answered are left alone: there
    `required` says a property is always answered (`Me.timezone`, blank when unset), not that
    an input must be non-blank.
    """
    for component, schema in schemas.items():
        if component not in sent:
            continue
        for name in schema.get("required", []):
            prop = schema.get("properties", {}).get(name, {})
            if prop.get("type") != "string" or prop.get("readOnly"):
                continue
            if not any(key in prop for key in ("minLength", "enum", "format", "pattern")):
                prop["minLength"] = 1


def _link(operation_id: str, parameters: dict[str, str], description: str) -> dict:
    return {"operationId": operation_id, "parameters": parameters, "description": description}


def _links() -> dict[tuple[str, str], dict[str, dict]]:
    """OpenAPI links from a created object to the operations on it (for clients and the fuzzer)."""
    calendar = {"id": "$response.body#/id"}
    first_day = {"calendar_id": "$response.body#/id", "day_id": "$response.body#/days/0/id"}
    in_calendar = {"calendar_id": "$response.body#/id"}
    slot = {"calendar_id": "$request.path.calendar_id", "day_id": "$request.path.day_id", "id": "$response.body#/id"}
    invitation = {"calendar_id": "$request.path.calendar_id", "id": "$response.body#/id"}
    contact = {"id": "$response.body#/id"}
    webhook = {"id": "$response.body#/id"}
    links = {
        ("calendars_create", "201"): {
            "GetCalendar": _link("calendars_retrieve", calendar, "The calendar just created."),
            "EditCalendar": _link("calendars_update", calendar, "Edit the calendar just created."),
            "DeleteCalendar": _link("calendars_destroy", calendar, "Delete the calendar just created."),
            "ListFirstDaySlots": _link("calendars_day_timeslot_list", first_day, "The slots of its first day."),
            "AddFirstDaySlot": _link("calendars_day_timeslot_create", first_day, "Add a slot to its first day."),
            "ListInvitations": _link("calendars_invitations_list", in_calendar, "Its invitations."),
            "Invite": _link("calendars_invitations_create", in_calendar, "Invite a friend to it."),
        },
        ("calendars_day_timeslot_create", "201"): {
            "GetSlot": _link("calendars_day_timeslot_retrieve", slot, "The slot just added."),
            "MoveSlot": _link("calendars_day_timeslot_update", slot, "Move the slot just added."),
            "DeleteSlot": _link("calendars_day_timeslot_destroy", slot, "Delete the slot just added."),
        },
        ("calendars_invitations_create", "201"): {
            "GetInvitation": _link("calendars_invitations_retrieve", invitation, "The invitation just made."),
            "AnswerInvitation": _link("calendars_invitations_answer", invitation, "The invitee answers it."),
            "RevokeInvitation": _link("calendars_invitations_revoke", invitation, "Revoke it."),
        },
        ("webhooks_create", "201"): {
            "GetWebhook": _link("webhooks_retrieve", webhook, "The webhook just registered."),
            "ChangeWebhook": _link("webhooks_partial_update", webhook, "Change it."),
            "RotateSecret": _link("webhooks_rotate_secret", webhook, "Rotate its secret."),
            "ListDeliveries": _link("webhooks_deliveries_list", webhook, "Its deliveries."),
            "DeleteWebhook": _link("webhooks_destroy", webhook, "Delete it."),
        },
        ("contacts_create", "201"): {
            "GetContact": _link("contacts_retrieve", contact, "The relation just made."),
            "ChangeContact": _link("contacts_partial_update", contact, "Change its status."),
            "RemoveContact": _link("contacts_destroy", contact, "Remove it."),
        },
    }
    for action in ("add", "accept", "reject", "block"):
        links[(f"contacts_{action}", "200")] = {
            "GetContact": _link("contacts_retrieve", contact, "The relation after the move."),
            "ChangeContact": _link("contacts_partial_update", contact, "Change its status."),
            "RemoveContact": _link("contacts_destroy", contact, "Remove it."),
        }
    return links


def _add_links(paths: dict) -> None:
    operations = {
        operation.get("operationId"): operation
        for item in paths.values()
        for method, operation in item.items()
        if isinstance(operation, dict) and method in {"get", "post", "put", "patch", "delete"}
    }
    for (operation_id, code), links in _links().items():
        response = operations.get(operation_id, {}).get("responses", {}).get(code)
        if response is None:
            continue
        # A link to an operation that no longer exists would make the document invalid.
        wanted = {name: link for name, link in links.items() if link["operationId"] in operations}
        if wanted:
            response.setdefault("links", {}).update(wanted)


def _document_idempotency_key(operation: dict) -> None:
    """The header, what a replay adds to the answer, and the 400, 409 and 422 a key can bring.

    Responses are copied before they change: the generator may share one object between operations.
    """
    operation.setdefault("parameters", []).append(copy.deepcopy(IDEMPOTENCY_KEY))
    responses = operation["responses"]
    for code in [code for code in responses if code.startswith("2")]:
        responses[code] = copy.deepcopy(responses[code])
        responses[code].setdefault("headers", {}).update(copy.deepcopy(REPLAYED_HEADER))
    invalid = copy.deepcopy(responses.get("400") or {"description": INVALID_KEY, "content": _json(VALIDATION_REF)})
    if invalid["description"] != INVALID_KEY:
        invalid["description"] = f"{invalid['description'].rstrip('.')}. Or: {INVALID_KEY[0].lower()}{INVALID_KEY[1:]}"
    invalid["content"]["application/json"].setdefault("examples", {})["InvalidIdempotencyKey"] = INVALID_KEY_EXAMPLE
    conflict = copy.deepcopy(responses.get("409") or {"description": KEY_IN_USE, "content": _json(ERROR_REF)})
    if conflict["description"] != KEY_IN_USE:
        conflict["description"] = f"{conflict['description'].rstrip('.')}. Or: {KEY_IN_USE[0].lower()}{KEY_IN_USE[1:]}"
    conflict.setdefault("headers", {}).update(copy.deepcopy(RETRY_AFTER_HEADER))
    conflict["content"]["application/json"].setdefault("examples", {})["IdempotencyKeyInUse"] = KEY_IN_USE_EXAMPLE
    responses.update({"400": invalid, "409": conflict, "422": copy.deepcopy(KEY_REUSED)})


def add_error_responses(
    result: dict[str, Any], generator: SchemaGenerator, request: Request | None, public: bool
) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    _require_non_blank(schemas, _sent(result.get("paths", {}), schemas))
    _add_links(result.get("paths", {}))
    schemas["ErrorDetail"] = {
        "type": "object",
        "description": "An error that is not about one field.",
        "properties": {
            "detail": {"type": "string", "example": "Not found."},
            # simplejwt's token errors (401) say which rule refused the token.
            "code": {
                "type": "string",
                "example": "token_not_valid",
                "description": "On a refused token (401): `token_not_valid`, or `user_not_found`, `user_inactive`...",
            },
            "messages": {
                "type": "array",
                "description": "On a refused access token (401): why, per token type tried.",
                "items": {
                    "type": "object",
                    "properties": {
                        "token_class": {"type": "string"},
                        "token_type": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
        "required": ["detail"],
    }
    schemas["ValidationErrorBody"] = {
        "type": "object",
        "description": (
            "Field errors: each key is a field name (or `non_field_errors`, or `detail`), "
            "each value a list of messages, or nested errors for nested fields."
        ),
        "additionalProperties": {},
        "example": {"username": ["A user with that username already exists."]},
    }
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            _tighten_parameters(operation)
            responses = operation.setdefault("responses", {})
            security = operation.get("security", [])
            authenticated = bool(security) and {} not in security
            has_params = "{" in path
            has_body = "requestBody" in operation
            has_input = has_body or any(p.get("in") == "query" for p in operation.get("parameters", []))
            wanted = []
            if has_input:
                wanted.append("400")
            if authenticated:
                wanted.append("401")
                if method != "get":
                    wanted.append("403")
            if has_params or (has_input and method == "get"):
                wanted.append("404")
            if has_body or method in WRITE_METHODS:
                wanted.extend(["413", "415"])
            wanted.append("503")
            for code in wanted:
                if code not in responses:
                    body = VALIDATION_REF if code == "400" else ERROR_REF
                    responses[code] = {"description": ERROR_DESCRIPTIONS[code], "content": _json(body)}
            responses.setdefault("414", URI_TOO_LONG)
            if authenticated and method in KEYED_METHODS:
                _document_idempotency_key(operation)
    return result

"""OpenAPI post-processing: every operation documents the errors it can answer with.

drf-spectacular documents only the success status; clients and fuzzers need the
error statuses too, each with its JSON body.
"""

from __future__ import annotations

ERROR_REF = {"$ref": "#/components/schemas/ErrorDetail"}
VALIDATION_REF = {"$ref": "#/components/schemas/ValidationErrorBody"}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: each offending field is named with its messages.",
    "401": "Authentication credentials were not provided or are invalid.",
    "403": "The object is visible to you but you may not perform this action.",
    "404": "Not found, or not visible to you.",
    "503": "The database is unavailable; nothing was changed. Retry later.",
}


def _json(ref: dict) -> dict:
    return {"application/json": {"schema": ref}}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorDetail"] = {
        "type": "object",
        "description": "An error that is not about one field.",
        "properties": {"detail": {"type": "string", "example": "Not found."}},
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
            responses = operation.setdefault("responses", {})
            security = operation.get("security", [])
            authenticated = bool(security) and {} not in security
            has_params = "{" in path
            has_input = "requestBody" in operation or any(
                p.get("in") == "query" for p in operation.get("parameters", [])
            )
            wanted = []
            if has_input:
                wanted.append("400")
            if authenticated:
                wanted.append("401")
                if method != "get":
                    wanted.append("403")
            if has_params or (has_input and method == "get"):
                wanted.append("404")
            wanted.append("503")
            for code in wanted:
                if code not in responses:
                    body = VALIDATION_REF if code == "400" else ERROR_REF
                    responses[code] = {"description": ERROR_DESCRIPTIONS[code], "content": _json(body)}
    return result

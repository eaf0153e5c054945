#!/usr/bin/env python3
"""Adapt the served OpenAPI document to two known limits of openapi-python-client, and nothing else.

Usage: python3 stories/client/prepare_schema.py served.json client.json

The served document keeps one component per shape for both directions and lists every request
body under JSON, form and multipart (the seed contract fixes those names and media types). Both
are valid OpenAPI, but openapi-python-client 0.29 mishandles them:

1. When several media types of a request body share one schema, the generated code sends the
   last one listed (multipart), which cannot carry nested lists such as a calendar's days
   (upstream issue openapi-python-client#1276). The client speaks JSON, so only JSON is kept.
2. It ignores `readOnly` and `writeOnly`: a required read-only `id` must be passed when creating,
   and a response without the write-only `password` fails to parse (upstream #1204). So, as
   drf-spectacular's own COMPONENT_SPLIT_REQUEST would, a component used in both directions gets a
   `<Name>Request` twin for requests without its read-only properties; a component only sent loses
   its read-only properties, and one only read its write-only ones.

Nothing else changes: paths, operation ids, parameters, types, enums and descriptions are the
served ones, so a schema bug still shows up in the generated client.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path

PREFIX = "#/components/schemas/"
JSON = "application/json"


def refs(node) -> Iterator[str]:
    """Names of the components a schema fragment points at, at any depth."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(PREFIX):
            yield ref[len(PREFIX) :]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def rewrite_refs(node, names: dict[str, str]) -> None:
    """Point every `$ref` to a renamed component at its new name, in place."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(PREFIX) and ref[len(PREFIX) :] in names:
            node["$ref"] = PREFIX + names[ref[len(PREFIX) :]]
        for value in node.values():
            rewrite_refs(value, names)
    elif isinstance(node, list):
        for value in node:
            rewrite_refs(value, names)


def closure(roots: set[str], schemas: dict) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(refs(schemas[name]))
    return seen


def flagged(schema: dict, flag: str) -> list[str]:
    return [name for name, prop in schema.get("properties", {}).items() if prop.get(flag)]


def without(schema: dict, names: list[str]) -> dict:
    """A copy of an object schema without some properties (and without them in `required`)."""
    result = copy.deepcopy(schema)
    for name in names:
        result.get("properties", {}).pop(name, None)
    required = [name for name in result.get("required", []) if name not in names]
    if required:
        result["required"] = required
    else:
        result.pop("required", None)
    return result


def operations(doc: dict) -> Iterator[dict]:
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                yield operation


def json_only_request_bodies(doc: dict) -> int:
    changed = 0
    for operation in operations(doc):
        content = operation.get("requestBody", {}).get("content", {})
        if JSON in content and len(content) > 1:
            operation["requestBody"]["content"] = {JSON: content[JSON]}
            changed += 1
    return changed


def split_by_direction(doc: dict) -> list[str]:
    schemas = doc.get("components", {}).get("schemas", {})
    bodies = [op["requestBody"] for op in operations(doc) if "requestBody" in op]
    responses = [op.get("responses", {}) for op in operations(doc)]
    in_requests = closure(set(refs(bodies)), schemas)
    in_responses = closure(set(refs(responses)), schemas)
    both = in_requests & in_responses

    # A shape used both ways gets a request twin where the directions differ, or where it holds such a shape.
    twins: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name in sorted(both - twins):
            schema = schemas[name]
            if flagged(schema, "readOnly") or flagged(schema, "writeOnly") or twins & set(refs(schema)):
                twins.add(name)
                changed = True
    names = {name: f"{name}Request" for name in twins}
    clash = [new for new in names.values() if new in schemas]
    if clash:
        sys.exit(f"prepare_schema: components {clash} exist already; cannot split")

    for name in sorted(twins):
        schemas[names[name]] = without(schemas[name], flagged(schemas[name], "readOnly"))
        rewrite_refs(schemas[names[name]], names)
    # Shapes only ever sent lose their read-only properties in place and keep their names.
    for name in in_requests - in_responses:
        schemas[name] = without(schemas[name], flagged(schemas[name], "readOnly"))
        rewrite_refs(schemas[name], names)
    rewrite_refs(bodies, names)
    # Shapes only ever read (the originals of the twins included) lose their write-only properties.
    for name in in_responses:
        schemas[name] = without(schemas[name], flagged(schemas[name], "writeOnly"))
    return sorted(names.values())


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    doc = json.loads(Path(argv[1]).read_text())
    bodies = json_only_request_bodies(doc)
    twins = split_by_direction(doc)
    Path(argv[2]).write_text(json.dumps(doc, indent=2))
    print(f"prepare_schema: {bodies} request bodies kept as JSON only; request twins: {', '.join(twins)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

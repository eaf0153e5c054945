"""Every route of the URL configuration, as a concrete path, for the sweeps of the hardening tests."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

METHODS = ("get", "post", "put", "patch", "delete")


def example_paths(number: str = "1") -> list[str]:
    """One path per URL pattern, each path parameter replaced by `number` (ids) or "x" (other text)."""
    return sorted({path.replace(ID, number) for path in _templates()})


def paths_with_each_id(number: str, other: str = "1") -> list[str]:
    """For every id of every URL pattern, a path with that id `number` and the pattern's other ids `other`."""
    paths = set()
    for template in _templates():
        pieces = template.split(ID)
        for position in range(1, len(pieces)):
            ids = [number if i == position else other for i in range(1, len(pieces))]
            paths.add(pieces[0] + "".join(i + piece for i, piece in zip(ids, pieces[1:], strict=True)))
    return sorted(paths)


ID = "\x00id\x00"  # where an id goes in a template


def _templates() -> set[str]:
    paths: set[str] = set()

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            text = prefix + str(entry.pattern).lstrip("^").rstrip("$")
            text = re.sub(r"\(\?P<\w+>\\d\+\)", ID, text)
            text = re.sub(r"\(\?P<\w+>[^)]*\)", "x", text).replace("\\", "")
            text = re.sub(r"<(?:int|id):\w+>", ID, text)
            text = re.sub(r"<(?:\w+:)?\w+>", "x", text)
            if isinstance(entry, URLResolver):
                walk(entry, text)
            elif isinstance(entry, URLPattern):
                paths.add("/" + text)

    walk(get_resolver(), "")
    return paths

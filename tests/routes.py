"""Every route of the URL configuration, as a concrete path, for the sweeps of the hardening tests."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

METHODS = ("get", "post", "put", "patch", "delete")


def example_paths(number: str = "1") -> list[str]:
    """One path per URL pattern, each path parameter replaced by `number` (ids) or "x" (other text)."""
    paths: set[str] = set()

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            text = prefix + str(entry.pattern).lstrip("^").rstrip("$")
            text = re.sub(r"\(\?P<\w+>\\d\+\)", number, text)
            text = re.sub(r"\(\?P<\w+>[^)]*\)", "x", text).replace("\\", "")
            text = re.sub(r"<(?:int|id):\w+>", number, text)
            text = re.sub(r"<(?:\w+:)?\w+>", "x", text)
            if isinstance(entry, URLResolver):
                walk(entry, text)
            elif isinstance(entry, URLPattern):
                paths.add("/" + text)

    walk(get_resolver(), "")
    return sorted(paths)

"""Request parsers: DRF's, except that JSON nested too deeply and a multipart body with content but no parts
are a 400."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class MultiPartParser(parsers.MultiPartParser):
    """Django's multipart parser reads a body that does not match its boundary as an empty form;
    a client that sent something must learn it was not understood, not see it ignored."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> parsers.DataAndFiles[Any, Any]:
        result = super().parse(stream, media_type, parser_context)
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        boundary_only = length <= 64  # "--<boundary>--\r\n": an empty form, legitimately
        if not result.data and not result.files and not boundary_only:
            raise ParseError("Multipart form parse error - the body has no parts for its boundary.")
        return result


# The deepest body this API takes is a calendar's days' timeslots (4 levels); JSON nested deeper is refused
# before any serializer walks it. Python's decoder itself gives up near 1,000 levels (RecursionError).
MAX_JSON_DEPTH = 32


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested over MAX_JSON_DEPTH levels is a 400, not a RecursionError (500)."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data


def _depth_exceeds(data: object, limit: int) -> bool:
    # Iterative, so that measuring the depth cannot itself recurse too deep.
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return True
        stack.extend((item, depth + 1) for item in value)
    return False

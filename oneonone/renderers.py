"""The API's JSON renderer: DRF's `JSONRenderer`, its bytes made by orjson.

DRF's renderer (`json.dumps` with DRF's encoder, then U+2028 and U+2029 escaped) cost about 1 ms of the
calendar list's CPU for 160 KB; orjson makes the same bytes in a tenth of that. The same bytes, exactly:
tests/test_renderer.py renders the answers of every endpoint, and a corpus of awkward values, with both
and compares them. What orjson would write differently goes to DRF's renderer instead:

- floats (Python writes `1e-05`, orjson `0.00001`; NaN is an error for DRF, `null` for orjson) and
  `Decimal` (DRF turns it into a float), and any type not listed below: DRF's renderer renders the body;
- dictionary keys that are not `str`: orjson is asked again with `OPT_NON_STR_KEYS` (int keys, as in a
  list's validation errors, come out as `"0"` in both); bool, None or other keys go to DRF's renderer;
- `datetime`, `date`, `time`, `timedelta`, lazy translation strings and IP addresses are converted by
  DRF's own encoder (`default`), so their text is DRF's (`Z` for UTC, microseconds kept); UUIDs are
  written by orjson, as `str(uuid)` like DRF;
- an indented answer (`Accept: application/json; indent=4`, the browsable API), or settings other than
  DRF's defaults (`UNICODE_JSON`, `COMPACT_JSON`, `STRICT_JSON`): DRF's renderer;
- anything orjson refuses (an integer beyond 64 bits, a lone surrogate, nesting deeper than 254):
  DRF's renderer, which answers or fails as it always did.

Checking that a body holds only those types walks it once; a view whose bodies are plain by
construction (`plain_json_bodies = True`: dicts, lists, str, int, bool, None and `RawJSON`, as
calendars.read_models makes them) skips the walk, which on the calendar list would cost half of what
orjson saves.

`RawJSON` holds JSON text made elsewhere (PostgreSQL writes a day's timeslots, calendars.read_models),
exactly as DRF's renderer would write its value: orjson puts the text in as it is, DRF's renderer (the
fallback) parses it and writes the value.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from django.utils.functional import Promise
from rest_framework import renderers
from rest_framework.settings import api_settings
from rest_framework.utils import encoders

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class RawJSON:
    """A piece of a body that is JSON text already, written as DRF's renderer writes its value (compact, UTF-8)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJSON({self.text!r})"


class JSONEncoder(encoders.JSONEncoder):
    """DRF's encoder, and `RawJSON` as the value it holds."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, RawJSON):
            return json.loads(obj.text)
        return super().default(obj)


_DRF_DEFAULT = encoders.JSONEncoder().default


def _default(obj: Any) -> Any:
    if type(obj) is RawJSON:
        return orjson.Fragment(obj.text)
    return _DRF_DEFAULT(obj)


# Leaves whose text comes from DRF's encoder (through `default`) or, for UUIDs, is the same in orjson.
_CONVERTED = (
    datetime.date,  # and datetime
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    Promise,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)
_LEAVES = (str, int, RawJSON, *_CONVERTED)  # subclasses of str and int too (DRF's ErrorDetail, StrEnum, IntEnum)
_LS, _PS = "\u2028".encode(), "\u2029".encode()
_DRF_DEFAULTS = api_settings.UNICODE_JSON and api_settings.COMPACT_JSON and api_settings.STRICT_JSON


def plain(value: object) -> bool:
    """Whether orjson writes `value` exactly as DRF's renderer would (see the module's docstring)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if isinstance(value, dict):
        for key, item in value.items():
            key_kind = type(key)
            if not (key_kind is str or key_kind is int or (isinstance(key, str | int) and key_kind is not bool)):
                return False
            if not plain(item):
                return False
        return True
    if isinstance(value, list | tuple):
        return all(plain(item) for item in value)
    if isinstance(value, float):
        return False
    return isinstance(value, _LEAVES)


class JSONRenderer(renderers.JSONRenderer):
    """`application/json`, byte for byte what `rest_framework.renderers.JSONRenderer` renders."""

    encoder_class = JSONEncoder  # the fallback: DRF's own, with RawJSON

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if data is None:
            return b""
        context = renderer_context or {}
        if not _DRF_DEFAULTS or self.get_indent(accepted_media_type or "", context) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        if not getattr(context.get("view"), "plain_json_bodies", False) and not plain(data):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            try:
                body = orjson.dumps(data, default=_default, option=_OPTIONS | orjson.OPT_NON_STR_KEYS)
            except orjson.JSONEncodeError:
                return super().render(data, accepted_media_type, renderer_context)
        # DRF escapes the two JavaScript line terminators. Both start with 0xE2, rare in any body,
        # and a single-byte search is a memchr: the replacements only run when there is one.
        if body.find(b"\xe2") != -1:
            body = body.replace(_LS, b"\\u2028").replace(_PS, b"\\u2029")
        return body

"""Strong ETags for the reads a frontend polls, and the conditional requests that use them (RFC 9110, section 13).

A view makes its tag from what decides its body, cheaper to read than the body (a calendar's version
counter, calendars.versions; the rows of a short list), and from who asks and the URL (the page links
hold it): `tag("calendar", user.pk, calendar.pk, version)`. Then:

- `answer(request, tag, build)` answers `If-None-Match` with a 304 (no body) when it names the tag, and
  otherwise the built answer with the tag and `Cache-Control: private, no-cache`, so browsers keep the
  answer and ask again every time (their revalidation is the `If-None-Match`);
- `PreconditionCheck(request, make_tag)` holds a write's `If-Match`; the service calls it with the
  object it has locked, and a tag that is not the current one answers 412.

A tag is a keyed BLAKE2b of its parts (the key comes from SECRET_KEY): it says nothing of what it is
made of, and a client cannot make one up. Tags are only sent with JSON answers (the browsable API's HTML
has none). `GENERATION` is part of every tag: change it when a change of the code changes a body for
the same data, so that no client keeps the old bytes under a tag that is still current.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotModified
from django.utils.http import parse_etags
from rest_framework import exceptions, status
from rest_framework.request import Request

GENERATION = "1"
CACHE_CONTROL = "private, no-cache"
STALE = (
    "The resource changed since you read it: the tag in If-Match is not its ETag any more. "
    "Read it again (GET), then send your change with the new ETag."
)


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = STALE
    default_code = "precondition_failed"


_R = TypeVar("_R", bound=HttpResponseBase)


@functools.cache
def _key(secret: str) -> bytes:
    return hashlib.blake2b(secret.encode(), digest_size=32, person=b"oneonone.etag").digest()


def tag(*parts: Any) -> str:
    """A strong entity tag (with its quotes) for a body decided by `parts` (ints, strings, tuples and lists of them)."""
    digest = hashlib.blake2b(repr((GENERATION, parts)).encode(), digest_size=16, key=_key(settings.SECRET_KEY))
    return f'"{digest.hexdigest()}"'


def applies(request: Request | HttpRequest) -> bool:
    """Whether the answer is JSON (DRF's negotiated renderer), the only kind that carries tags."""
    renderer = getattr(request, "accepted_renderer", None)
    return renderer is not None and renderer.format == "json"


def any_tag(request: Request | HttpRequest) -> bool:
    """Whether `If-None-Match` is `*`: any answer at all matches, so only a full answer of 200 may become a 304."""
    header = request.META.get("HTTP_IF_NONE_MATCH") or ""
    return header.strip() == "*" and applies(request)


def names(if_none_match: str | None, current: str) -> bool:
    """Whether an `If-None-Match` header names `current` (weak comparison: `W/"x"` matches `"x"`) or is `*`."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(sent.removeprefix("W/") == current for sent in parse_etags(if_none_match))


def none_match(request: Request | HttpRequest, current: str) -> bool:
    """Whether the request's `If-None-Match` names `current` or is `*` (JSON answers only)."""
    return applies(request) and names(request.META.get("HTTP_IF_NONE_MATCH"), current)


def with_tag(request: Request | HttpRequest, response: _R, current: str) -> _R:
    """`response` with its ETag and `Cache-Control: private, no-cache` (JSON answers only)."""
    if applies(request):
        response["ETag"] = current
        response["Cache-Control"] = CACHE_CONTROL
    return response


def not_modified(current: str) -> HttpResponseNotModified:
    """304: no body; the tag and the Cache-Control the full answer would carry."""
    response = HttpResponseNotModified()
    response["ETag"] = current
    response["Cache-Control"] = CACHE_CONTROL
    return response


def answer(request: Request | HttpRequest, current: str, build: Callable[[], _R]) -> _R | HttpResponseNotModified:
    """304 when `If-None-Match` names `current`; otherwise `build()`, with the tag.

    `*` names every tag, even of a page that does not exist: the answer is built first, so what would be an
    error (a `page_size` out of range, a page past the end) is still that error, never a 304.
    """
    if any_tag(request):
        response = build()
        return not_modified(current) if response.status_code == 200 else with_tag(request, response, current)
    if none_match(request, current):
        return not_modified(current)
    return with_tag(request, build(), current)


class PreconditionCheck:
    """A write's `If-Match`, checked against the object the service has locked (so nothing changes in between).

    `make_tag(obj)` gives the object's current tag (the one a GET of it answers). Absent header: no check.
    `*`: any current object passes. Otherwise strong comparison: a weak tag never matches (RFC 9110, 13.1.1).
    """

    def __init__(self, request: Request | HttpRequest, make_tag: Callable[[Any], str]) -> None:
        header = request.META.get("HTTP_IF_MATCH")
        self.header = header.strip() if header else None
        self.make_tag = make_tag

    def __bool__(self) -> bool:
        return self.header is not None

    def __call__(self, obj: Any) -> None:
        if self.header is None or self.header == "*":
            return
        current = self.make_tag(obj)
        if not any(sent == current for sent in parse_etags(self.header) if not sent.startswith("W/")):
            raise PreconditionFailed()

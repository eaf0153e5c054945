"""Requests refused before anything reads them (bodies over the size limit, charsets nothing can decode), and
the default Cache-Control of responses."""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from django.http import JsonResponse
from django.utils.http import parse_header_parameters
from rest_framework_simplejwt.views import TokenViewBase


class BodySizeLimitMiddleware:
    """413 with a JSON body when Content-Length exceeds DATA_UPLOAD_MAX_MEMORY_SIZE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: {length} bytes, the limit is {limit}."}, status=413
            )
        return self.get_response(request)


class CacheControlMiddleware:
    """A response without Cache-Control gets `private`, or `no-store` from a view that issues tokens.

    Most answers depend on who asks (the token or session), and none is meant for shared caches; token
    answers must not be stored at all (RFC 6749, section 5.1). A Cache-Control that a view sets on purpose
    (the iCalendar feed's `private, no-cache`) is kept. Static files (WhiteNoise, earlier in the chain)
    keep theirs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store" if getattr(request, "_issues_tokens", False) else "private"
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)  # DRF's as_view()
        request._issues_tokens = isinstance(view_class, type) and issubclass(view_class, TokenViewBase)


# Charsets a request may name in its Content-Type, as codecs names them: text encodings that Django's
# query-string and form decoding and DRF's parsers handle (with errors="replace" or a ValueError, 400).
# Any other is refused with a JSON 415 before Django builds the request: the charset of a request
# decodes its query string in WSGIRequest.__init__, so "rot13", "base64", "hex" or "zlib" (codecs that
# are not text encodings) raised there, and "idna" or "utf-7" (no errors="replace") in the form parsers,
# each a 500 that no middleware or handler500 could turn into JSON.
ALLOWED_CHARSETS = frozenset(
    {"utf-8", "utf-8-sig", "ascii", "iso8859-1", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-32"}
    | {"utf-32-le", "utf-32-be"}
)


def unsupported_charset(content_type: str) -> str | None:
    """The charset named in `content_type` if it is not one of ALLOWED_CHARSETS, else None."""
    try:
        params = parse_header_parameters(content_type)[1]
    except Exception:  # any header Django cannot parse is refused, never a 500
        return content_type
    if "charset" not in params:
        return None
    try:
        name = codecs.lookup(params["charset"]).name
    except LookupError:
        return params["charset"]
    return None if name in ALLOWED_CHARSETS else params["charset"]


def _refusal(charset: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps({"detail": f"Unsupported charset {charset[:40]!r} in Content-Type; send UTF-8."}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return "415 Unsupported Media Type", headers, body


class CharsetGuard:
    """WSGI middleware around Django (oneonone/wsgi.py): a JSON 415 for a charset nothing decodes."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        charset = unsupported_charset(environ.get("CONTENT_TYPE", ""))
        if charset is None:
            return self.application(environ, start_response)
        status, headers, body = _refusal(charset)
        start_response(status, headers)
        return [body]


class AsgiCharsetGuard:
    """The same for ASGI (oneonone/asgi.py)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            content_type = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1")
            charset = unsupported_charset(content_type)
            if charset is not None:
                status, headers, body = _refusal(charset)
                encoded = [(name.lower().encode(), value.encode()) for name, value in headers]
                await send({"type": "http.response.start", "status": int(status[:3]), "headers": encoded})
                await send({"type": "http.response.body", "body": body})
                return
        await self.application(scope, receive, send)

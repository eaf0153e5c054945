"""No 5xx for any input: deep JSON, charsets nothing decodes, ids past 64 bits; see docs/security.md (Limits).

The charset sweep goes through oneonone.wsgi.application itself: Django's test client builds its
WSGIRequest directly, where a bad charset raised before any middleware or handler could answer.
"""

from __future__ import annotations

import io
import json
import sys
from wsgiref.util import setup_testing_defaults

import pytest
from django.core import signals
from django.db import close_old_connections
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter

from oneonone.middleware import ALLOWED_CHARSETS
from oneonone.parsers import MAX_JSON_DEPTH
from oneonone.wsgi import application
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory
from tests.routes import METHODS, example_paths, paths_with_each_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def wsgi(user):
    """Call the WSGI application as gunicorn does, as `user` (a JWT); answers (status, headers, body)."""
    from rest_framework_simplejwt.tokens import RefreshToken

    token = str(RefreshToken.for_user(user).access_token)
    # As Django's test client does: the request's end must not close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    def call(method: str, path: str, body: bytes = b"", content_type: str = "", query: str = ""):
        environ = {
            "REQUEST_METHOD": method.upper(),
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "SERVER_NAME": "testserver",
        }
        setup_testing_defaults(environ)
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = int(status[:3]), dict(headers)

        chunks = application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return answer["status"], answer["headers"], content

    yield call
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def assert_json_4xx(status, headers, content, *context):
    assert 400 <= status < 500, (status, *context, content[:200])
    assert headers.get("Content-Type") == "application/json", (status, *context, headers)
    json.loads(content)


# --- Charsets ------------------------------------------------------------------------------------------------------

REFUSED = ["rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri", "x-no-such-codec", "idna", "utf-7", "punycode"]
REFUSED += ["unicode_escape", "raw_unicode_escape", ""]
BASES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "text/plain"]


def test_a_charset_nothing_decodes_is_a_json_415_on_every_route_and_method(wsgi):
    body = b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--b--\r\n'
    for path in example_paths():
        for method in METHODS:
            for base in BASES:
                for charset in REFUSED:
                    status, headers, content = wsgi(method, path, body, f"{base}; charset={charset}", "q=%ff")
                    assert_json_4xx(status, headers, content, method, path, base, charset)
                    assert status == 415
                    assert json.loads(content)["detail"].startswith("Unsupported charset")


@pytest.mark.parametrize("content_type", ["text/plain; charset*=rot13''x", "text/plain; charset*=utf-8''rot13"])
def test_an_encoded_charset_parameter_is_read_the_same_way(wsgi, content_type):
    assert wsgi("post", "/calendars/", b"{}", content_type)[0] == 415


@pytest.mark.parametrize("charset", sorted(ALLOWED_CHARSETS))
@pytest.mark.parametrize("base", BASES)
def test_every_accepted_charset_decodes_without_a_5xx(wsgi, charset, base):
    """Bodies and query strings that do not decode in the charset are a 4xx (or decoded with replacements)."""
    bodies = [
        '{"title": "Caf\u00e9", "days": [{"date": "2030-01-01", "ranking": 1}]}'.encode(charset, "replace"),
        b"\xff\xfe\x00\xd8title=x",
        b'--b\r\nContent-Disposition: form-data; name="title"\r\nContent-Type: text/plain; charset=rot13\r\n\r\n'
        b"\xff\r\n--b--\r\n",
    ]
    for body in bodies:
        for method, path in [("post", "/calendars/"), ("post", "/auth/register/"), ("get", "/contacts/search/")]:
            status, headers, content = wsgi(method, path, body, f"{base}; charset={charset}", "search=%ff%fe&x=\xff")
            assert status < 500, (method, path, base, charset, content[:200])
            assert headers.get("Content-Type") == "application/json"


# --- JSON nested too deeply -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
@pytest.mark.parametrize("shape", ["[", '{"a":'])
@pytest.mark.parametrize("path", ["/calendars/", "/auth/login/", "/auth/register/", "/contacts/add/"])
def test_json_nested_too_deeply_is_a_400(auth_client, depth, shape, path):
    closing = "]" if shape == "[" else "}"
    response = auth_client.generic("POST", path, shape * depth + "1" + closing * depth, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert response.json() == {"detail": f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."}


def test_json_at_the_depth_limit_is_read(auth_client):
    nested = "[" * (MAX_JSON_DEPTH - 1) + "1" + "]" * (MAX_JSON_DEPTH - 1)
    body = '{"title": "T", "days": ' + nested + "}"
    response = auth_client.generic("POST", "/calendars/", body, content_type="application/json")
    assert response.status_code == 400
    assert "days" in response.json()  # a validation error about the field, not a parse error


# --- Ids past the 64-bit range ----------------------------------------------------------------------------------------


def test_no_route_takes_an_unbounded_integer():
    """Every integer path parameter uses the `id` converter (oneonone/converters.py), not Django's `int`."""
    unbounded = []

    def walk(resolver, prefix):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                converters = getattr(entry.pattern, "converters", {})
                if any(type(c) is IntConverter for c in converters.values()):
                    unbounded.append(prefix + str(entry.pattern))

    walk(get_resolver(), "")
    assert unbounded == []


@pytest.mark.parametrize("number", [str(2**63), "99999999999999999999", "9" * 400])
def test_ids_past_the_range_are_a_json_404_on_every_route_and_method(user, number):
    """On SQLite a number past 2**63 - 1 raised OverflowError (500) in the first query that compared it with a
    foreign key (/calendars/N/day/1/timeslot/); PostgreSQL said 404. Each id of each route in turn."""
    client = client_for(user)
    calendar = CalendarFactory(creator=user)  # the other ids of a path: a calendar its parent lookup finds
    DayFactory(calendar=calendar)
    paths = paths_with_each_id(number, other=str(calendar.pk))
    assert len(paths) >= 15
    for path in paths:
        for method in METHODS:
            response = getattr(client, method)(path)
            # 405: a method /contacts/{id}/ (a regex route of DRF's router) does not serve.
            assert response.status_code in (404, 405), (method, path, response.content[:200])
            assert response["Content-Type"] == "application/json", (method, path)


def test_the_largest_id_is_an_ordinary_missing_id(user):
    client = client_for(user)
    calendar = CalendarFactory(creator=user)
    day = DayFactory(calendar=calendar)
    largest = str(2**63 - 1)
    for path in [*example_paths(largest), f"/calendars/{calendar.pk}/day/{largest}/timeslot/"]:
        if largest not in path or path.startswith("/admin/"):
            continue
        for method in METHODS:
            response = getattr(client, method)(path)
            assert 400 <= response.status_code < 500, (method, path, response.content[:200])
    response = client.get(f"/calendars/{calendar.pk}/day/{day.pk}0000000000000000000/timeslot/")
    assert response.status_code == 404


def test_the_asgi_entry_point_refuses_the_same_charsets():
    import asyncio

    from oneonone.asgi import application as asgi_application

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/calendars/",
        "query_string": b"q=%ff",
        "headers": [(b"content-type", b"application/json; charset=rot13")],
    }
    asyncio.run(asgi_application(scope, receive, send))
    assert sent[0]["status"] == 415
    assert (b"content-type", b"application/json") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["detail"] == "Unsupported charset 'rot13' in Content-Type; send UTF-8."

"""The API's JSON renderer (oneonone.renderers, orjson) writes exactly the bytes of DRF's JSONRenderer.

Two corpora: awkward values one by one (keys that are not strings, lazy strings, datetimes in and out of
UTC, UUIDs, floats, the JavaScript line terminators, control characters), and the real answers of every
operation of the schema as every kind of actor (the authorization matrix's cells), plus OPTIONS, paginated
lists with links, validation errors keyed by index and the calendar bodies of the sameness tests.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import ipaddress
import uuid
from collections import OrderedDict, namedtuple

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers as drf_renderers
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from oneonone import renderers
from oneonone.renderers import JSONRenderer
from tests import test_authz_matrix as matrix
from tests.test_performance import world  # noqa: F401 - the sameness tests' calendars, as a fixture here

BERLIN = datetime.timezone(datetime.timedelta(hours=1))


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


Point = namedtuple("Point", "x y")


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


class DRFRenderer(drf_renderers.JSONRenderer):
    """DRF's renderer, told what a RawJSON holds (JSON text made by the database, oneonone.renderers)."""

    encoder_class = renderers.JSONEncoder


class Plain:
    """A view whose bodies are plain by construction."""

    plain_json_bodies = True


VALUES = {
    "empty dict": {},
    "empty list": [],
    "str": "plain",
    "int": 42,
    "negative int": -7,
    "64-bit ints": [2**63 - 1, -(2**63)],
    "beyond 64 bits": 2**64 + 1,
    "bools and None": [True, False, None],
    "line terminators": {"title": "a\u2028b\u2029c", "\u2028key": "\u2029"},
    "control characters": "".join(chr(i) for i in range(0x20)) + '"\\/\x7f',
    "non-ASCII": "Café ☕ — 会议 🎉 \ufeff \u00a0",
    "script": "</script><!--",
    "int keys (a list's validation errors)": {0: {"start_time": ["bad"]}, 3: ["x"]},
    "str and int subclass keys": {Colour.RED: 1, Level.HIGH: 2, ErrorDetail("k"): 3},
    "bool and None keys": {True: 1, None: 2},
    "float key": {1.5: "x"},
    "tuple key": {(1, 2): "x"},
    "lazy string": gettext_lazy("This field is required."),
    "lazy strings in a structure": {"label": gettext_lazy("Username"), "choices": [gettext_lazy("Password")]},
    "error details": {"detail": ErrorDetail("Not found.", code="not_found"), "x": [ErrorDetail("a", "b")]},
    "aware datetime in UTC": datetime.datetime(2030, 3, 9, 11, 0, tzinfo=datetime.UTC),
    "aware datetime with microseconds": datetime.datetime(2030, 3, 9, 11, 0, 0, 500, tzinfo=datetime.UTC),
    "aware datetime elsewhere": datetime.datetime(2030, 3, 9, 11, 0, tzinfo=BERLIN),
    "naive datetime": datetime.datetime(2030, 3, 9, 11, 0, 1),
    "date": datetime.date(2030, 3, 9),
    "time": datetime.time(8, 15, 0, 250_000),
    "aware time": datetime.time(8, 15, tzinfo=datetime.UTC),
    "timedelta": datetime.timedelta(minutes=90, microseconds=5),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "decimal": decimal.Decimal("1.10"),
    "floats": [0.1, 1.5, 3.5, 1e16, 1e-05, 2.5e-07, -0.0, 1.7976931348623157e308],
    "small float": 0.00001,
    "nan": float("nan"),
    "infinity": float("inf"),
    "ip address": ipaddress.ip_address("192.0.2.1"),
    "enums": [Colour.RED, Level.HIGH],
    "tuple and namedtuple": (1, Point(2, 3)),
    "set": {3},
    "bytes": b"raw",
    "OrderedDict, ReturnDict, ReturnList": OrderedDict(
        a=ReturnDict({"b": ReturnList([1, 2], serializer=None)}, serializer=None)
    ),
    "lone surrogate": "\ud800",
    "nested deeply": [[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]],
    "too deep for orjson": nested(300),
    "a string body": "just text",
    "JSON text made elsewhere": {"days": [{"timeslots": renderers.RawJSON('[{"id":1,"owner_username":"zoë"}]')}]},
    "JSON text with a line terminator": [renderers.RawJSON('["a\u2028b"]'), renderers.RawJSON("[]")],
}


def render_both(data, media_type="application/json", context=None):
    """(ours, DRF's): bytes, or the exception's type when rendering raised."""
    results = []
    for renderer in (JSONRenderer(), DRFRenderer()):
        try:
            results.append(renderer.render(data, media_type, dict(context or {})))
        except Exception as exc:  # comparing what each raises
            results.append(type(exc))
    return tuple(results)


@pytest.mark.parametrize("name", list(VALUES))
def test_value_renders_as_drf_does(name):
    ours, theirs = render_both(VALUES[name])
    assert ours == theirs
    if isinstance(theirs, bytes):
        assert "\u2028".encode() not in ours


@pytest.mark.parametrize("name", list(VALUES))
def test_value_in_a_body_renders_as_drf_does(name):
    ours, theirs = render_both({"count": 1, "results": [{"value": VALUES[name]}]})
    assert ours == theirs


def test_indented_answers_are_drfs():
    data = {"a": [1, {"b": "\u2028"}]}
    assert render_both(data, "application/json; indent=4")[0] == render_both(data, "application/json; indent=4")[1]
    assert render_both(data, context={"indent": 2})[0] == render_both(data, context={"indent": 2})[1]
    assert b"\n" in JSONRenderer().render(data, "application/json; indent=4", {})


def test_none_is_an_empty_body():
    assert JSONRenderer().render(None) == b""


def test_plain_views_skip_the_check_and_still_match():
    body = {"results": [{"id": 1, "title": "x\u2029", "days": [], "finalized": None, "ok": True}], 0: "i"}
    ours = JSONRenderer().render(body, "application/json", {"view": Plain()})
    assert ours == DRFRenderer().render(body, "application/json", {})


def test_the_check_sends_what_orjson_writes_differently_to_drf():
    assert renderers.plain({"a": [1, "b", None, True, (2,)], 1: datetime.date(2030, 1, 1)})
    for value in (1.0, [0.5], {"a": decimal.Decimal(1)}, {1.5: 1}, {None: 1}, {True: 1}, {3}, object()):
        assert not renderers.plain(value), value


def test_the_api_renders_with_it():
    assert api_settings.DEFAULT_RENDERER_CLASSES[0] is JSONRenderer


# Real answers ---------------------------------------------------------------------------------------------------


@pytest.fixture
def compared(monkeypatch):
    """Every body the API renders is rendered by DRF's renderer too; returns the list of (ours == DRF's, body)."""
    seen: list[tuple[bool, bytes, bytes]] = []
    render = JSONRenderer.render

    def both(self, data, accepted_media_type=None, renderer_context=None):
        ours = render(self, data, accepted_media_type, renderer_context)
        theirs = DRFRenderer().render(data, accepted_media_type, renderer_context)
        seen.append((ours == theirs, ours, theirs))
        return ours

    monkeypatch.setattr(JSONRenderer, "render", both)
    return seen


def assert_all_same(seen) -> None:
    different = [(ours[:200], theirs[:200]) for same, ours, theirs in seen if not same]
    assert different == []


@pytest.mark.django_db
@pytest.mark.parametrize("actor", matrix.ACTORS)
@pytest.mark.parametrize(("method", "path"), list(matrix.MATRIX), ids=[f"{m.upper()} {p}" for m, p in matrix.MATRIX])
def test_every_operation_answers_drfs_bytes(method, path, actor, compared, mailoutbox, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.test"]
    row = matrix.MATRIX[(method, path)]
    cell = matrix.build_world()
    if row.prepare:
        row.prepare(cell)
    target = matrix.url(path, row.params(cell))
    client = cell.client(actor)
    if method == "get":
        client.get(target, {"page_size": 1, "page": 2})  # a page with links, or an error
        client.get(target, HTTP_ACCEPT="application/json; indent=4")
        client.options(target)
    matrix.call(client, method, target, row, cell, actor)
    assert_all_same(compared)


@pytest.mark.django_db
def test_lists_errors_and_calendars_answer_drfs_bytes(compared, world):  # noqa: F811
    from tests.factories import make_friends

    ann = world["users"]["ann"]
    for name in ("bob", "cat", "dan"):
        if name != "ann":
            make_friends(ann, world["users"][name])
    client = matrix.client_for(ann)
    for params in ({}, {"page_size": 2, "page": 2}, {"page": "last"}, {"page": 99}, {"page_size": 0}):
        client.get("/calendars/", params)
        client.get("/contacts/friends/", params)
        client.get("/invitations/", params)
    busy = world["calendars"]["busy"]
    early = world["days"]["early"]
    client.get(f"/calendars/{busy.pk}/")
    client.get(f"/calendars/{busy.pk}/suggestions/", {"duration": 30})
    client.get(f"/calendars/{busy.pk}/availability/", {"tz": "Asia/Kathmandu"})
    day = f"/calendars/{busy.pk}/day/{early.pk}/timeslot/"
    client.post(day, [{"start_time": "10:00", "end_time": "09:00"}, {"start_time": "x"}], format="json")
    client.post(day, [{"start_time": "09:10", "end_time": "09:20"}], format="json")  # overlaps: keyed by index
    client.put(f"/calendars/{busy.pk}/", {"title": "", "days": [{"date": "bad"}]}, format="json")
    assert len(compared) > 20
    assert_all_same(compared)
    assert any(b"\\u2028" in ours for _, ours, _ in compared)

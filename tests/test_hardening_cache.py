"""No answer for shared caches: every response is `private`, token responses `no-store` (oneonone/middleware.py).

Swept over every operation of the schema, as the owner of real objects so that reads answer 200.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.factories import (
    PASSWORD,
    CalendarFactory,
    DayFactory,
    InvitationFactory,
    TimeSlotFactory,
    UserFactory,
    make_friends,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(user):
    friend = UserFactory(username="bob")
    make_friends(user, friend)
    calendar = CalendarFactory(creator=user)
    day = DayFactory(calendar=calendar, date=date(2030, 1, 2), ranking=1)
    slot = TimeSlotFactory(day=day)
    invitation = InvitationFactory(calendar=calendar, invitee=friend, status="pending")
    contact_id = client_for(user).get("/contacts/").json()["results"][0]["id"]
    feed_url = client_for(user).get("/calendars/feed-token/").json()["url"]
    return {
        "calendar": calendar.pk,
        "day": day.pk,
        "slot": slot.pk,
        "invitation": invitation.pk,
        "contact": contact_id,
        "token": re.search(r"/feed/([^/]+)\.ics", feed_url).group(1),
    }


def concrete(template: str, ids: dict) -> str:
    if template.startswith("/calendars/{calendar_id}/day/"):
        ids = {**ids, "id": ids["slot"]}
    elif template.startswith("/calendars/{calendar_id}/invitations/"):
        ids = {**ids, "id": ids["invitation"]}
    elif template.startswith("/contacts/"):
        ids = {**ids, "id": ids["contact"]}
    else:
        ids = {**ids, "id": ids["calendar"]}
    names = {"calendar_id": ids["calendar"], "day_id": ids["day"], "id": ids["id"], "token": ids["token"]}
    return re.sub(r"\{(\w+)\}", lambda m: str(names[m.group(1)]), template)


def operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(path, method) for path, item in schema["paths"].items() for method in item]


# The reads with a strong ETag: `private, no-cache` on their 200s (and on their 304s), `private` on their errors.
TAGGED = {
    ("get", "/calendars/"),
    ("get", "/calendars/{id}/"),
    ("get", "/calendars/{calendar_id}/day/{day_id}/timeslot/"),
    ("get", "/calendars/{calendar_id}/day/{day_id}/timeslot/{id}/"),
    ("get", "/calendars/{id}/suggestions/"),
    ("get", "/invitations/"),
    ("get", "/contacts/friends/"),
    ("get", "/contacts/incoming/"),
    ("get", "/contacts/outgoing/"),
    ("get", "/contacts/blocked/"),
}


def test_every_operation_answers_private_or_no_store(user, world):
    """Reads first (so objects still exist), writes with an empty body, deletes last; as the owner and as
    nobody. Token operations answer no-store; a view's own Cache-Control (the feed, the tagged reads) is kept."""
    order = {"get": 0, "head": 0, "options": 1, "post": 2, "put": 2, "patch": 2, "delete": 3}
    ok_reads = 0
    for path, method in sorted(operations(), key=lambda op: (order[op[1]], op[0])):
        url = concrete(path, world)
        for client in (client_for(user), APIClient()):
            response = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
            cache_control = response.get("Cache-Control", "")
            if path in ("/auth/login/", "/auth/refresh/", "/auth/logout/"):
                assert cache_control == "no-store", (method, url, response.status_code)
            elif path == "/calendars/feed/{token}.ics" and response.status_code == 200:
                assert cache_control == "private, no-cache"
            elif (method, path) in TAGGED and response.status_code == 200:
                # Polled reads: kept by the browser, asked again with If-None-Match every time (oneonone.etags).
                assert cache_control == "private, no-cache", (url, cache_control)
                assert response["ETag"].startswith('"')
            else:
                assert cache_control == "private", (method, url, response.status_code, cache_control)
            ok_reads += method == "get" and response.status_code == 200
    assert ok_reads >= 20  # the sweep read real objects, not only 404s


@pytest.mark.parametrize("path", ["/no-such-page/", "/admin/login/", "/api-auth/login/", "/docs/", "/schema/"])
def test_pages_outside_the_schema_are_private_too(api_client, path):
    assert "private" in api_client.get(path)["Cache-Control"]


def test_token_answers_are_not_stored(api_client, user):
    login = api_client.post("/auth/login/", {"username": "alice", "password": PASSWORD}, format="json")
    assert (login.status_code, login["Cache-Control"]) == (200, "no-store")
    refresh = api_client.post("/auth/refresh/", {"refresh": login.json()["refresh"]}, format="json")
    assert (refresh.status_code, refresh["Cache-Control"]) == (200, "no-store")
    logout = api_client.post("/auth/logout/", {"refresh": refresh.json()["refresh"]}, format="json")
    assert (logout.status_code, logout["Cache-Control"]) == (204, "no-store")
    wrong = api_client.post("/auth/login/", {"username": "alice", "password": "nope"}, format="json")
    assert (wrong.status_code, wrong["Cache-Control"]) == (401, "no-store")

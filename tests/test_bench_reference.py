"""The benchmark's one-query reference (bench/reference_views.py) answers exactly what GET /calendars/ answers."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from calendars.models import Calendar
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]
# The reference builds its JSON with PostgreSQL's JSON functions: the tests that call it are marked `postgres`.

REFERENCE = "/bench/calendars/"
LIST = "/calendars/"


def calendar_with(creator, *, days: int, members: list, title: str = "Meeting", description: str = "") -> Calendar:
    """A calendar with `days` days; every member (creator included) holds two slots a day, one at a shared time."""
    calendar = CalendarFactory(creator=creator, title=title, description=description)
    for member in members:
        InvitationFactory(calendar=calendar, invitee=member, status="accepted")
    for i in range(days):
        # Rankings out of date order, so the order of days is visibly by date.
        day = DayFactory(calendar=calendar, date=datetime.date(2030, 5, 10) - datetime.timedelta(days=i), ranking=i + 1)
        for owner in [creator, *members]:
            # Same start time for everybody: the order among them is by slot id.
            TimeSlotFactory(day=day, owner=owner, start_time=datetime.time(9), end_time=datetime.time(9, 30 + i))
            TimeSlotFactory(day=day, owner=owner, start_time=datetime.time(7, 15), end_time=datetime.time(8, 0, 45))
    return calendar


@pytest.fixture
def world(user, other_user, third_user):
    """13 calendars `user` is a member of (created and joined), plus calendars they must not see listed."""
    friends = [UserFactory(username=f"zoë-{i}") for i in range(3)]
    for i in range(7):
        calendar_with(user, days=i % 3 + 1, members=friends[: i % 4], title=f"Mine {i}")
    calendar_with(user, days=0, members=[], title='Quotes " \\ and\nnewline', description="Ünïcödé ✓ 🎉")
    for i in range(5):
        calendar_with(other_user, days=2, members=[user, third_user][: 1 + i % 2], title=f"Joined {i}")
    # Pending (visible by id, not listed), rejected, and unrelated calendars.
    InvitationFactory(calendar=calendar_with(other_user, days=1, members=[]), invitee=user, status="pending")
    InvitationFactory(calendar=calendar_with(third_user, days=1, members=[]), invitee=user, status="rejected")
    calendar_with(third_user, days=2, members=[other_user])
    # Finalized meetings in zones east and west of UTC, summer and winter time.
    finalized = [
        ("Europe/Berlin", datetime.date(2030, 7, 1), datetime.time(9, 30), datetime.time(10, 45)),
        ("America/New_York", datetime.date(2030, 1, 15), datetime.time(16), datetime.time(17)),
        ("Asia/Kathmandu", datetime.date(2030, 3, 1), datetime.time(8), datetime.time(8, 15, 30)),
    ]
    for calendar, (zone, day, start, end) in zip(Calendar.objects.filter(creator=user), finalized, strict=False):
        Calendar.objects.filter(pk=calendar.pk).update(
            timezone=zone,
            finalized_date=day,
            finalized_start_time=start,
            finalized_end_time=end,
            finalized_at=timezone.now(),
            schedule_revision=1,
        )
    Calendar.objects.filter(title="Joined 0").update(timezone="Australia/Sydney")
    # Ties on created_at: the order falls back to the id, newest first.
    ids = list(Calendar.objects.order_by("id").values_list("id", flat=True))
    same = Calendar.objects.get(pk=ids[0]).created_at
    Calendar.objects.filter(pk__in=ids[:4]).update(created_at=same)
    return user


def both(client: APIClient, query: str = ""):
    return client.get(REFERENCE + query), client.get(LIST + query)


@pytest.mark.postgres
@pytest.mark.parametrize("query", ["", "?page=2", "?page_size=5&page=3", "?page_size=5&page=2", "?page_size="])
def test_reference_body_is_the_list_body(world, query):
    reference, ours = both(client_for(world), query)
    assert (reference.status_code, ours.status_code) == (200, 200)
    assert reference["Content-Type"] == "application/json"
    assert json.loads(reference.content) == json.loads(ours.content)


@pytest.mark.postgres
def test_the_fixture_exercises_pages_and_nesting(world):
    body = json.loads(client_for(world).get(REFERENCE).content)
    assert body["count"] == 13
    assert body["next"] == "http://testserver/calendars/?page=2"
    assert body["previous"] is None
    assert len(body["results"]) == 10
    assert any(len(day["timeslots"]) >= 4 for calendar in body["results"] for day in calendar["days"])
    assert any(calendar["days"] == [] for calendar in body["results"])
    assert any(len(calendar["participants"]) == 2 for calendar in body["results"])
    assert {c["finalized"]["starts_at"] for c in body["results"] if c["finalized"]} >= {
        "2030-07-01T09:30:00+02:00",
        "2030-01-15T16:00:00-05:00",
    }


@pytest.mark.postgres
def test_reference_for_a_user_with_no_calendar(world):
    lonely = UserFactory(username="lonely")
    reference, ours = both(client_for(lonely))
    assert (
        json.loads(reference.content)
        == json.loads(ours.content)
        == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    )


@pytest.mark.postgres
def test_reference_page_out_of_range_is_404_like_the_list(world):
    reference, ours = both(client_for(world), "?page=9")
    assert (reference.status_code, ours.status_code) == (404, 404)
    assert json.loads(reference.content) == json.loads(ours.content) == {"detail": "Invalid page."}


@pytest.mark.postgres
def test_reference_runs_one_query(world):
    client = client_for(world)  # building the token writes a row: outside the count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(REFERENCE)
    assert response.status_code == 200
    assert len(queries) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("header", [None, "Bearer not-a-token"])
def test_reference_needs_a_valid_token_like_the_list(world, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    reference, ours = both(client)
    assert (reference.status_code, ours.status_code) == (401, 401)
    assert json.loads(reference.content)["detail"] == json.loads(ours.content)["detail"]
    assert reference["WWW-Authenticate"] == ours["WWW-Authenticate"]


def test_floor_is_a_fixed_body(client):
    response = client.get("/bench/floor/")
    assert response.status_code == 200
    assert response.content == b'{"status":"ok"}'

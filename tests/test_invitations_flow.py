"""End to end: an invitee accepts, takes part in the calendar, then leaves or is removed.

Crosses areas: invitations, the calendar and timeslot endpoints, and contacts (unfriend, block).
"""

from __future__ import annotations

import pytest

from calendars.models import TimeSlot
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, TimeSlotFactory, UserFactory, make_friends

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    make_friends(alice, bob)
    calendar = CalendarFactory(creator=alice, title="Team lunch")
    day = DayFactory(calendar=calendar)
    alices_slot = TimeSlotFactory(day=day, owner=alice)
    return {
        "alice": client_for(alice),
        "bob": client_for(bob),
        "bob_user": bob,
        "calendar": calendar,
        "day": day,
        "alices_slot": alices_slot,
    }


def calendar_ids(client) -> list[int]:
    response = client.get("/calendars/", {"page_size": 100})
    assert response.status_code == 200
    return [c["id"] for c in response.json()["results"]]


def slots_url(world) -> str:
    return f"/calendars/{world['calendar'].id}/day/{world['day'].id}/timeslot/"


def invite(world) -> int:
    response = world["alice"].post(f"/calendars/{world['calendar'].id}/invitations/", {"invitee_username": "bob"})
    assert response.status_code == 201
    return response.json()["id"]


def answer(world, invitation_id: int, status: str) -> None:
    response = world["bob"].put(f"/calendars/{world['calendar'].id}/invitations/{invitation_id}/", {"status": status})
    assert response.status_code == 204


def accept_and_add_a_slot(world) -> int:
    invitation_id = invite(world)
    answer(world, invitation_id, "accepted")
    response = world["bob"].post(slots_url(world), {"start_time": "10:00", "end_time": "11:00"})
    assert response.status_code == 201
    assert response.json()["owner_username"] == "bob"
    return invitation_id


def test_participant_sees_the_calendar_and_adds_availability(world):
    calendar = world["calendar"]
    bob = world["bob"]
    invitation_id = invite(world)
    # Pending: the calendar is readable but not listed, and the invitee cannot add availability yet.
    assert calendar.id not in calendar_ids(bob)
    assert bob.get(f"/calendars/{calendar.id}/").status_code == 200
    assert bob.post(slots_url(world), {"start_time": "10:00", "end_time": "11:00"}).status_code == 403

    answer(world, invitation_id, "accepted")

    assert calendar.id in calendar_ids(bob)
    detail = bob.get(f"/calendars/{calendar.id}/").json()
    assert detail["participants"] == [world["bob_user"].id]
    slots = bob.get(slots_url(world)).json()["results"]
    assert [(s["id"], s["owner_username"]) for s in slots] == [(world["alices_slot"].id, "alice")]

    response = bob.post(slots_url(world), {"start_time": "10:00", "end_time": "11:00"})
    assert response.status_code == 201
    usernames = sorted(s["owner_username"] for s in world["alice"].get(slots_url(world)).json()["results"])
    assert usernames == ["alice", "bob"]


def test_rejecting_after_accepting_leaves_the_calendar(world):
    invitation_id = accept_and_add_a_slot(world)
    answer(world, invitation_id, "rejected")
    calendar = world["calendar"]
    assert calendar.id not in calendar_ids(world["bob"])
    assert world["bob"].get(f"/calendars/{calendar.id}/").status_code == 404
    assert world["alice"].get(f"/calendars/{calendar.id}/").json()["participants"] == []
    assert list(TimeSlot.objects.all()) == [world["alices_slot"]]


def test_revoking_removes_the_participant(world):
    invitation_id = accept_and_add_a_slot(world)
    calendar = world["calendar"]
    response = world["alice"].delete(f"/calendars/{calendar.id}/invitations/{invitation_id}/")
    assert response.status_code == 204
    assert calendar.id not in calendar_ids(world["bob"])
    assert world["bob"].post(slots_url(world), {"start_time": "12:00", "end_time": "13:00"}).status_code == 404
    assert list(TimeSlot.objects.all()) == [world["alices_slot"]]


@pytest.mark.parametrize(
    ("actor", "path"),
    [("bob", "/contacts/unadd/"), ("alice", "/contacts/unadd/"), ("bob", "/contacts/block/")],
)
def test_ending_the_friendship_ends_the_participation(world, actor, path):
    accept_and_add_a_slot(world)
    other = "alice" if actor == "bob" else "bob"
    assert world[actor].post(path, {"username": other}).status_code == 200
    calendar = world["calendar"]
    assert calendar.id not in calendar_ids(world["bob"])
    assert world["bob"].get(f"/calendars/{calendar.id}/").status_code == 404
    assert list(TimeSlot.objects.all()) == [world["alices_slot"]]
    # Not friends any more: inviting again is refused.
    response = world["alice"].post(f"/calendars/{calendar.id}/invitations/", {"invitee_username": "bob"})
    assert response.status_code == 400
    assert response.json() == {"invitee_username": ["You can only invite your friends."]}

"""Races not covered elsewhere, with real threads (PostgreSQL, SQLite in a file): clean answers, whole data.

Covered in other files: two answers to one invitation, revoke while answering, two invites of one
person (test_invitations_pg.py); friend requests and blocks between one pair (test_contacts_pg.py);
overlapping slots, the per-day cap, day swaps, the creator adding a slot to a day being removed
(test_calendars_pg.py); two finalizations, writes during a finalization (test_finalize.py).
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.contrib.auth import get_user_model

from accounts.throttles import RegisterRateThrottle
from calendars import services as calendar_services
from calendars.models import Calendar, Day, Invitation, TimeSlot
from contacts.models import Contact, ContactStatus
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory, make_friends
from tests.support import run_together

pytestmark = [pytest.mark.concurrent, pytest.mark.django_db(transaction=True)]
ROUNDS = 5
CLEAN = {200, 201, 204, 400, 403, 404, 409}


def codes(responses) -> list[int]:
    # run_together has raised already if a request crashed.
    return [r.status_code for r in responses]


@pytest.fixture
def slow_slot_check(monkeypatch):
    # Widen the window between a slot write's checks and its insert.
    original = calendar_services._check_slot_fits

    def slow(**kwargs):
        original(**kwargs)
        time.sleep(0.15)

    monkeypatch.setattr(calendar_services, "_check_slot_fits", slow)


def member_calendar(n: int):
    creator, member = UserFactory(username=f"creator{n}"), UserFactory(username=f"member{n}")
    make_friends(creator, member)
    calendar = CalendarFactory(creator=creator)
    keep = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 1), ranking=1)
    doomed = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=2)
    InvitationFactory(calendar=calendar, invitee=member, status="accepted")
    return creator, member, calendar, keep, doomed


def slot_url(day) -> str:
    return f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/"


def test_participant_adds_a_slot_to_a_day_the_creator_removes(slow_slot_check):
    for n in range(ROUNDS):
        creator, member, calendar, keep, doomed = member_calendar(n)
        body = {"title": "Fewer days", "days": [{"id": keep.pk, "date": "2030-01-01", "ranking": 1}]}
        editor, adder = client_for(creator), client_for(member)
        delay = 0.05 * (n % 3)  # sometimes the slot first, sometimes the edit

        def add(adder=adder, doomed=doomed, delay=delay):
            time.sleep(delay)
            return adder.post(slot_url(doomed), {"start_time": "09:00", "end_time": "10:00"}, format="json")

        edit, added = codes(
            run_together(
                lambda editor=editor, calendar=calendar, body=body: editor.put(
                    f"/calendars/{calendar.pk}/", body, format="json"
                ),
                add,
            )
        )
        assert edit == 200
        assert added in {201, 404}
        assert not Day.objects.filter(pk=doomed.pk).exists()
        assert not TimeSlot.objects.filter(day_id=doomed.pk).exists()


def test_calendar_deleted_while_a_participant_adds_a_slot(slow_slot_check):
    for n in range(ROUNDS):
        creator, member, calendar, keep, _ = member_calendar(n)
        deleter, adder = client_for(creator), client_for(member)
        delay = 0.05 * (n % 3)

        def add(adder=adder, keep=keep, delay=delay):
            time.sleep(delay)
            return adder.post(slot_url(keep), {"start_time": "09:00", "end_time": "10:00"}, format="json")

        deleted, added = codes(run_together(lambda d=deleter, c=calendar: d.delete(f"/calendars/{c.pk}/"), add))
        assert deleted == 204
        assert added in {201, 404}
        assert not Calendar.objects.filter(pk=calendar.pk).exists()
        assert not TimeSlot.objects.filter(day_id=keep.pk).exists()


def test_slot_moved_while_the_same_slot_is_deleted(slow_slot_check):
    for n in range(ROUNDS):
        _, member, _, keep, _ = member_calendar(n)
        slot = TimeSlotFactory(day=keep, owner=member, start_time=datetime.time(9), end_time=datetime.time(10))
        mover, deleter = client_for(member), client_for(member)
        target = f"{slot_url(keep)}{slot.pk}/"
        moved, deleted = codes(
            run_together(
                lambda m=mover, t=target: m.put(t, {"start_time": "11:00", "end_time": "12:00"}, format="json"),
                lambda d=deleter, t=target: d.delete(t),
            )
        )
        # Both lock the calendar: the move lands first (200) or finds the slot gone (404); the delete wins.
        assert deleted == 204
        assert moved in {200, 404}
        assert not TimeSlot.objects.filter(pk=slot.pk).exists()


def test_participant_moves_a_slot_while_the_creator_revokes_them(slow_slot_check):
    for n in range(ROUNDS):
        creator, member, calendar, keep, _ = member_calendar(n)
        invitation = Invitation.objects.get(calendar=calendar, invitee=member)
        slot = TimeSlotFactory(day=keep, owner=member, start_time=datetime.time(9), end_time=datetime.time(10))
        mover, revoker = client_for(member), client_for(creator)
        target = f"{slot_url(keep)}{slot.pk}/"
        moved, revoked = codes(
            run_together(
                lambda m=mover, t=target: m.put(t, {"start_time": "11:00", "end_time": "12:00"}, format="json"),
                lambda r=revoker, c=calendar, i=invitation: r.delete(f"/calendars/{c.pk}/invitations/{i.pk}/"),
            )
        )
        assert revoked == 204
        assert moved in {200, 403, 404}
        # Whatever the order, a revoked participant keeps no slot on the calendar.
        assert not TimeSlot.objects.filter(owner=member, day__calendar=calendar).exists()


def test_invite_racing_the_invitee_blocking_the_creator():
    for n in range(ROUNDS):
        creator, friend = UserFactory(username=f"host{n}"), UserFactory(username=f"guest{n}")
        make_friends(creator, friend)
        calendar = CalendarFactory(creator=creator)
        inviter, blocker = client_for(creator), client_for(friend)
        invited, blocked = codes(
            run_together(
                lambda i=inviter, c=calendar, f=friend: i.post(
                    f"/calendars/{c.pk}/invitations/", {"invitee_username": f.username}, format="json"
                ),
                lambda b=blocker, c=creator: b.post("/contacts/block/", {"username": c.username}, format="json"),
            )
        )
        assert blocked == 200
        assert invited in {201, 400}
        # Either the block came first (not friends: 400) or it ended the new invitation.
        assert not Invitation.objects.filter(calendar=calendar).exists()
        relation = Contact.objects.between(creator, friend).get()
        assert (relation.userA_id, relation.status) == (friend.pk, ContactStatus.BLOCKED)


def test_accept_racing_an_unfriend():
    for n in range(ROUNDS):
        creator, member = UserFactory(username=f"owner{n}"), UserFactory(username=f"friend{n}")
        make_friends(creator, member)
        calendar = CalendarFactory(creator=creator)
        day = DayFactory(calendar=calendar)
        invitation = InvitationFactory(calendar=calendar, invitee=member, status="pending")
        TimeSlotFactory(day=day, owner=member)  # left from an earlier acceptance
        accepter, unfriender = client_for(member), client_for(creator)
        accepted, unfriended = codes(
            run_together(
                lambda a=accepter, c=calendar, i=invitation: a.put(
                    f"/calendars/{c.pk}/invitations/{i.pk}/", {"status": "accepted"}, format="json"
                ),
                lambda u=unfriender, m=member: u.post("/contacts/unadd/", {"username": m.username}, format="json"),
            )
        )
        assert unfriended == 200
        assert accepted in {204, 404}
        assert not Invitation.objects.filter(calendar=calendar).exists()
        assert not TimeSlot.objects.filter(owner=member, day__calendar=calendar).exists()


def test_two_registrations_of_one_name_in_different_case(monkeypatch):
    monkeypatch.setattr(RegisterRateThrottle, "THROTTLE_RATES", {"register": "1000/hour"})
    User = get_user_model()
    for n in range(ROUNDS):
        clients = [client_for(UserFactory()) for _ in range(2)]
        names = [f"Twin{n}", f"twin{n}"]
        responses = run_together(
            *[
                (
                    lambda c=c, name=name: c.post(
                        "/auth/register/",
                        {"username": name, "password": "s3cure-Passw0rd!", "password2": "s3cure-Passw0rd!"},
                        format="json",
                    )
                )
                for c, name in zip(clients, names, strict=True)
            ]
        )
        assert sorted(codes(responses)) == [201, 400]
        loser = next(r for r in responses if r.status_code == 400)
        assert loser.json() == {"username": ["A user with that username already exists."]}
        assert User.objects.filter(username__iexact=f"twin{n}").count() == 1


def test_every_answer_in_a_burst_is_clean():
    """Many mixed writes on one calendar at once: no 5xx, and the data stays consistent."""
    creator, member, calendar, keep, doomed = member_calendar(0)
    adders = [client_for(member) for _ in range(4)]
    finalizer, editor, reader = client_for(creator), client_for(creator), client_for(member)
    meeting = {"date": "2030-01-01", "start_time": "09:00", "end_time": "10:00"}
    edit = {"title": "Edited", "days": [{"id": keep.pk, "date": "2030-01-01", "ranking": 1}]}
    calls = [
        (lambda c=c, i=i: c.post(slot_url(keep), {"start_time": f"{8 + i:02}:00", "end_time": f"{8 + i:02}:30"}))
        for i, c in enumerate(adders)
    ]
    calls.append(lambda: finalizer.post(f"/calendars/{calendar.pk}/finalize/", meeting, format="json"))
    calls.append(lambda: editor.put(f"/calendars/{calendar.pk}/", edit, format="json"))
    calls.append(lambda: reader.get(f"/calendars/{calendar.pk}/suggestions/"))
    statuses = codes(run_together(*calls))
    assert set(statuses) <= CLEAN, statuses
    slots_added, finalized, edited, suggested = statuses[:4], statuses[4], statuses[5], statuses[6]
    assert set(slots_added) <= {201, 409}
    assert (finalized, suggested) == (200, 200)
    assert edited in {200, 409}  # after the finalization, the days are frozen
    assert Day.objects.filter(pk=doomed.pk).exists() == (edited == 409)
    assert TimeSlot.objects.filter(owner=member).count() == slots_added.count(201)

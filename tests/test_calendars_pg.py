"""Races with real threads (PostgreSQL, SQLite in a file): overlapping slots, the per-day cap, day edits."""

from __future__ import annotations

import datetime
import time

import pytest
from django.db import connection, transaction

from calendars import services
from calendars.models import Calendar, Day, TimeSlot
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory
from tests.support import run_together

pytestmark = [pytest.mark.concurrent, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slow_check(monkeypatch):
    # Widen the window between the overlap check and the insert: without the day lock every
    # racer would pass the check before any of them inserts.
    original = services._check_slot_fits

    def slow(**kwargs):
        original(**kwargs)
        time.sleep(0.2)

    monkeypatch.setattr(services, "_check_slot_fits", slow)


def make_day(creator):
    calendar = CalendarFactory(creator=creator)
    return DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=1)


def slot_url(day) -> str:
    return f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/"


def test_overlapping_slots_of_one_owner_one_wins(slow_check):
    owner = UserFactory()
    day = make_day(owner)
    clients = [client_for(owner) for _ in range(6)]
    calls = [
        (lambda c=c, i=i: c.post(slot_url(day), {"start_time": f"09:{i:02}", "end_time": "10:30"}, format="json"))
        for i, c in enumerate(clients)
    ]
    responses = run_together(*calls)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 400, 400, 400, 400, 400]
    assert TimeSlot.objects.filter(day=day, owner=owner).count() == 1
    for response in responses:
        if response.status_code == 400:
            assert response.json()["non_field_errors"][0].startswith("Overlaps your timeslot")


def test_same_times_for_different_owners_all_succeed(slow_check):
    creator = UserFactory()
    day = make_day(creator)
    members = [UserFactory() for _ in range(4)]
    for member in members:
        InvitationFactory(calendar=day.calendar, invitee=member, status="accepted")
    clients = [client_for(u) for u in [creator, *members]]
    calls = [
        (lambda c=c: c.post(slot_url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json"))
        for c in clients
    ]
    assert [r.status_code for r in run_together(*calls)] == [201] * 5
    assert TimeSlot.objects.filter(day=day).count() == 5


def test_cap_holds_under_concurrency(slow_check):
    owner = UserFactory()
    day = make_day(owner)
    for i in range(46):
        TimeSlotFactory(
            day=day,
            owner=owner,
            start_time=datetime.time(i // 2, 30 * (i % 2)),
            end_time=datetime.time(i // 2, 30 * (i % 2) + 10),
        )
    clients = [client_for(owner) for _ in range(4)]
    calls = [
        (
            lambda c=c, i=i: c.post(
                slot_url(day), {"start_time": f"23:{10 * i + 1:02}", "end_time": f"23:{10 * i + 5:02}"}, format="json"
            )
        )
        for i, c in enumerate(clients)
    ]
    codes = sorted(r.status_code for r in run_together(*calls))
    assert codes == [201, 201, 400, 400]
    assert TimeSlot.objects.filter(day=day, owner=owner).count() == 48


def test_concurrent_day_swaps_are_serialized():
    creator = UserFactory()
    calendar = CalendarFactory(creator=creator)
    days = [DayFactory(calendar=calendar, date=datetime.date(2030, 1, 1 + i), ranking=i + 1) for i in range(4)]
    for day in days:
        TimeSlotFactory(day=day, owner=creator)
    orders = [[2, 1, 4, 3], [4, 3, 2, 1], [3, 4, 1, 2], [1, 2, 3, 4], [2, 3, 4, 1]]

    def put(client, rankings):
        body = {
            "title": "Swaps",
            "days": [
                {"id": d.pk, "date": d.date.isoformat(), "ranking": r} for d, r in zip(days, rankings, strict=True)
            ],
        }
        return client.put(f"/calendars/{calendar.pk}/", body, format="json")

    clients = [client_for(creator) for _ in orders]
    calls = [(lambda c=c, o=o: put(c, o)) for c, o in zip(clients, orders, strict=True)]
    assert [r.status_code for r in run_together(*calls)] == [200] * len(orders)
    final = [Day.objects.get(pk=d.pk).ranking for d in days]
    assert final in orders
    assert TimeSlot.objects.filter(day__calendar=calendar).count() == 4


def test_slot_on_a_day_being_removed_is_never_a_500():
    creator = UserFactory()
    calendar = CalendarFactory(creator=creator)
    keep = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 1), ranking=1)
    doomed = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=2)
    editor, adder = client_for(creator), client_for(creator)
    body = {"title": "Fewer days", "days": [{"id": keep.pk, "date": "2030-01-01", "ranking": 1}]}
    edit, add = run_together(
        lambda: editor.put(f"/calendars/{calendar.pk}/", body, format="json"),
        lambda: adder.post(slot_url(doomed), {"start_time": "09:00", "end_time": "10:00"}, format="json"),
    )
    assert edit.status_code == 200
    assert add.status_code in {201, 404}
    assert not Day.objects.filter(pk=doomed.pk).exists()
    assert not TimeSlot.objects.exists()


def test_swap_of_dates_and_rankings():
    creator = UserFactory()
    calendar = CalendarFactory(creator=creator)
    a = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 1), ranking=1)
    b = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=2)
    slot = TimeSlotFactory(day=a, owner=creator)
    body = {
        "title": "Swapped",
        "days": [
            {"id": a.pk, "date": "2030-01-02", "ranking": 2},
            {"id": b.pk, "date": "2030-01-01", "ranking": 1},
        ],
    }
    response = client_for(creator).put(f"/calendars/{calendar.pk}/", body, format="json")
    assert response.status_code == 200
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.date, a.ranking, b.date, b.ranking) == (datetime.date(2030, 1, 2), 2, datetime.date(2030, 1, 1), 1)
    assert TimeSlot.objects.get().day_id == slot.day_id == a.pk


def test_participant_removed_while_adding_a_slot_keeps_no_slot(slow_check):
    from invitations.services import invitation_revoke

    creator, member = UserFactory(), UserFactory()
    day = make_day(creator)
    invitation = InvitationFactory(calendar=day.calendar, invitee=member, status="accepted")
    client = client_for(member)

    def revoke():
        time.sleep(0.05)  # let the slot request pass its membership check first
        invitation_revoke(invitation=invitation)

    add, _ = run_together(
        lambda: client.post(slot_url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json"), revoke
    )
    assert add.status_code in {201, 403}
    assert not TimeSlot.objects.filter(owner=member).exists()


@pytest.mark.postgres  # FOR NO KEY UPDATE against the FOR KEY SHARE an insert takes on the row it refers to
def test_the_users_lock_does_not_hold_up_rows_that_refer_to_them():
    # A capped write locks its user's row; a row merely pointing at the user (a calendar, a slot, an
    # invitation by someone else) must go in meanwhile, not wait for it.
    user = UserFactory()

    def refer() -> int:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            return CalendarFactory(creator=user).pk

    with transaction.atomic():
        services._lock_user(user.pk)  # held until the block ends
        (made,) = run_together(refer, timeout=30)
    assert Calendar.objects.filter(pk=made, creator=user).exists()

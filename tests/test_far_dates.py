"""No 5xx for any date: days at the very ends of the calendar (0001-01-01, 9999-12-31) in the zones furthest
from UTC (Etc/GMT+12, Etc/GMT-14, Pacific/Kiritimati), where UTC, or a reader's clock, cannot reach.

The API no longer takes such a date (tests/test_date_window.py), but rows stored before it may hold one,
and `9999-12-31` in `Etc/GMT+12` made suggestions and finalize raise OverflowError (500). Here the rows are
written directly and every path that reads them is walked: suggestions and the availability grid with
`?tz=`, the calendar's body, its .ics and the feed, undoing the meeting (cancellation emails in each
reader's zone), reminders, the "everyone answered" and "deadline passed" notices; and the pure functions
of calendars.scheduling on their own.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar as ICalendar

from calendars import emails, scheduling
from calendars.models import Calendar, Day, TimeSlot
from calendars.scheduling import CandidateDay, Slot, availability_grid, in_zone, place_meeting, suggest_meeting_times
from tests.conftest import client_for, run_tasks
from tests.factories import CalendarFactory, InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

LAST_DAY, FIRST_DAY = datetime.date.max, datetime.date.min
NORMAL_DAY = datetime.date(2030, 1, 2)
T = datetime.time


@pytest.fixture
def far():
    """A calendar in UTC-12 with days on 9999-12-31, 0001-01-01 and an ordinary one, slots on each from the
    creator (who reads in UTC+14) and a participant (UTC+14 too); a pending invitee; the meeting fixed on
    9999-12-31 23:00-23:30."""
    alice = UserFactory(username="alice", timezone="Pacific/Kiritimati")
    bob = UserFactory(username="bob", timezone="Etc/GMT-14")
    carol = UserFactory(username="carol")
    calendar = CalendarFactory(creator=alice, title="The end of time", timezone="Etc/GMT+12")
    days = [
        Day.objects.create(calendar=calendar, date=date, ranking=rank)
        for rank, date in enumerate([LAST_DAY, FIRST_DAY, NORMAL_DAY], 1)
    ]
    InvitationFactory(calendar=calendar, invitee=bob, status="accepted")
    InvitationFactory(calendar=calendar, invitee=carol, status="pending")
    for day in days:
        for owner in (alice, bob):
            TimeSlot.objects.create(day=day, owner=owner, start_time=T(0), end_time=T(23, 59))
    Calendar.objects.filter(pk=calendar.pk).update(
        finalized_date=LAST_DAY,
        finalized_start_time=T(23),
        finalized_end_time=T(23, 30),
        finalized_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        schedule_revision=1,
    )
    calendar.refresh_from_db()
    return {"calendar": calendar, "alice": alice, "bob": bob, "carol": carol, "days": days}


def test_suggestions_leave_the_unreachable_days_out(far):
    client = client_for(far["alice"])
    for query in ({}, {"tz": "Pacific/Kiritimati"}, {"tz": "Etc/GMT+12"}, {"duration": 1439, "step": 1}):
        response = client.get(f"/calendars/{far['calendar'].pk}/suggestions/", query)
        assert response.status_code == 200, (query, response.content[:300])
        assert {s["date"] for s in response.json()["suggestions"]} == {"2030-01-02"}, query


def test_the_availability_grid_with_any_reader_zone(far):
    client = client_for(far["bob"])
    response = client.get(f"/calendars/{far['calendar'].pk}/availability/", {"tz": "Etc/GMT-14"})
    assert response.status_code == 200
    by_date = {day["date"]: day["intervals"] for day in response.json()["days"]}
    # 9999-12-31 at UTC-12 is past year 9999 on a UTC+14 clock: no local time to show.
    assert (by_date["9999-12-31"][0]["local_start"], by_date["9999-12-31"][0]["local_end"]) == (None, None)
    assert by_date["9999-12-31"][0]["start_time"] == "00:00:00"
    assert by_date["0001-01-01"][0]["local_start"] == "0001-01-02T02:00:00+14:00"
    assert by_date["2030-01-02"][0]["local_end"] == "2030-01-04T01:59:00+14:00"
    assert client.get(f"/calendars/{far['calendar'].pk}/availability/", {"tz": "Etc/GMT+12"}).status_code == 200


def test_the_calendar_body_ics_and_feed(far):
    client = client_for(far["alice"])
    response = client.get(f"/calendars/{far['calendar'].pk}/")
    assert response.status_code == 200
    assert response.json()["finalized"] == {
        "date": "9999-12-31",
        "start_time": "23:00:00",
        "end_time": "23:30:00",
        "starts_at": "9999-12-31T23:00:00-12:00",
        "ends_at": "9999-12-31T23:30:00-12:00",
    }
    assert client.get("/calendars/").status_code == 200
    ics = client.get(f"/calendars/{far['calendar'].pk}/ics/")
    assert ics.status_code == 200
    event = ICalendar.from_ical(ics.content).events[0]
    assert event["DTSTART"].to_ical() == b"99991231T230000"
    assert event["DTSTART"].params["TZID"] == "Etc/GMT+12"
    token = client.get("/calendars/feed-token/").json()["token"]
    feed = client.get(f"/calendars/feed/{token}.ics")
    assert feed.status_code == 200
    assert len(ICalendar.from_ical(feed.content).events) == 1


def test_undoing_the_meeting_emails_everyone_in_their_zone(far, deliver):
    response = client_for(far["alice"]).delete(f"/calendars/{far['calendar'].pk}/finalize/")
    assert response.status_code == 200
    sent = {message.to[0]: message for message in deliver()}  # a task that raised fails here
    assert sorted(sent) == ["alice@example.com", "bob@example.com"]
    # The readers' clocks cannot show it (past year 9999): the calendar's own zone instead.
    assert "Friday 31 December 9999, 23:00\N{EN DASH}23:30 (Etc/GMT+12, UTC-12:00)" in sent["alice@example.com"].body


def test_finalizing_the_ordinary_day_and_the_notices(far, deliver):
    calendar, alice = far["calendar"], far["alice"]
    client = client_for(alice)
    assert client.delete(f"/calendars/{calendar.pk}/finalize/").status_code == 200
    meeting = {"date": "2030-01-02", "start_time": "09:00", "end_time": "10:00"}
    assert client.post(f"/calendars/{calendar.pk}/finalize/", meeting, format="json").status_code == 200
    assert client.delete(f"/calendars/{calendar.pk}/finalize/").status_code == 200
    # A reminder lists the candidate days, year 1 and year 9999 included.
    invitation = calendar.invitations.get(invitee=far["carol"])
    response = client.post(f"/calendars/{calendar.pk}/invitations/{invitation.pk}/remind/")
    assert response.status_code == 200
    deliver()
    reminder = next(m for m in deliver() if m.subject.startswith("Reminder"))
    assert "Friday 31 December 9999 (choice 1)" in reminder.body
    # The notices to the creator compute the best times over every day, and format a deadline in her zone.
    calendar.refresh_from_db()
    emails.queue_everyone_answered(calendar)
    for respond_by in (datetime.datetime.min, datetime.datetime.max):
        calendar.respond_by = respond_by.replace(tzinfo=datetime.UTC)
        emails.queue_deadline_passed(calendar)
    run_tasks()
    bodies = [m.body for m in deliver() if m.to == ["alice@example.com"]]
    # The best times are on the ordinary day (2 January at UTC-12 is the 3rd on her UTC+14 clock).
    assert any("The best one-hour time: Thursday 3 January 2030, 02:00" in body for body in bodies)
    assert any("passed (Friday 31 December 9999, 23:59 UTC time)" in body for body in bodies)
    assert any("passed (Monday 1 January 1, 00:00 UTC time)" in body for body in bodies)


def test_a_slot_on_a_far_day_and_its_notice(far, deliver):
    bob = far["bob"]
    TimeSlot.objects.filter(owner=bob).delete()
    far["calendar"].invitations.filter(invitee=far["carol"]).delete()
    Calendar.objects.filter(pk=far["calendar"].pk).update(
        finalized_date=None, finalized_start_time=None, finalized_end_time=None, finalized_at=None
    )
    day = far["days"][0]
    response = client_for(bob).post(
        f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/", {"start_time": "23:00", "end_time": "23:59"}
    )
    assert response.status_code == 201
    # Everyone has answered now: the creator's notice is written by the worker, over the far days too.
    assert [m.subject for m in deliver()] == ["Everyone has answered: The end of time"]


# calendars.scheduling on its own ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day"),
    [("Etc/GMT+12", LAST_DAY), ("Etc/GMT-14", FIRST_DAY), ("America/New_York", LAST_DAY), ("UTC", LAST_DAY)],
)
def test_place_meeting_at_the_ends_of_time(zone, day):
    start, end = place_meeting(time_zone=zone, day=day, start=T(23), end=T(23, 30))
    assert (start.replace(tzinfo=None), end.replace(tzinfo=None)) == (
        datetime.datetime.combine(day, T(23)),
        datetime.datetime.combine(day, T(23, 30)),
    )
    assert start.tzinfo == ZoneInfo(zone)


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "Etc/GMT-14", "Pacific/Kiritimati", "America/New_York"])
def test_suggestions_and_grid_at_the_ends_of_time(zone):
    days = [CandidateDay(LAST_DAY, 1), CandidateDay(FIRST_DAY, 2), CandidateDay(NORMAL_DAY, 3)]
    slots = [Slot(who, d.date, T(0), T(23, 59, 59)) for d in days for who in ("ann", "ben")]
    result = suggest_meeting_times(
        time_zone=zone, days=days, creator="ann", participants=["ben"], slots=slots, duration=60, step=1, limit=50
    )
    assert {s.date for s in result.suggestions} == {NORMAL_DAY}
    assert len(result.suggestions) == 23
    grid = availability_grid(days=days, members=["ann", "ben"], slots=slots)
    assert [len(g.intervals) for g in grid] == [1, 1, 1]


def test_in_zone_past_either_end_is_none():
    late = datetime.datetime(9999, 12, 31, 23, tzinfo=ZoneInfo("Etc/GMT+12"))
    early = datetime.datetime(1, 1, 1, 1, tzinfo=ZoneInfo("Etc/GMT-14"))
    assert in_zone(late, "Etc/GMT-14") is None
    assert in_zone(early, "Etc/GMT+12") is None
    assert in_zone(late, "Etc/GMT+12") == "9999-12-31T23:00:00-12:00"
    assert scheduling.wall_instant(LAST_DAY, T(23), "Etc/GMT+12") == late


def test_finalize_on_the_last_day_through_the_service(far, deliver):
    """The window keeps such a day out of the API; the service itself no longer raises on it (it did: 500)."""
    from calendars import services

    calendar = far["calendar"]
    Calendar.objects.filter(pk=calendar.pk).update(
        finalized_date=None, finalized_start_time=None, finalized_end_time=None, finalized_at=None
    )
    calendar.refresh_from_db()
    services.calendar_finalize(calendar=calendar, date=LAST_DAY, start_time=T(23), end_time=T(23, 30))
    assert sorted(m.to[0] for m in deliver()) == ["alice@example.com", "bob@example.com"]

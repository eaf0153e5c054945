"""iCalendar: GET /calendars/{id}/ics/ parsed back field by field, content negotiation, and the personal feed."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar as ICalendar

from calendars import services
from calendars.models import Calendar, FeedToken
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MAY_6 = datetime.date(2030, 5, 6)
MEETING = {"date": "2030-05-06", "start_time": "10:00", "end_time": "11:30"}


@pytest.fixture
def world():
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    nomail = UserFactory(username="no.mail+x", email="")
    carol = UserFactory(username="carol")
    dave = UserFactory(username="dave")
    calendar = CalendarFactory(
        creator=alice, title="Kickoff, 2030", description="Plan the year; bring ideas.", timezone="Europe/Berlin"
    )
    DayFactory(calendar=calendar, date=MAY_6, ranking=1)
    DayFactory(calendar=calendar, date=datetime.date(2030, 10, 27), ranking=2)
    InvitationFactory(calendar=calendar, invitee=bob, status="accepted")
    InvitationFactory(calendar=calendar, invitee=nomail, status="accepted")
    InvitationFactory(calendar=calendar, invitee=carol, status="pending")
    return {
        "calendar": calendar,
        "alice": client_for(alice),
        "bob": client_for(bob),
        "carol": client_for(carol),
        "dave": client_for(dave),
        "users": {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "nomail": nomail},
    }


def ics_url(calendar) -> str:
    return f"/calendars/{calendar.pk}/ics/"


def finalize(world, body=MEETING):
    response = world["alice"].post(f"/calendars/{world['calendar'].pk}/finalize/", body, format="json")
    assert response.status_code == 200
    return response


def parse(response) -> ICalendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return ICalendar.from_ical(response.content)


def only_event(ical: ICalendar):
    (event,) = ical.events
    return event


class TestCalendarIcs:
    def test_the_meeting_field_by_field(self, world):
        finalize(world)
        calendar = world["calendar"]
        calendar.refresh_from_db()
        response = world["bob"].get(ics_url(calendar))
        assert response["Content-Disposition"] == f'attachment; filename="oneonone-{calendar.pk}.ics"'
        ical = parse(response)
        assert str(ical["VERSION"]) == "2.0"
        assert str(ical["PRODID"]) == "-//OneOnOne//OneOnOne API 1.0//EN"
        assert str(ical["METHOD"]) == "PUBLISH"
        assert [tz.tz_name for tz in ical.timezones] == ["Europe/Berlin"]
        event = only_event(ical)
        assert str(event["UID"]) == f"calendar-{calendar.pk}@oneonone.local"
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert event.start == datetime.datetime(2030, 5, 6, 10, 0, tzinfo=BERLIN)
        assert event.start.utcoffset() == datetime.timedelta(hours=2)
        assert event.end == datetime.datetime(2030, 5, 6, 11, 30, tzinfo=BERLIN)
        assert str(event["SUMMARY"]) == "Kickoff, 2030"
        assert str(event["DESCRIPTION"]) == "Plan the year; bring ideas."
        assert str(event["STATUS"]) == "CONFIRMED"
        assert event["SEQUENCE"] == 0
        assert event["DTSTAMP"].dt == calendar.updated_at.replace(microsecond=0)
        assert str(event["ORGANIZER"]) == "mailto:alice@example.com"
        assert event["ORGANIZER"].params["CN"] == "alice"
        attendees = event["ATTENDEE"]
        assert [(str(a), a.params["CN"], a.params["ROLE"]) for a in attendees] == [
            ("mailto:bob@example.com", "bob", "REQ-PARTICIPANT"),
            ("mailto:no.mail%2Bx@users.invalid", "no.mail+x", "REQ-PARTICIPANT"),
        ]
        # The pending invitee is not an attendee.
        assert "carol" not in response.content.decode()

    def test_uid_is_stable_and_sequence_grows_with_every_change(self, world):
        calendar = world["calendar"]
        finalize(world)
        first = only_event(parse(world["alice"].get(ics_url(calendar))))
        assert world["alice"].delete(f"/calendars/{calendar.pk}/finalize/").status_code == 200
        finalize(world, {**MEETING, "start_time": "09:00"})
        second = only_event(parse(world["alice"].get(ics_url(calendar))))
        assert second["UID"] == first["UID"]
        assert (first["SEQUENCE"], second["SEQUENCE"]) == (0, 2)
        assert second.start == datetime.datetime(2030, 5, 6, 9, 0, tzinfo=BERLIN)

    def test_second_pass_of_a_repeated_hour_is_written_in_utc(self, world):
        # 02:00 on 2030-10-27 in Berlin happens twice; the meeting starts at the second one, which
        # DTSTART;TZID cannot say (it means the first), so it is written in UTC. 03:00 is unambiguous.
        finalize(world, {"date": "2030-10-27", "start_time": "02:00", "end_time": "03:00"})
        event = only_event(parse(world["alice"].get(ics_url(world["calendar"]))))
        assert event.start == datetime.datetime(2030, 10, 27, 1, 0, tzinfo=datetime.UTC)
        assert event["DTSTART"].to_ical() == b"20301027T010000Z"
        assert event["DTEND"].params["TZID"] == "Europe/Berlin"
        assert event.end == datetime.datetime(2030, 10, 27, 3, 0, tzinfo=BERLIN)
        assert event.end - event.start == datetime.timedelta(hours=1)

    def test_utc_calendar_has_no_vtimezone(self, world):
        calendar = world["calendar"]
        calendar.timezone = "UTC"
        calendar.save()
        finalize(world)
        ical = parse(world["alice"].get(ics_url(calendar)))
        assert ical.timezones == []
        event = only_event(ical)
        assert event["DTSTART"].to_ical() == b"20300506T100000Z"

    def test_vtimezone_covers_years_after_2038(self, world):
        calendar = world["calendar"]
        # The last summer the window of dates reaches (ten years ahead of the suite's pinned today, 2029-07-01).
        DayFactory(calendar=calendar, date=datetime.date(2039, 6, 30), ranking=3)
        finalize(world, {"date": "2039-06-30", "start_time": "10:00", "end_time": "11:00"})
        ical = parse(world["alice"].get(ics_url(calendar)))
        event = only_event(ical)
        assert event.start.utcoffset() == datetime.timedelta(hours=2)
        # The VTIMEZONE lists the 2039 transitions (the library's default range stops at 2038).
        daylight = [sub for sub in ical.timezones[0].subcomponents if sub.name == "DAYLIGHT"]
        assert b"20390327T" in b"".join(sub.to_ical() for sub in daylight)

    def test_empty_description_is_left_out(self, world):
        calendar = world["calendar"]
        calendar.description = ""
        calendar.save()
        finalize(world)
        assert "DESCRIPTION" not in only_event(parse(world["alice"].get(ics_url(calendar))))

    def test_not_finalized_is_409_json(self, world):
        calendar = world["calendar"]
        response = world["alice"].get(ics_url(calendar))
        assert response.status_code == 409
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "detail": "The meeting is not finalized yet; the creator fixes it with "
            f"POST /calendars/{calendar.pk}/finalize/."
        }

    def test_pending_invitee_gets_403_stranger_404(self, world):
        finalize(world)
        response = world["carol"].get(ics_url(world["calendar"]))
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only the calendar's creator and participants can do this; answer your invitation first."
        }
        response = world["dave"].get(ics_url(world["calendar"]))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_unauthenticated_is_401_json(self, world, api_client):
        response = api_client.get(ics_url(world["calendar"]), HTTP_ACCEPT="text/calendar")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"

    @pytest.mark.parametrize("accept", ["text/calendar", "*/*", "text/*", "text/html,application/xhtml+xml,*/*;q=0.8"])
    def test_accept_headers_that_allow_icalendar(self, world, accept):
        finalize(world)
        assert parse(world["bob"].get(ics_url(world["calendar"]), HTTP_ACCEPT=accept))

    def test_accept_json_only_is_406_json(self, world):
        finalize(world)
        response = world["bob"].get(ics_url(world["calendar"]), HTTP_ACCEPT="application/json")
        assert response.status_code == 406
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Could not satisfy the request Accept header."}

    def test_fixed_number_of_queries(self, world, django_assert_num_queries):
        finalize(world)
        for _ in range(5):
            friend = UserFactory()
            InvitationFactory(calendar=world["calendar"], invitee=friend, status="accepted")
        client = client_for(world["users"]["bob"])
        # auth user, calendar (+creator), accepted invitations (+invitees)
        with django_assert_num_queries(3):
            event = only_event(parse(client.get(ics_url(world["calendar"]))))
        assert len(event["ATTENDEE"]) == 7


# The feed ------------------------------------------------------------------------------------------------------


def feed_path(token: str) -> str:
    return f"/calendars/feed/{token}.ics"


class TestFeedToken:
    def test_read_is_stable_rotate_changes_it(self, world):
        first = world["bob"].get("/calendars/feed-token/")
        assert first.status_code == 200
        body = first.json()
        token = FeedToken.objects.get(user=world["users"]["bob"])
        assert body == {
            "url": f"http://testserver/calendars/feed/{token.token}.ics",
            "token": token.token,
            "created_at": token.created_at.isoformat().replace("+00:00", "Z"),
        }
        assert len(body["token"]) == 43
        assert world["bob"].get("/calendars/feed-token/").json() == body
        rotated = world["bob"].post("/calendars/feed-token/")
        assert rotated.status_code == 200
        assert rotated.json()["token"] != body["token"]
        assert world["bob"].get("/calendars/feed-token/").json() == rotated.json()
        assert FeedToken.objects.count() == 1

    def test_rotating_first_creates_one(self, world):
        response = world["carol"].post("/calendars/feed-token/")
        assert response.status_code == 200
        assert FeedToken.objects.get().token == response.json()["token"]

    def test_tokens_are_per_user(self, world):
        bobs = world["bob"].get("/calendars/feed-token/").json()["token"]
        alices = world["alice"].get("/calendars/feed-token/").json()["token"]
        assert bobs != alices

    def test_unauthenticated(self, api_client):
        assert api_client.get("/calendars/feed-token/").status_code == 401
        assert api_client.post("/calendars/feed-token/").status_code == 401


class TestFeed:
    def test_every_finalized_meeting_i_created_or_take_part_in(self, world):
        users = world["users"]
        finalize(world)  # alice's, bob takes part
        bobs_own = CalendarFactory(creator=users["bob"], title="Bob's", timezone="America/New_York")
        DayFactory(calendar=bobs_own, date=datetime.date(2030, 1, 10), ranking=1)
        assert (
            world["bob"]
            .post(f"/calendars/{bobs_own.pk}/finalize/", {**MEETING, "date": "2030-01-10"}, format="json")
            .status_code
            == 200
        )
        open_one = CalendarFactory(creator=users["bob"], title="Not fixed yet")
        DayFactory(calendar=open_one, date=MAY_6, ranking=1)
        invited_only = CalendarFactory(creator=users["dave"], title="Pending for bob")
        DayFactory(calendar=invited_only, date=MAY_6, ranking=1)
        InvitationFactory(calendar=invited_only, invitee=users["bob"], status="pending")
        client_for(users["dave"]).post(f"/calendars/{invited_only.pk}/finalize/", MEETING, format="json")
        token = world["bob"].get("/calendars/feed-token/").json()["token"]

        response = world["dave"].get(feed_path(token))  # any client, even another user's JWT, reads bob's feed
        ical = parse(response)
        assert response["Cache-Control"] == "private, no-cache"
        assert str(ical["X-WR-CALNAME"]) == "OneOnOne: bob"
        assert ical["REFRESH-INTERVAL"].dt == datetime.timedelta(hours=1)
        assert "METHOD" not in ical
        assert sorted(tz.tz_name for tz in ical.timezones) == ["America/New_York", "Europe/Berlin"]
        assert [(str(e["SUMMARY"]), e.start) for e in ical.events] == [
            ("Bob's", datetime.datetime(2030, 1, 10, 10, 0, tzinfo=ZoneInfo("America/New_York"))),
            ("Kickoff, 2030", datetime.datetime(2030, 5, 6, 10, 0, tzinfo=BERLIN)),
        ]
        assert [str(e["UID"]) for e in ical.events] == [
            f"calendar-{bobs_own.pk}@oneonone.local",
            f"calendar-{world['calendar'].pk}@oneonone.local",
        ]

    def test_no_login_needed_and_empty_feed_is_valid(self, world, api_client):
        token = world["carol"].get("/calendars/feed-token/").json()["token"]
        ical = parse(api_client.get(feed_path(token)))
        assert ical.events == []
        assert str(ical["VERSION"]) == "2.0"

    def test_rotation_kills_the_old_url(self, world, api_client):
        finalize(world)
        old = world["alice"].get("/calendars/feed-token/").json()["token"]
        assert api_client.get(feed_path(old)).status_code == 200
        new = world["alice"].post("/calendars/feed-token/").json()["token"]
        response = api_client.get(feed_path(old))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
        assert len(parse(api_client.get(feed_path(new))).events) == 1

    @pytest.mark.parametrize(
        "token", ["x" * 43, "short", "not-a-token-at-all-but-forty-three-chars-x", "\u00fcn\u00efc\u00f6d\u00e9"]
    )
    def test_unknown_token_is_404_json(self, world, api_client, token):
        world["alice"].get("/calendars/feed-token/")
        response = api_client.get(feed_path(token), HTTP_ACCEPT="text/calendar")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"

    def test_inactive_user_has_no_feed(self, world, api_client):
        token = world["bob"].get("/calendars/feed-token/").json()["token"]
        users = world["users"]
        users["bob"].is_active = False
        users["bob"].save()
        assert api_client.get(feed_path(token)).status_code == 404

    def test_leaving_a_calendar_drops_it_from_the_feed(self, world, api_client):
        finalize(world)
        token = world["bob"].get("/calendars/feed-token/").json()["token"]
        assert len(parse(api_client.get(feed_path(token))).events) == 1
        assert world["bob"].post("/contacts/block/", {"username": "alice"}, format="json").status_code == 200
        assert parse(api_client.get(feed_path(token))).events == []

    @pytest.mark.parametrize("count", [1, 6])
    def test_fixed_number_of_queries(self, count, api_client, django_assert_num_queries):
        owner = UserFactory()
        token = services.feed_token_get(user=owner)
        for index in range(count):
            calendar = CalendarFactory(creator=owner if index % 2 else UserFactory(), timezone="Asia/Tokyo")
            if index % 2 == 0:
                InvitationFactory(calendar=calendar, invitee=owner, status="accepted")
            InvitationFactory(calendar=calendar, invitee=UserFactory(), status="accepted")
            Calendar.objects.filter(pk=calendar.pk).update(
                finalized_date=datetime.date(2030, 2, 1) + datetime.timedelta(days=index),
                finalized_start_time=datetime.time(9),
                finalized_end_time=datetime.time(10),
                finalized_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
                schedule_revision=1,
            )
        # The two throttles (address, token): one UPSERT each, and each sweeps ended windows as its own opens;
        # then token (+user), calendars (+creators), accepted invitations (+invitees).
        with django_assert_num_queries(4 + 3):
            response = api_client.get(feed_path(token.token))
        assert len(parse(response).events) == count
        with django_assert_num_queries(2 + 3):  # the windows are open now
            assert len(parse(api_client.get(feed_path(token.token))).events) == count

"""Each person's own time zone: set on /auth/me/, spoken by their emails, and `?tz=` on suggestions and the grid.

Across a daylight-saving change in one of the two zones, and with a zone whose offset is not whole hours.
"""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from calendars.models import Calendar
from tests.conftest import client_for, run_tasks
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory

pytestmark = pytest.mark.django_db


class TestMyZone:
    def test_set_in_any_case_answered_canonical_and_cleared(self, auth_client):
        response = auth_client.patch("/auth/me/", {"timezone": "america/new_york"}, format="json")
        assert response.status_code == 200
        assert response.json()["timezone"] == "America/New_York"
        assert auth_client.get("/auth/me/").json()["timezone"] == "America/New_York"
        assert auth_client.patch("/auth/me/", {"timezone": ""}, format="json").json()["timezone"] == ""

    def test_unknown_zone_is_400(self, auth_client):
        response = auth_client.patch("/auth/me/", {"timezone": "Mars/Olympus"}, format="json")
        assert (response.status_code, response.json()) == (
            400,
            {"timezone": ["Unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Berlin."]},
        )

    def test_read_only_fields_are_ignored_and_put_is_not_allowed(self, auth_client, user):
        response = auth_client.patch("/auth/me/", {"username": "mallory", "email_verified": False}, format="json")
        assert response.status_code == 200
        assert (response.json()["username"], response.json()["email_verified"]) == ("alice", True)
        assert auth_client.put("/auth/me/", {"timezone": "UTC"}, format="json").status_code == 405

    def test_a_new_address_is_confirmed_before_it_gets_notices(self, auth_client, user):
        response = auth_client.patch("/auth/me/", {"email": "new@example.com"}, format="json")
        assert response.status_code == 200
        assert (response.json()["email"], response.json()["email_verified"]) == ("new@example.com", False)
        run_tasks()
        (message,) = mail.outbox
        assert (message.to, message.subject) == (["new@example.com"], "Confirm your email address for OneOnOne")

    @pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed", "not_confirmed"])
    @pytest.mark.parametrize("sent", ["alice@example.com", "ALICE@example.com"])
    def test_the_same_address_sends_nothing(self, auth_client, user, confirmed, sent):
        # Confirmed or not, the same address (in any case) is no new address: no link (POST /auth/email/resend/
        # is the way to ask for another).
        if not confirmed:
            user.verified_email = ""
            user.save()
        response = auth_client.patch("/auth/me/", {"email": sent}, format="json")
        assert (response.status_code, response.json()["email_verified"]) == (200, confirmed)
        run_tasks()
        assert mail.outbox == []

    def test_a_new_zone_alone_mails_no_link(self, auth_client, user):
        # Not even to an address still waiting for its confirmation: only a new address is mailed a link.
        user.verified_email = ""
        user.save()
        response = auth_client.patch("/auth/me/", {"timezone": "Asia/Kathmandu"}, format="json")
        assert (response.status_code, response.json()["timezone"]) == (200, "Asia/Kathmandu")
        run_tasks()
        assert mail.outbox == []

    def test_anonymous(self, api_client):
        assert api_client.patch("/auth/me/", {"timezone": "UTC"}, format="json").status_code == 401


def finalize(calendar, date: str, start: str, end: str):
    body = {"date": date, "start_time": start, "end_time": end}
    response = client_for(calendar.creator).post(f"/calendars/{calendar.pk}/finalize/", body, format="json")
    assert response.status_code == 200, response.json()
    run_tasks()
    return {message.to[0]: message for message in mail.outbox}


@pytest.fixture
def berlin(db):
    alice = UserFactory(username="alice")  # no zone: the calendar's
    calendar = CalendarFactory(creator=alice, title="Kickoff", timezone="Europe/Berlin")
    for i, date in enumerate(["2030-03-20", "2030-05-06"]):
        DayFactory(calendar=calendar, date=datetime.date.fromisoformat(date), ranking=i + 1)
    return calendar


def participant(calendar, name: str, zone: str):
    user = UserFactory(username=name, timezone=zone)
    InvitationFactory(calendar=calendar, invitee=user, status="accepted")
    return user


class TestEmailsSpeakTheReadersZone:
    def test_new_york_in_summer_and_the_creator_in_berlin(self, berlin):
        participant(berlin, "bob", "America/New_York")
        sent = finalize(berlin, "2030-05-06", "10:00", "11:30")
        assert sent["bob@example.com"].subject == (
            "Meeting fixed: Kickoff, Monday 6 May 2030, "
            "04:00\N{EN DASH}05:30 in New York (10:00\N{EN DASH}11:30 Berlin time)"
        )
        assert sent["alice@example.com"].subject == (
            "Meeting fixed: Kickoff, Monday 6 May 2030, 10:00\N{EN DASH}11:30 (Europe/Berlin, UTC+02:00)"
        )

    def test_between_the_two_clock_changes_the_gap_is_five_hours(self, berlin):
        # New York moved to summer time on 10 March 2030, Berlin only on 31 March.
        participant(berlin, "bob", "America/New_York")
        sent = finalize(berlin, "2030-03-20", "10:00", "11:30")
        assert "Wednesday 20 March 2030, 05:00\N{EN DASH}06:30 in New York (10:00\N{EN DASH}11:30 Berlin time)" in (
            sent["bob@example.com"].body
        )

    def test_kathmandu_is_a_quarter_hour_off(self, berlin):
        participant(berlin, "kiran", "Asia/Kathmandu")
        sent = finalize(berlin, "2030-05-06", "10:00", "11:30")
        assert "Monday 6 May 2030, 13:45\N{EN DASH}15:15 in Kathmandu (10:00\N{EN DASH}11:30 Berlin time)" in (
            sent["kiran@example.com"].body
        )

    def test_another_date_there_is_named(self, berlin):
        participant(berlin, "yuki", "Asia/Tokyo")
        sent = finalize(berlin, "2030-05-06", "22:00", "23:00")
        assert sent["yuki@example.com"].subject.endswith(
            "Tuesday 7 May 2030, 05:00\N{EN DASH}06:00 in Tokyo (Monday 6 May, 22:00\N{EN DASH}23:00 Berlin time)"
        )

    def test_the_same_zone_as_the_calendar_reads_as_before(self, berlin):
        participant(berlin, "berta", "Europe/Berlin")
        sent = finalize(berlin, "2030-05-06", "10:00", "11:30")
        assert sent["berta@example.com"].subject.endswith("10:00\N{EN DASH}11:30 (Europe/Berlin, UTC+02:00)")


@pytest.fixture
def planned(db):
    """A Berlin calendar on the day New York is already on summer time and Berlin not yet."""
    ann = UserFactory(username="ann")
    calendar = CalendarFactory(creator=ann, timezone="Europe/Berlin")
    day = DayFactory(calendar=calendar, date=datetime.date(2030, 3, 20), ranking=1)
    TimeSlotFactory(day=day, owner=ann, start_time=datetime.time(1), end_time=datetime.time(3))
    return calendar


class TestAskingForMyZone:
    def test_suggestions_in_new_york(self, planned):
        client = client_for(planned.creator)
        body = client.get(f"/calendars/{planned.pk}/suggestions/", {"tz": "America/New_York", "limit": 1}).json()
        assert body["local_timezone"] == "America/New_York"
        (top,) = body["suggestions"]
        assert (top["starts_at"], top["ends_at"]) == ("2030-03-20T01:00:00+01:00", "2030-03-20T02:00:00+01:00")
        # The day before in New York, five hours behind (not six) between the two clock changes.
        assert (top["local_start"], top["local_end"]) == ("2030-03-19T20:00:00-04:00", "2030-03-19T21:00:00-04:00")

    def test_suggestions_in_kathmandu(self, planned):
        body = (
            client_for(planned.creator)
            .get(f"/calendars/{planned.pk}/suggestions/", {"tz": "Asia/Kathmandu", "limit": 1})
            .json()
        )
        assert body["suggestions"][0]["local_start"] == "2030-03-20T05:45:00+05:45"

    def test_without_tz_the_local_times_are_null(self, planned):
        body = client_for(planned.creator).get(f"/calendars/{planned.pk}/suggestions/", {"limit": 1}).json()
        assert body["local_timezone"] is None
        assert (body["suggestions"][0]["local_start"], body["suggestions"][0]["local_end"]) == (None, None)

    def test_the_grid_in_new_york(self, planned):
        body = (
            client_for(planned.creator).get(f"/calendars/{planned.pk}/availability/", {"tz": "America/New_York"}).json()
        )
        assert body["local_timezone"] == "America/New_York"
        (interval,) = body["days"][0]["intervals"]
        assert (interval["start_time"], interval["end_time"]) == ("01:00:00", "03:00:00")
        assert (interval["local_start"], interval["local_end"]) == (
            "2030-03-19T20:00:00-04:00",
            "2030-03-19T22:00:00-04:00",
        )

    @pytest.mark.parametrize("path", ["suggestions", "availability"])
    def test_an_unknown_zone_is_400(self, planned, path):
        response = client_for(planned.creator).get(f"/calendars/{planned.pk}/{path}/", {"tz": "Nowhere/Special"})
        assert (response.status_code, response.json()) == (
            400,
            {"tz": ["Unknown time zone 'Nowhere/Special'; use an IANA name such as Europe/Berlin."]},
        )

    def test_calendar_is_still_in_its_own_zone(self, planned):
        assert Calendar.objects.get().timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("zone", "named"),
    [
        ("America/New_York", "New York"),
        ("Europe/Berlin", "Berlin"),
        ("UTC", "UTC"),
        ("Etc/GMT+12", "UTC-12"),
        ("Etc/GMT-14", "UTC+14"),
        ("Etc/UTC", "UTC"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
    ],
)
def test_zones_are_named_as_people_say_them(zone, named):
    from oneonone.timezones import city

    assert city(zone) == named

"""A time zone per calendar: validated IANA names, default UTC, set on create and PUT, used for absolute times."""

from __future__ import annotations

import datetime

import pytest

from calendars.models import Calendar
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, TimeSlotFactory

pytestmark = pytest.mark.django_db

DAYS = [{"date": "2030-03-30", "ranking": 1}, {"date": "2030-03-31", "ranking": 2}]


def create(client, **fields):
    return client.post("/calendars/", {"title": "T", "days": DAYS, **fields}, format="json")


class TestOnCreate:
    def test_default_is_utc(self, auth_client):
        response = create(auth_client)
        assert response.status_code == 201
        assert response.json()["timezone"] == "UTC"
        assert Calendar.objects.get().timezone == "UTC"

    @pytest.mark.parametrize(
        ("sent", "stored"),
        [
            ("Europe/Berlin", "Europe/Berlin"),
            ("america/new_york", "America/New_York"),
            ("ASIA/KOLKATA", "Asia/Kolkata"),
            ("Etc/GMT+5", "Etc/GMT+5"),
            ("utc", "UTC"),
        ],
    )
    def test_iana_names_in_any_case_are_stored_canonically(self, auth_client, sent, stored):
        response = create(auth_client, timezone=sent)
        assert response.status_code == 201
        assert response.json()["timezone"] == stored
        assert auth_client.get(f"/calendars/{response.json()['id']}/").json()["timezone"] == stored

    @pytest.mark.parametrize(
        "value", ["Mars/Olympus_Mons", "Berlin", "+02:00", "localtime", "Factory", "../etc/passwd"]
    )
    def test_unknown_zones_are_400(self, auth_client, value):
        response = create(auth_client, timezone=value)
        assert response.status_code == 400
        assert response.json() == {
            "timezone": [f"Unknown time zone {value!r}; use an IANA name such as Europe/Berlin."]
        }
        assert not Calendar.objects.exists()

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("", "This field may not be blank."),
            ("x" * 65, "Ensure this field has no more than 64 characters."),
            (None, "This field may not be null."),
        ],
    )
    def test_blank_long_or_null_is_400(self, auth_client, value, message):
        response = create(auth_client, timezone=value)
        assert response.status_code == 400
        assert response.json() == {"timezone": [message]}


class TestOnEdit:
    def put(self, client, calendar, **fields):
        days = [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in calendar.days.all()]
        return client.put(
            f"/calendars/{calendar.pk}/", {"title": calendar.title, "days": days, **fields}, format="json"
        )

    def test_change_and_keep(self, user, auth_client):
        calendar = CalendarFactory(creator=user, timezone="Europe/Berlin")
        DayFactory(calendar=calendar)
        response = self.put(auth_client, calendar, timezone="Asia/Tokyo")
        assert response.status_code == 200
        assert response.json()["timezone"] == "Asia/Tokyo"
        calendar.refresh_from_db()
        assert calendar.timezone == "Asia/Tokyo"
        # Left out: unchanged.
        assert self.put(auth_client, calendar).json()["timezone"] == "Asia/Tokyo"

    def test_unknown_zone_is_400(self, user, auth_client):
        calendar = CalendarFactory(creator=user, timezone="Europe/Berlin")
        DayFactory(calendar=calendar)
        response = self.put(auth_client, calendar, timezone="Nowhere/Special")
        assert response.status_code == 400
        assert response.json() == {
            "timezone": ["Unknown time zone 'Nowhere/Special'; use an IANA name such as Europe/Berlin."]
        }

    def test_wall_clock_times_stay_absolute_times_move(self, user, auth_client):
        # The slots are wall-clock times: changing the zone keeps 10:00 and moves the instant.
        calendar = CalendarFactory(creator=user, timezone="Europe/Berlin")
        day = DayFactory(calendar=calendar, date=datetime.date(2030, 7, 1), ranking=1)
        TimeSlotFactory(day=day, owner=user, start_time=datetime.time(10), end_time=datetime.time(11))
        url = f"/calendars/{calendar.pk}/suggestions/"
        assert auth_client.get(url).json()["suggestions"][0]["starts_at"] == "2030-07-01T10:00:00+02:00"
        assert self.put(auth_client, calendar, timezone="America/New_York").status_code == 200
        suggestion = auth_client.get(url).json()["suggestions"][0]
        assert (suggestion["start_time"], suggestion["starts_at"]) == ("10:00:00", "2030-07-01T10:00:00-04:00")


class TestAbsoluteTimesAcrossDaylightSaving:
    def test_finalized_meeting_offsets_either_side_of_the_change(self, user, auth_client):
        # Berlin moves to summer time in the night to 2030-03-31.
        response = create(auth_client, timezone="Europe/Berlin")
        calendar_id = response.json()["id"]
        url = f"/calendars/{calendar_id}/finalize/"
        response = auth_client.post(url, {"date": "2030-03-30", "start_time": "09:00", "end_time": "10:00"})
        assert response.json()["finalized"]["starts_at"] == "2030-03-30T09:00:00+01:00"
        assert auth_client.delete(url).status_code == 200
        response = auth_client.post(url, {"date": "2030-03-31", "start_time": "09:00", "end_time": "10:00"})
        assert response.json()["finalized"]["starts_at"] == "2030-03-31T09:00:00+02:00"

    def test_southern_hemisphere(self, user, auth_client):
        # Sydney: summer time (+11:00) in January, standard (+10:00) in July.
        calendar = CalendarFactory(creator=user, timezone="Australia/Sydney")
        for index, date in enumerate([datetime.date(2030, 1, 15), datetime.date(2030, 7, 15)]):
            day = DayFactory(calendar=calendar, date=date, ranking=index + 1)
            TimeSlotFactory(day=day, owner=user, start_time=datetime.time(9), end_time=datetime.time(10))
        body = auth_client.get(f"/calendars/{calendar.pk}/suggestions/").json()
        assert [s["starts_at"] for s in body["suggestions"]] == [
            "2030-01-15T09:00:00+11:00",
            "2030-07-15T09:00:00+10:00",
        ]

    def test_utc_calendar(self, user, auth_client):
        calendar = CalendarFactory(creator=user)
        day = DayFactory(calendar=calendar, date=datetime.date(2030, 3, 31), ranking=1)
        TimeSlotFactory(day=day, owner=user, start_time=datetime.time(2), end_time=datetime.time(3))
        body = auth_client.get(f"/calendars/{calendar.pk}/suggestions/").json()
        assert body["timezone"] == "UTC"
        assert body["suggestions"][0]["starts_at"] == "2030-03-31T02:00:00+00:00"


def test_creator_and_participant_see_the_same_zone(user, other_user, auth_client):
    from tests.factories import InvitationFactory

    calendar = CalendarFactory(creator=user, timezone="Pacific/Auckland")
    DayFactory(calendar=calendar)
    InvitationFactory(calendar=calendar, invitee=other_user, status="accepted")
    assert client_for(other_user).get(f"/calendars/{calendar.pk}/").json()["timezone"] == "Pacific/Auckland"
    listed = auth_client.get("/calendars/").json()["results"]
    assert [c["timezone"] for c in listed] == ["Pacific/Auckland"]

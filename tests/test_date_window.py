"""The dates a calendar may hold: from a year before today to ten years after (UTC), a 400 outside.

Checked wherever a date enters: the days of a create and of an edit (a kept day may keep a date that
has left the window since), finalize, and the end of `respond_by`. The suite pins today to 2029-07-01
(tests/conftest.py), so the window is 2028-07-01 to 2039-07-01.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from calendars import models
from calendars.models import Calendar, Day
from tests.conftest import PINNED_TODAY
from tests.factories import CalendarFactory, DayFactory

pytestmark = pytest.mark.django_db

FIRST, LAST = datetime.date(2028, 7, 1), datetime.date(2039, 7, 1)
WINDOW = "from 2028-07-01 to 2039-07-01 (a year back, ten years ahead)"


def outside(day: str) -> str:
    return f"{day} is outside the dates a calendar may hold: {WINDOW}."


def calendar_body(*dates: str) -> dict:
    return {"title": "Window", "days": [{"date": d, "ranking": i + 1} for i, d in enumerate(dates)]}


def test_the_window_counts_from_the_pinned_today():
    assert PINNED_TODAY == datetime.date(2029, 7, 1)
    assert models.date_window() == (FIRST, LAST)


def test_the_window_follows_the_real_date_in_utc(monkeypatch):
    monkeypatch.undo()  # the real dates_today
    with time_machine.travel(datetime.datetime(2031, 2, 28, 23, 30, tzinfo=datetime.UTC), tick=False):
        assert models.date_window() == (datetime.date(2030, 2, 28), datetime.date(2041, 2, 28))
    # 2:00 on 1 March in Kiritimati (UTC+14) is still 29 February in UTC: the day that counts.
    with time_machine.travel(datetime.datetime(2032, 2, 29, 12, 0, tzinfo=datetime.UTC), tick=False):
        assert models.date_window() == (datetime.date(2031, 2, 28), datetime.date(2042, 2, 28))


class TestCreate:
    def test_the_first_and_last_day_of_the_window(self, auth_client):
        response = auth_client.post("/calendars/", calendar_body("2028-07-01", "2039-07-01"), format="json")
        assert response.status_code == 201

    @pytest.mark.parametrize("day", ["2028-06-30", "2039-07-02", "0001-01-01", "9999-12-31"])
    def test_a_day_past_either_end_is_a_400(self, auth_client, day):
        response = auth_client.post("/calendars/", calendar_body("2030-01-01", day), format="json")
        assert response.status_code == 400
        assert response.json() == {"days": {"1": {"date": [outside(day)]}}}
        assert not Calendar.objects.exists()


class TestEdit:
    def days(self, calendar) -> list[dict]:
        return [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in calendar.days.all()]

    def test_a_new_day_outside_is_a_400(self, auth_client, user):
        calendar = CalendarFactory(creator=user)
        kept = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 1), ranking=1)
        body = {"title": "x", "days": [*self.days(calendar), {"date": "2039-07-02", "ranking": 2}]}
        response = auth_client.put(f"/calendars/{calendar.pk}/", body, format="json")
        assert response.status_code == 400
        assert response.json() == {"days": {"1": {"date": [outside("2039-07-02")]}}}
        assert list(calendar.days.values_list("pk", flat=True)) == [kept.pk]

    def test_a_kept_day_moved_outside_is_a_400(self, auth_client, user):
        calendar = CalendarFactory(creator=user)
        day = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 1), ranking=1)
        body = {"title": "x", "days": [{"id": day.pk, "date": "2028-06-30", "ranking": 1}]}
        response = auth_client.put(f"/calendars/{calendar.pk}/", body, format="json")
        assert response.status_code == 400
        assert response.json() == {"days": {"0": {"date": [outside("2028-06-30")]}}}

    def test_a_kept_day_that_left_the_window_keeps_its_date(self, auth_client, user):
        """A calendar edited long after it was made (or stored before the window) still takes a new title."""
        calendar = CalendarFactory(creator=user)
        DayFactory(calendar=calendar, date=datetime.date(2020, 5, 1), ranking=1)
        DayFactory(calendar=calendar, date=datetime.date(9999, 12, 31), ranking=2)
        body = {"title": "Renamed", "days": self.days(calendar)}
        response = auth_client.put(f"/calendars/{calendar.pk}/", body, format="json")
        assert response.status_code == 200
        assert [d["date"] for d in response.json()["days"]] == ["2020-05-01", "9999-12-31"]


class TestFinalize:
    @pytest.mark.parametrize("day", ["2028-06-30", "9999-12-31", "0001-01-01"])
    def test_a_date_outside_is_a_400_even_for_a_day_of_the_calendar(self, auth_client, user, day):
        calendar = CalendarFactory(creator=user, timezone="Etc/GMT+12")
        DayFactory(calendar=calendar, date=datetime.date.fromisoformat(day), ranking=1)
        meeting = {"date": day, "start_time": "23:00", "end_time": "23:30"}
        response = auth_client.post(f"/calendars/{calendar.pk}/finalize/", meeting, format="json")
        assert response.status_code == 400
        assert response.json() == {"date": [outside(day)]}
        calendar.refresh_from_db()
        assert not calendar.is_finalized

    def test_the_last_day_of_the_window(self, auth_client, user):
        calendar = CalendarFactory(creator=user, timezone="Etc/GMT+12")
        DayFactory(calendar=calendar, date=LAST, ranking=1)
        meeting = {"date": LAST.isoformat(), "start_time": "23:00", "end_time": "23:30"}
        assert auth_client.post(f"/calendars/{calendar.pk}/finalize/", meeting, format="json").status_code == 200


class TestDeadline:
    def body(self, respond_by: str) -> dict:
        return {**calendar_body("2030-01-01"), "respond_by": respond_by}

    def test_the_last_day_of_the_window(self, auth_client):
        response = auth_client.post("/calendars/", self.body("2039-07-01T23:59:59Z"), format="json")
        assert response.status_code == 201

    @pytest.mark.parametrize("respond_by", ["2039-07-02T00:00:00Z", "2039-07-01T20:00:00-12:00"])
    def test_later_is_a_400(self, auth_client, respond_by):
        response = auth_client.post("/calendars/", self.body(respond_by), format="json")
        assert response.status_code == 400
        assert response.json() == {
            "respond_by": ["The deadline must lie within ten years: on 2039-07-01 (UTC) at the latest."]
        }

    @pytest.mark.parametrize(
        "respond_by", ["9999-12-31T23:00:00-12:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
    )
    def test_absurd_years_are_a_400_never_a_500(self, auth_client, user, respond_by):
        response = auth_client.post("/calendars/", self.body(respond_by), format="json")
        assert response.status_code == 400
        assert response.json() == {"respond_by": ["Datetime value out of range."]}
        calendar = CalendarFactory(creator=user)
        Day.objects.create(calendar=calendar, date=datetime.date(2030, 1, 1), ranking=1)
        days = [{"id": calendar.days.get().pk, "date": "2030-01-01", "ranking": 1}]
        edit = {"title": "x", "days": days, "respond_by": respond_by}
        response = auth_client.put(f"/calendars/{calendar.pk}/", edit, format="json")
        assert response.status_code == 400
        assert response.json() == {"respond_by": ["Datetime value out of range."]}

    def test_far_but_representable_years_are_the_window_400(self, auth_client):
        response = auth_client.post("/calendars/", self.body("9999-12-31T12:00:00+00:00"), format="json")
        assert response.status_code == 400
        assert response.json() == {
            "respond_by": ["The deadline must lie within ten years: on 2039-07-01 (UTC) at the latest."]
        }
        assert timezone.now().year < 9999

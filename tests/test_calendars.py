"""Calendars with their days: create, list, retrieve, edit (PUT) and delete; visibility and bounds."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction

from calendars.models import Calendar, Day, TimeSlot
from calendars.serializers import CalendarCreateSerializer
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/calendars/"


def detail(calendar) -> str:
    return f"/calendars/{calendar.pk}/"


def slot_body(slot: TimeSlot) -> dict:
    return {
        "id": slot.pk,
        "owner_username": slot.owner.username,
        "start_time": slot.start_time.strftime("%H:%M:%S"),
        "end_time": slot.end_time.strftime("%H:%M:%S"),
        "preference": slot.preference,
    }


def day_body(day: Day) -> dict:
    return {
        "id": day.pk,
        "date": day.date.isoformat(),
        "ranking": day.ranking,
        "timeslots": [slot_body(s) for s in day.timeslots.order_by("start_time", "id")],
    }


def responses_of(calendar: Calendar) -> dict:
    statuses = list(calendar.invitations.values_list("status", flat=True))
    members = {
        calendar.creator_id,
        *calendar.invitations.filter(status="accepted").values_list("invitee_id", flat=True),
    }
    owners = set(TimeSlot.objects.filter(day__calendar=calendar).values_list("owner_id", flat=True))
    return {
        "invited": len(statuses),
        "accepted": statuses.count("accepted"),
        "pending": statuses.count("pending"),
        "rejected": statuses.count("rejected"),
        "with_availability": len(members & owners),
    }


def calendar_body(calendar: Calendar) -> dict:
    return {
        "id": calendar.pk,
        "creator_username": calendar.creator.username,
        "title": calendar.title,
        "description": calendar.description,
        "timezone": calendar.timezone,
        "respond_by": None,
        "responses": responses_of(calendar),
        "days": [day_body(d) for d in calendar.days.order_by("date", "id")],
        "participants": sorted(calendar.invitations.filter(status="accepted").values_list("invitee_id", flat=True)),
        "finalized": None,
    }


def make_calendar(creator, *, days: int = 2, slots: int = 0, **kwargs) -> Calendar:
    calendar = CalendarFactory(creator=creator, **kwargs)
    start = datetime.date(2030, 1, 1)
    for i in range(days):
        day = DayFactory(calendar=calendar, date=start + datetime.timedelta(days=i), ranking=i + 1)
        for j in range(slots):
            TimeSlotFactory(day=day, owner=creator, start_time=datetime.time(8 + j), end_time=datetime.time(8 + j, 30))
    return calendar


def join(calendar, user, status="accepted"):
    return InvitationFactory(calendar=calendar, invitee=user, status=status)


def edit_days(calendar) -> list[dict]:
    return [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in calendar.days.order_by("date")]


NEW = {
    "title": "Kickoff",
    "description": "An hour, any of these days.",
    "days": [
        {"date": "2030-01-02", "ranking": 1, "timeslots": [{"start_time": "09:00", "end_time": "10:30:00"}]},
        {"date": "2030-01-03", "ranking": 2},
    ],
}


class TestConstraints:
    """The invariants hold in the database, whatever the API does."""

    def test_duplicate_date_in_a_calendar(self):
        day = DayFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Day.objects.create(calendar=day.calendar, date=day.date, ranking=day.ranking + 1)
        Day.objects.create(calendar=CalendarFactory(), date=day.date, ranking=day.ranking)  # other calendar: fine

    def test_duplicate_ranking_in_a_calendar(self):
        day = DayFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Day.objects.create(calendar=day.calendar, date=day.date + datetime.timedelta(days=1), ranking=day.ranking)

    def test_ranking_positive(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            DayFactory(ranking=0)

    @pytest.mark.parametrize("end", [datetime.time(9, 0), datetime.time(8, 0)])
    def test_start_before_end(self, end):
        with pytest.raises(IntegrityError), transaction.atomic():
            TimeSlotFactory(start_time=datetime.time(9, 0), end_time=end)

    def test_deleting_a_calendar_removes_days_and_slots(self, user):
        calendar = make_calendar(user, days=3, slots=2)
        calendar.delete()
        assert not Day.objects.exists()
        assert not TimeSlot.objects.exists()


class TestCreate:
    def test_creates_calendar_days_and_my_slots(self, user, auth_client):
        response = auth_client.post(LIST, NEW, format="json")
        assert response.status_code == 201
        calendar = Calendar.objects.get()
        assert calendar.creator == user
        first, second = calendar.days.order_by("date")
        slot = first.timeslots.get()
        assert response.json() == {
            "id": calendar.pk,
            "title": "Kickoff",
            "description": "An hour, any of these days.",
            "timezone": "UTC",
            "respond_by": None,
            "days": [
                {
                    "id": first.pk,
                    "date": "2030-01-02",
                    "ranking": 1,
                    "timeslots": [
                        {
                            "id": slot.pk,
                            "owner_username": "alice",
                            "start_time": "09:00:00",
                            "end_time": "10:30:00",
                            "preference": "yes",
                        }
                    ],
                },
                {"id": second.pk, "date": "2030-01-03", "ranking": 2, "timeslots": []},
            ],
        }
        assert slot.owner == user

    def test_initial_slots_carry_their_preference(self, auth_client):
        slots = [
            {"start_time": "09:00", "end_time": "10:00", "preference": "if_need_be"},
            {"start_time": "10:00", "end_time": "11:00"},
        ]
        body = {"title": "T", "days": [{"date": "2030-01-02", "ranking": 1, "timeslots": slots}]}
        response = auth_client.post(LIST, body, format="json")
        assert response.status_code == 201
        assert [s["preference"] for s in response.json()["days"][0]["timeslots"]] == ["if_need_be", "yes"]
        bad = {
            "title": "T",
            "days": [{"date": "2030-01-02", "ranking": 1, "timeslots": [{**slots[0], "preference": "no"}]}],
        }
        response = auth_client.post(LIST, bad, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "days": {
                "0": {
                    "timeslots": {
                        "0": {"preference": ['"no" is not a valid preference; use one of "yes", "if_need_be".']}
                    }
                }
            }
        }

    def test_description_is_optional(self, auth_client):
        response = auth_client.post(LIST, {"title": "T", "days": [{"date": "2030-01-02", "ranking": 1}]}, format="json")
        assert response.status_code == 201
        assert response.json()["description"] == ""

    def test_read_only_fields_are_ignored(self, user, other_user, auth_client):
        body = {
            "id": 999,
            "creator_username": "bob",
            "participants": [other_user.pk],
            "title": "T",
            "days": [
                {
                    "id": 555,
                    "date": "2030-01-02",
                    "ranking": 1,
                    "timeslots": [{"id": 777, "owner_username": "bob", "start_time": "09:00", "end_time": "10:00"}],
                }
            ],
        }
        response = auth_client.post(LIST, body, format="json")
        assert response.status_code == 201
        calendar = Calendar.objects.get()
        assert calendar.creator == user
        assert calendar.pk != 999
        assert calendar.days.get().pk != 555
        slot = TimeSlot.objects.get()
        assert slot.owner == user
        assert slot.pk != 777
        assert not calendar.invitations.exists()

    def test_form_encoded_nested_days(self, auth_client):
        body = (
            "title=Form&days[0]date=2030-01-02&days[0]ranking=1"
            "&days[0]timeslots[0]start_time=09:00&days[0]timeslots[0]end_time=10:00"
            "&days[1]date=2030-01-05&days[1]ranking=2"
        )
        response = auth_client.post(LIST, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 201
        days = response.json()["days"]
        assert [(d["date"], d["ranking"], len(d["timeslots"])) for d in days] == [
            ("2030-01-02", 1, 1),
            ("2030-01-05", 2, 0),
        ]

    def test_multipart_nested_days(self, auth_client):
        body = {"title": "Multi", "days[0]date": "2030-01-02", "days[0]ranking": "3"}
        response = auth_client.post(LIST, body, format="multipart")
        assert response.status_code == 201
        assert response.json()["days"][0]["ranking"] == 3

    def test_unauthenticated(self, api_client):
        assert api_client.post(LIST, NEW, format="json").status_code == 401
        assert not Calendar.objects.exists()

    def test_at_least_one_day(self, auth_client):
        response = auth_client.post(LIST, {**NEW, "days": []}, format="json")
        assert response.status_code == 400
        assert response.json() == {"days": {"non_field_errors": ["A calendar needs at least one day."]}}

    def test_days_required(self, auth_client):
        response = auth_client.post(LIST, {"title": "T"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"days": ["This field is required."]}

    def test_at_most_sixty_days(self, auth_client):
        days = [
            {"date": (datetime.date(2030, 1, 1) + datetime.timedelta(days=i)).isoformat(), "ranking": i + 1}
            for i in range(61)
        ]
        response = auth_client.post(LIST, {"title": "T", "days": days}, format="json")
        assert response.status_code == 400
        assert response.json() == {"days": {"non_field_errors": ["A calendar has at most 60 days."]}}
        assert auth_client.post(LIST, {"title": "T", "days": days[:60]}, format="json").status_code == 201
        assert Day.objects.count() == 60

    def test_duplicate_date_names_the_day(self, auth_client):
        days = [{"date": "2030-01-02", "ranking": 1}, {"date": "2030-01-02", "ranking": 2}]
        response = auth_client.post(LIST, {"title": "T", "days": days}, format="json")
        assert response.status_code == 400
        assert response.json() == {"days": {"1": {"date": ["Duplicate date 2030-01-02 in this calendar."]}}}
        assert not Calendar.objects.exists()

    def test_duplicate_ranking_names_the_day(self, auth_client):
        days = [
            {"date": "2030-01-02", "ranking": 1},
            {"date": "2030-01-03", "ranking": 2},
            {"date": "2030-01-04", "ranking": 1},
        ]
        response = auth_client.post(LIST, {"title": "T", "days": days}, format="json")
        assert response.status_code == 400
        assert response.json() == {"days": {"2": {"ranking": ["Duplicate ranking 1 in this calendar."]}}}

    @pytest.mark.parametrize(
        ("ranking", "message"),
        [
            (0, "Ensure this value is greater than or equal to 1."),
            (-3, "Ensure this value is greater than or equal to 1."),
            (2**31, "Ensure this value is less than or equal to 2147483647."),
            ("first", "A valid integer is required."),
        ],
    )
    def test_bad_ranking(self, auth_client, ranking, message):
        response = auth_client.post(
            LIST, {"title": "T", "days": [{"date": "2030-01-02", "ranking": ranking}]}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {"days": {"0": {"ranking": [message]}}}

    @pytest.mark.parametrize("date", ["2030-02-30", "02/01/2030", "", "tomorrow", "0000-01-01"])
    def test_bad_date(self, auth_client, date):
        response = auth_client.post(LIST, {"title": "T", "days": [{"date": date, "ranking": 1}]}, format="json")
        assert response.status_code == 400
        assert list(response.json()["days"]["0"]) == ["date"]

    def test_title_bounds(self, auth_client):
        response = auth_client.post(LIST, {**NEW, "title": "x" * 201}, format="json")
        assert response.status_code == 400
        assert response.json() == {"title": ["Ensure this field has no more than 200 characters."]}
        response = auth_client.post(LIST, {**NEW, "title": "   "}, format="json")
        assert response.json() == {"title": ["This field may not be blank."]}
        assert auth_client.post(LIST, {**NEW, "title": "x" * 200}, format="json").status_code == 201

    def test_description_bound(self, auth_client):
        response = auth_client.post(LIST, {**NEW, "description": "x" * 5001}, format="json")
        assert response.status_code == 400
        assert response.json() == {"description": ["Ensure this field has no more than 5000 characters."]}

    def test_nested_slot_must_end_after_start(self, auth_client):
        days = [{"date": "2030-01-02", "ranking": 1, "timeslots": [{"start_time": "10:00", "end_time": "10:00"}]}]
        response = auth_client.post(LIST, {"title": "T", "days": days}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "days": {"0": {"timeslots": {"0": {"end_time": ["End time must be after start time."]}}}}
        }

    def test_nested_slots_may_not_overlap(self, auth_client):
        slots = [
            {"start_time": "09:00", "end_time": "10:00"},
            {"start_time": "10:00", "end_time": "11:00"},
            {"start_time": "10:30", "end_time": "12:00"},
        ]
        days = [{"date": "2030-01-02", "ranking": 1}, {"date": "2030-01-03", "ranking": 2, "timeslots": slots}]
        response = auth_client.post(LIST, {"title": "T", "days": days}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "days": {
                "1": {
                    "timeslots": {"2": {"non_field_errors": ["Overlaps your timeslot 10:00:00-11:00:00 on this day."]}}
                }
            }
        }
        assert not Calendar.objects.exists()

    def test_at_most_48_nested_slots_a_day(self, auth_client):
        slots = [
            {"start_time": f"{h:02}:{m:02}", "end_time": f"{h:02}:{m + 29:02}"} for h in range(24) for m in (0, 30)
        ]
        day = {"date": "2030-01-02", "ranking": 1}
        response = auth_client.post(LIST, {"title": "T", "days": [{**day, "timeslots": slots}]}, format="json")
        assert response.status_code == 201
        extra = [*slots, {"start_time": "23:59", "end_time": "23:59:30"}]
        response = auth_client.post(LIST, {"title": "T", "days": [{**day, "timeslots": extra}]}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "days": {"0": {"timeslots": {"non_field_errors": ["At most 48 timeslots per person per day."]}}}
        }

    @pytest.mark.parametrize("value", ["9am", "25:00", "10:60", "09:00:00.500", "", "0900"])
    def test_bad_time(self, auth_client, value):
        days = [{"date": "2030-01-02", "ranking": 1, "timeslots": [{"start_time": value, "end_time": "23:00"}]}]
        response = auth_client.post(LIST, {"title": "T", "days": days}, format="json")
        assert response.status_code == 400
        assert list(response.json()["days"]["0"]["timeslots"]["0"]) == ["start_time"]

    def test_constraint_race_is_a_400_and_nothing_is_kept(self, auth_client, monkeypatch):
        # Simulates a duplicate that slipped past validation: the database rejects it, the client gets a 400.
        monkeypatch.setattr(CalendarCreateSerializer, "validate_days", lambda self, days: days)
        days = [{"date": "2030-01-02", "ranking": 1}, {"date": "2030-01-02", "ranking": 2}]
        response = auth_client.post(LIST, {"title": "T", "days": days}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "days": {"non_field_errors": ["Two days of this calendar would share a date or a ranking."]}
        }
        assert not Calendar.objects.exists()


class TestList:
    def test_mine_and_those_i_take_part_in_newest_first(self, user, other_user, third_user, auth_client):
        mine = make_calendar(user, title="mine")
        joined = make_calendar(other_user, title="joined")
        join(joined, user)
        join(joined, third_user)
        pending = make_calendar(other_user, title="pending")
        join(pending, user, status="pending")
        rejected = make_calendar(other_user, title="rejected")
        join(rejected, user, status="rejected")
        make_calendar(other_user, title="stranger")
        newest = make_calendar(user, title="newest")
        response = auth_client.get(LIST)
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 3
        assert body["next"] is None
        assert body["previous"] is None
        assert body["results"] == [calendar_body(newest), calendar_body(joined), calendar_body(mine)]
        assert body["results"][1]["participants"] == sorted([user.pk, third_user.pk])

    def test_paginated(self, user, auth_client):
        for _ in range(12):
            make_calendar(user, days=1)
        first = auth_client.get(LIST).json()
        assert first["count"] == 12
        assert len(first["results"]) == 10
        assert first["next"].endswith("/calendars/?page=2")
        assert len(auth_client.get(LIST, {"page": 2}).json()["results"]) == 2
        assert len(auth_client.get(LIST, {"page_size": 11}).json()["results"]) == 11
        assert auth_client.get(LIST, {"page": 3}).status_code == 404

    def test_unauthenticated(self, api_client):
        assert api_client.get(LIST).status_code == 401

    @pytest.mark.parametrize("count", [1, 20])
    def test_query_count_is_flat(self, user, other_user, third_user, count, django_assert_num_queries):
        for i in range(count):
            calendar = make_calendar(user if i % 2 else other_user, days=7, slots=5)
            join(calendar, third_user)
            if i % 2 == 0:
                join(calendar, user)
        client = client_for(user)
        # auth user, calendars (+creator, +the count and every version in the same query), days (+timeslots,
        # +owner), invitations
        with django_assert_num_queries(4):
            response = client.get(LIST, {"page_size": 100})
        assert response.status_code == 200
        assert len(response.json()["results"]) == count
        assert all(len(c["days"]) == 7 and len(c["days"][0]["timeslots"]) == 5 for c in response.json()["results"])


class TestRetrieve:
    def test_creator_sees_everything(self, user, other_user, third_user, auth_client):
        calendar = make_calendar(user, days=3, slots=2)
        join(calendar, other_user)
        join(calendar, third_user, status="pending")
        TimeSlotFactory(day=calendar.days.first(), owner=other_user)
        response = auth_client.get(detail(calendar))
        assert response.status_code == 200
        assert response.json() == calendar_body(calendar)
        assert response.json()["participants"] == [other_user.pk]
        assert len(response.json()["days"][0]["timeslots"]) == 3

    @pytest.mark.parametrize("status", ["accepted", "pending"])
    def test_participant_and_pending_invitee_see_it(self, user, other_user, other_client, status):
        calendar = make_calendar(user, slots=1)
        join(calendar, other_user, status=status)
        response = other_client.get(detail(calendar))
        assert response.status_code == 200
        assert response.json() == calendar_body(calendar)

    @pytest.mark.parametrize("status", [None, "rejected"])
    def test_stranger_gets_404(self, user, other_user, other_client, status):
        calendar = make_calendar(user)
        if status:
            join(calendar, other_user, status=status)
        response = other_client.get(detail(calendar))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_missing_is_404(self, auth_client):
        assert auth_client.get("/calendars/424242/").status_code == 404

    def test_unauthenticated(self, user, api_client):
        assert api_client.get(detail(make_calendar(user))).status_code == 401

    @pytest.mark.parametrize("participants", [0, 5])
    def test_query_count_is_flat(self, user, participants, django_assert_num_queries):
        calendar = make_calendar(user, days=7, slots=5)
        for _ in range(participants):
            member = UserFactory()
            join(calendar, member)
            TimeSlotFactory(day=calendar.days.first(), owner=member)
        client = client_for(user)
        # auth user, calendar (+creator), days (+timeslots, +owner), accepted invitations
        with django_assert_num_queries(4):
            response = client.get(detail(calendar))
        assert response.status_code == 200
        assert len(response.json()["participants"]) == participants


class TestUpdate:
    def put(self, client, calendar, days, **fields):
        body = {"title": fields.pop("title", calendar.title), "days": days, **fields}
        return client.put(detail(calendar), body, format="json")

    def test_keeps_slots_of_kept_days_removes_others_adds_new(self, user, other_user, auth_client):
        calendar = make_calendar(user, days=3, slots=2)
        join(calendar, other_user)
        keep, drop, keep_too = calendar.days.order_by("date")
        TimeSlotFactory(day=keep, owner=other_user, start_time=datetime.time(14), end_time=datetime.time(15))
        kept_slots = set(keep.timeslots.values_list("pk", flat=True))
        days = [
            {"id": keep.pk, "date": "2030-03-01", "ranking": 5},
            {"id": keep_too.pk, "date": keep_too.date.isoformat(), "ranking": keep_too.ranking},
            {"date": "2030-03-02", "ranking": 1},
        ]
        response = self.put(auth_client, calendar, days, title="Renamed", description="New text")
        assert response.status_code == 200
        calendar.refresh_from_db()
        added = calendar.days.get(date=datetime.date(2030, 3, 2))
        keep.refresh_from_db()
        assert response.json() == {
            "id": calendar.pk,
            "title": "Renamed",
            "description": "New text",
            "timezone": "UTC",
            "respond_by": None,
            "days": [day_body(keep_too), day_body(keep), day_body(added)],
            "finalized": None,
        }
        assert (keep.date, keep.ranking) == (datetime.date(2030, 3, 1), 5)
        assert set(keep.timeslots.values_list("pk", flat=True)) == kept_slots
        assert not Day.objects.filter(pk=drop.pk).exists()
        assert not TimeSlot.objects.filter(day_id=drop.pk).exists()
        assert keep_too.timeslots.count() == 2

    def test_swap_two_rankings(self, user, auth_client):
        calendar = make_calendar(user, days=2, slots=1)
        a, b = calendar.days.order_by("date")
        days = [
            {"id": a.pk, "date": a.date.isoformat(), "ranking": b.ranking},
            {"id": b.pk, "date": b.date.isoformat(), "ranking": a.ranking},
        ]
        response = self.put(auth_client, calendar, days)
        assert response.status_code == 200
        assert [(d["id"], d["ranking"]) for d in response.json()["days"]] == [(a.pk, 2), (b.pk, 1)]
        assert TimeSlot.objects.filter(day=a).count() == 1

    def test_days_moved_off_values_the_others_still_hold(self, user, auth_client):
        # x (the older row) moves off ranking 2, y off ranking 1 and off the first date there is (a day kept
        # from before the window of dates): each is parked on a value neither holds nor wants on the way.
        calendar = CalendarFactory(creator=user)
        x = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=2)
        y = DayFactory(calendar=calendar, date=datetime.date.min, ranking=1)
        days = [
            {"id": x.pk, "date": "2030-01-03", "ranking": 3},
            {"id": y.pk, "date": "2030-01-04", "ranking": 4},
        ]
        response = self.put(auth_client, calendar, days)
        assert response.status_code == 200
        assert sorted(calendar.days.values_list("pk", "date", "ranking")) == [
            (x.pk, datetime.date(2030, 1, 3), 3),
            (y.pk, datetime.date(2030, 1, 4), 4),
        ]

    def test_what_the_database_refuses_after_the_checks_is_a_400(self, user, auth_client, monkeypatch):
        # A concurrent edit can slip past the checks; the unique constraints then refuse, and the answer is the
        # 400 of those constraints with nothing changed, not a 500.
        calendar = make_calendar(user, days=1, slots=0)
        (day,) = calendar.days.all()

        def refused(*args, **kwargs):
            raise IntegrityError("calendars_day unique")

        monkeypatch.setattr(Day.objects, "bulk_create", refused)
        days = [{"id": day.pk, "date": day.date.isoformat(), "ranking": 1}, {"date": "2030-02-01", "ranking": 2}]
        response = self.put(auth_client, calendar, days)
        assert (response.status_code, response.json()) == (
            400,
            {"days": {"non_field_errors": ["Two days of this calendar would share a date or a ranking."]}},
        )
        assert list(calendar.days.all()) == [day]

    def test_swap_two_dates(self, user, auth_client):
        calendar = make_calendar(user, days=2, slots=1)
        a, b = calendar.days.order_by("date")
        days = [
            {"id": a.pk, "date": b.date.isoformat(), "ranking": a.ranking},
            {"id": b.pk, "date": a.date.isoformat(), "ranking": b.ranking},
        ]
        response = self.put(auth_client, calendar, days)
        assert response.status_code == 200
        assert [(d["id"], d["date"]) for d in response.json()["days"]] == [
            (b.pk, a.date.isoformat()),
            (a.pk, b.date.isoformat()),
        ]

    def test_rotate_rankings_and_take_a_removed_days_values(self, user, auth_client):
        calendar = make_calendar(user, days=4)
        a, b, c, d = calendar.days.order_by("date")
        days = [
            {"id": a.pk, "date": a.date.isoformat(), "ranking": 2},
            {"id": b.pk, "date": b.date.isoformat(), "ranking": 3},
            {"id": c.pk, "date": d.date.isoformat(), "ranking": 1},
            {"date": c.date.isoformat(), "ranking": 4},
        ]
        response = self.put(auth_client, calendar, days)
        assert response.status_code == 200
        got = {(day.date, day.ranking) for day in calendar.days.all()}
        assert got == {(a.date, 2), (b.date, 3), (d.date, 1), (c.date, 4)}
        assert not Day.objects.filter(pk=d.pk).exists()

    def test_round_trip_of_a_get_changes_nothing(self, user, other_user, auth_client):
        calendar = make_calendar(user, days=2, slots=2)
        join(calendar, other_user)
        # Another member's slot overlapping the creator's: fine, each owner has their own.
        TimeSlotFactory(
            day=calendar.days.first(), owner=other_user, start_time=datetime.time(8), end_time=datetime.time(9)
        )
        before = calendar_body(calendar)
        response = auth_client.put(detail(calendar), auth_client.get(detail(calendar)).json(), format="json")
        assert response.status_code == 200
        assert calendar_body(calendar) == before

    def test_new_day_may_carry_my_slots_existing_days_ignore_them(self, user, auth_client):
        calendar = make_calendar(user, days=1)
        existing = calendar.days.get()
        days = [
            {
                "id": existing.pk,
                "date": "2030-01-01",
                "ranking": 1,
                "timeslots": [{"start_time": "09:00", "end_time": "10:00"}],
            },
            {"date": "2030-01-09", "ranking": 2, "timeslots": [{"start_time": "09:00", "end_time": "10:00"}]},
        ]
        response = self.put(auth_client, calendar, days)
        assert response.status_code == 200
        assert not existing.timeslots.exists()
        added = TimeSlot.objects.get()
        assert added.owner == user
        assert added.day.date == datetime.date(2030, 1, 9)

    def test_description_kept_when_left_out(self, user, auth_client):
        calendar = make_calendar(user, description="Keep me")
        response = self.put(auth_client, calendar, edit_days(calendar), title="New")
        assert response.status_code == 200
        calendar.refresh_from_db()
        assert (calendar.title, calendar.description) == ("New", "Keep me")

    def test_day_of_another_calendar_is_400(self, user, auth_client):
        calendar = make_calendar(user)
        foreign = make_calendar(user, days=1).days.get()
        days = [*edit_days(calendar)[:1], {"id": foreign.pk, "date": "2031-01-01", "ranking": 9}]
        response = self.put(auth_client, calendar, days)
        assert response.status_code == 400
        assert response.json() == {"days": {"1": {"id": [f"Day {foreign.pk} is not a day of this calendar."]}}}
        assert calendar.days.count() == 2
        foreign.refresh_from_db()
        assert foreign.ranking == 1

    def test_same_day_twice_is_400(self, user, auth_client):
        calendar = make_calendar(user, days=1)
        day = calendar.days.get()
        days = [{"id": day.pk, "date": "2030-01-01", "ranking": 1}, {"id": day.pk, "date": "2030-01-02", "ranking": 2}]
        response = self.put(auth_client, calendar, days)
        assert response.status_code == 400
        assert response.json() == {"days": {"1": {"id": [f"Day {day.pk} is listed more than once."]}}}

    def test_duplicate_dates_after_edit_are_400(self, user, auth_client):
        calendar = make_calendar(user)
        days = edit_days(calendar)
        days[1]["date"] = days[0]["date"]
        response = self.put(auth_client, calendar, days)
        assert response.status_code == 400
        assert response.json() == {"days": {"1": {"date": ["Duplicate date 2030-01-01 in this calendar."]}}}

    def test_cannot_remove_every_day(self, user, auth_client):
        calendar = make_calendar(user)
        response = self.put(auth_client, calendar, [])
        assert response.status_code == 400
        assert response.json() == {"days": {"non_field_errors": ["A calendar needs at least one day."]}}
        assert calendar.days.count() == 2

    def test_title_required_on_put(self, user, auth_client):
        calendar = make_calendar(user)
        response = auth_client.put(detail(calendar), {"days": edit_days(calendar)}, format="json")
        assert response.status_code == 400
        assert response.json() == {"title": ["This field is required."]}

    @pytest.mark.parametrize("status", ["accepted", "pending"])
    def test_participant_and_invitee_get_403(self, user, other_user, other_client, status):
        calendar = make_calendar(user)
        join(calendar, other_user, status=status)
        response = self.put(other_client, calendar, edit_days(calendar)[:1], title="Mine now")
        assert response.status_code == 403
        assert response.json() == {"detail": "Only the calendar's creator can change or delete it."}
        calendar.refresh_from_db()
        assert calendar.title != "Mine now"
        assert calendar.days.count() == 2

    def test_stranger_gets_404(self, user, other_client):
        calendar = make_calendar(user)
        assert self.put(other_client, calendar, edit_days(calendar)).status_code == 404

    def test_unauthenticated(self, user, api_client):
        calendar = make_calendar(user)
        assert self.put(api_client, calendar, edit_days(calendar)).status_code == 401

    def test_no_patch(self, user, auth_client):
        calendar = make_calendar(user)
        assert auth_client.patch(detail(calendar), {"title": "x"}, format="json").status_code == 405


class TestDelete:
    def test_creator_deletes_with_days_slots_and_invitations(self, user, other_user, auth_client):
        calendar = make_calendar(user, days=3, slots=2)
        join(calendar, other_user)
        kept = make_calendar(user, days=1, slots=1)
        response = auth_client.delete(detail(calendar))
        assert response.status_code == 204
        assert not Calendar.objects.filter(pk=calendar.pk).exists()
        assert list(Day.objects.values_list("calendar_id", flat=True)) == [kept.pk]
        assert TimeSlot.objects.count() == 1
        assert not other_user.invitations.exists()

    def test_participant_gets_403(self, user, other_user, other_client):
        calendar = make_calendar(user)
        join(calendar, other_user)
        response = other_client.delete(detail(calendar))
        assert response.status_code == 403
        assert Calendar.objects.filter(pk=calendar.pk).exists()

    def test_stranger_gets_404(self, user, other_client):
        calendar = make_calendar(user)
        assert other_client.delete(detail(calendar)).status_code == 404
        assert Calendar.objects.filter(pk=calendar.pk).exists()

    def test_unauthenticated(self, user, api_client):
        assert api_client.delete(detail(make_calendar(user))).status_code == 401

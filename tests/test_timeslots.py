"""Timeslots of a day: who reads and writes them, time formats, overlaps and the per-day cap."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendars.models import TimeSlot
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory

pytestmark = pytest.mark.django_db


def t(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


@pytest.fixture
def calendar(user):
    return CalendarFactory(creator=user)


@pytest.fixture
def day(calendar):
    return DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=1)


@pytest.fixture
def participant(calendar, other_user):
    InvitationFactory(calendar=calendar, invitee=other_user, status="accepted")
    return other_user


def another_day(calendar):
    return DayFactory(calendar=calendar, date=datetime.date(2031, 5, 5), ranking=99)


def url(day, slot=None) -> str:
    base = f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/"
    return f"{base}{slot.pk}/" if slot else base


def body(slot: TimeSlot) -> dict:
    return {
        "id": slot.pk,
        "owner_username": slot.owner.username,
        "start_time": slot.start_time.strftime("%H:%M:%S"),
        "end_time": slot.end_time.strftime("%H:%M:%S"),
        "preference": slot.preference,
    }


class TestList:
    def test_every_members_slots_earliest_first(self, day, user, participant, auth_client):
        late = TimeSlotFactory(day=day, owner=user, start_time=t(15), end_time=t(16))
        early = TimeSlotFactory(day=day, owner=participant, start_time=t(8), end_time=t(9))
        mid = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        TimeSlotFactory(day=another_day(day.calendar), owner=user)  # another day: not listed
        response = auth_client.get(url(day))
        assert response.status_code == 200
        assert response.json() == {
            "count": 3,
            "next": None,
            "previous": None,
            "results": [body(early), body(mid), body(late)],
        }

    def test_paginated(self, day, user, auth_client):
        for hour in range(12):
            TimeSlotFactory(day=day, owner=user, start_time=t(hour), end_time=t(hour, 30))
        first = auth_client.get(url(day)).json()
        assert (first["count"], len(first["results"])) == (12, 10)
        assert first["next"].endswith("?page=2")

    def test_pending_invitee_sees_them(self, day, user, third_user, third_client):
        InvitationFactory(calendar=day.calendar, invitee=third_user, status="pending")
        slot = TimeSlotFactory(day=day, owner=user)
        response = third_client.get(url(day))
        assert response.status_code == 200
        assert response.json()["results"] == [body(slot)]

    @pytest.mark.parametrize("status", [None, "rejected"])
    def test_stranger_gets_404(self, day, third_user, third_client, status):
        if status:
            InvitationFactory(calendar=day.calendar, invitee=third_user, status=status)
        TimeSlotFactory(day=day)
        response = third_client.get(url(day))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_day_of_another_calendar_is_404(self, day, user, auth_client):
        other_day = DayFactory(calendar=CalendarFactory(creator=user))
        assert auth_client.get(f"/calendars/{day.calendar_id}/day/{other_day.pk}/timeslot/").status_code == 404
        assert auth_client.get(f"/calendars/{day.calendar_id}/day/987654/timeslot/").status_code == 404

    def test_unauthenticated(self, day, api_client):
        assert api_client.get(url(day)).status_code == 401

    @pytest.mark.parametrize("count", [1, 30])
    def test_query_count_is_flat(self, day, user, count, django_assert_num_queries):
        owners = [UserFactory() for _ in range(3)]
        for owner in owners:
            InvitationFactory(calendar=day.calendar, invitee=owner, status="accepted")
        for i in range(count):
            TimeSlotFactory(day=day, owner=owners[i % 3], start_time=t(i % 24), end_time=t(i % 24, 30))
        client = client_for(user)
        # auth user, day (+calendar, visibility), slots (+owner, +the count)
        with django_assert_num_queries(3):
            response = client.get(url(day), {"page_size": 100})
        assert len(response.json()["results"]) == count


class TestCreate:
    def test_creator_adds_own_slot(self, day, user, auth_client):
        response = auth_client.post(url(day), {"start_time": "09:00", "end_time": "10:30:15"}, format="json")
        assert response.status_code == 201
        slot = TimeSlot.objects.get()
        assert response.json() == {
            "id": slot.pk,
            "owner_username": "alice",
            "start_time": "09:00:00",
            "end_time": "10:30:15",
            "preference": "yes",
        }
        assert (slot.day, slot.owner, slot.start_time, slot.end_time) == (day, user, t(9), datetime.time(10, 30, 15))

    def test_what_the_database_refuses_after_the_checks_is_a_400(self, day, auth_client, monkeypatch):
        from django.db import IntegrityError

        def refused(*args, **kwargs):
            raise IntegrityError("timeslot constraint")

        monkeypatch.setattr(TimeSlot, "save", refused)
        response = auth_client.post(url(day), {"start_time": "09:00", "end_time": "10:30"}, format="json")
        assert (response.status_code, response.json()) == (400, {"end_time": ["End time must be after start time."]})
        assert not TimeSlot.objects.exists()

    def test_participant_adds_own_slot(self, day, participant, other_client):
        response = other_client.post(url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json")
        assert response.status_code == 201
        assert response.json()["owner_username"] == "bob"
        assert TimeSlot.objects.get().owner == participant

    def test_owner_cannot_be_chosen(self, day, user, participant, auth_client):
        payload = {"id": 4242, "owner_username": "bob", "start_time": "09:00", "end_time": "10:00"}
        response = auth_client.post(url(day), payload, format="json")
        assert response.status_code == 201
        slot = TimeSlot.objects.get()
        assert slot.owner == user
        assert slot.pk != 4242

    def test_form_encoded(self, day, auth_client):
        response = auth_client.post(
            url(day), "start_time=07:15&end_time=08:00", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 201
        assert response.json()["start_time"] == "07:15:00"

    def test_pending_invitee_gets_403(self, day, third_user, third_client):
        InvitationFactory(calendar=day.calendar, invitee=third_user, status="pending")
        response = third_client.post(url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "Only the calendar's creator and participants can add timeslots."}
        assert not TimeSlot.objects.exists()

    def test_stranger_gets_404(self, day, third_client):
        response = third_client.post(url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json")
        assert response.status_code == 404
        assert not TimeSlot.objects.exists()

    def test_unauthenticated(self, day, api_client):
        assert api_client.post(url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json").status_code == 401

    @pytest.mark.parametrize(("start", "end"), [("10:00", "10:00"), ("11:00", "10:00"), ("10:00:01", "10:00")])
    def test_must_end_after_start(self, day, auth_client, start, end):
        response = auth_client.post(url(day), {"start_time": start, "end_time": end}, format="json")
        assert response.status_code == 400
        assert response.json() == {"end_time": ["End time must be after start time."]}

    @pytest.mark.parametrize("value", ["9am", "24:00", "10:60", "10:00:60", "09:00:00.5", "", "0900", "T09:00", None])
    def test_bad_time(self, day, auth_client, value):
        response = auth_client.post(url(day), {"start_time": value, "end_time": "23:00"}, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["start_time"]

    def test_bad_time_message(self, day, auth_client):
        response = auth_client.post(url(day), {"start_time": "9am", "end_time": "23:00"}, format="json")
        assert response.json() == {
            "start_time": ["Time has wrong format. Use one of these formats instead: hh:mm:ss, hh:mm."]
        }

    def test_missing_fields(self, day, auth_client):
        response = auth_client.post(url(day), {}, format="json")
        assert response.status_code == 400
        assert response.json() == {"start_time": ["This field is required."], "end_time": ["This field is required."]}

    @pytest.mark.parametrize(
        ("start", "end"),
        [("09:30", "10:30"), ("08:00", "09:01"), ("09:59", "11:00"), ("08:00", "12:00"), ("09:15", "09:45")],
    )
    def test_overlap_with_my_slot_is_400_naming_it(self, day, user, auth_client, start, end):
        mine = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        response = auth_client.post(url(day), {"start_time": start, "end_time": end}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": [f"Overlaps your timeslot 09:00:00-10:00:00 (id {mine.pk}) on this day."]
        }
        assert TimeSlot.objects.count() == 1

    def test_adjacent_slots_are_fine(self, day, user, auth_client):
        TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        assert (
            auth_client.post(url(day), {"start_time": "10:00", "end_time": "11:00"}, format="json").status_code == 201
        )
        assert (
            auth_client.post(url(day), {"start_time": "08:00", "end_time": "09:00"}, format="json").status_code == 201
        )

    def test_other_owners_and_other_days_do_not_clash(self, day, user, participant, other_client):
        TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        TimeSlotFactory(day=another_day(day.calendar), owner=participant, start_time=t(9), end_time=t(10))
        response = other_client.post(url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json")
        assert response.status_code == 201
        created = TimeSlot.objects.get(day=day, owner=participant)
        assert response.json() == body(created)
        assert (created.start_time, created.end_time) == (t(9), t(10))
        assert TimeSlot.objects.count() == 3

    def test_at_most_48_per_owner_per_day(self, day, user, participant, auth_client, other_client):
        for i in range(48):
            TimeSlotFactory(
                day=day, owner=user, start_time=t(i // 2, 30 * (i % 2)), end_time=t(i // 2, 30 * (i % 2) + 1)
            )
        response = auth_client.post(url(day), {"start_time": "23:50", "end_time": "23:55"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": ["You already have 48 timeslots on this day, the most allowed."]}
        # The cap is per owner: someone else still can.
        assert (
            other_client.post(url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json").status_code == 201
        )


class TestRetrieve:
    def test_member_reads_any_slot(self, day, participant, other_client, user):
        slot = TimeSlotFactory(day=day, owner=user)
        response = other_client.get(url(day, slot))
        assert response.status_code == 200
        assert response.json() == body(slot)

    def test_slot_of_another_day_is_404(self, day, user, auth_client):
        slot = TimeSlotFactory(day=another_day(day.calendar), owner=user)
        assert auth_client.get(url(day, slot)).status_code == 404

    def test_stranger_gets_404(self, day, user, third_client):
        slot = TimeSlotFactory(day=day, owner=user)
        assert third_client.get(url(day, slot)).status_code == 404

    def test_unauthenticated(self, day, user, api_client):
        assert api_client.get(url(day, TimeSlotFactory(day=day, owner=user))).status_code == 401


class TestUpdate:
    def test_owner_moves_slot(self, day, participant, other_client):
        slot = TimeSlotFactory(day=day, owner=participant, start_time=t(9), end_time=t(10))
        response = other_client.put(url(day, slot), {"start_time": "09:30", "end_time": "11:00:00"}, format="json")
        assert response.status_code == 200
        slot.refresh_from_db()
        assert response.json() == body(slot)
        assert (slot.start_time, slot.end_time) == (t(9, 30), t(11))

    def test_writes_only_the_times_and_the_preference(self, day, user, auth_client):
        # Only the admin moves a slot to another day, without the day's lock: a move racing this PUT is kept.
        slot = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        with CaptureQueriesContext(connection) as queries:
            response = auth_client.put(url(day, slot), {"start_time": "09:30", "end_time": "11:00"}, format="json")
        assert response.status_code == 200
        (update,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "calendars_timeslot"')]
        written = re.findall(r'"(\w+)" = ', update.split(" WHERE ")[0])
        assert written == ["start_time", "end_time", "preference"]

    def test_may_overlap_its_own_old_times(self, day, user, auth_client):
        slot = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        response = auth_client.put(url(day, slot), {"start_time": "09:00", "end_time": "10:30"}, format="json")
        assert response.status_code == 200
        slot.refresh_from_db()
        assert (slot.start_time, slot.end_time) == (t(9), t(10, 30))
        assert response.json() == body(slot)
        assert TimeSlot.objects.count() == 1

    def test_what_the_database_refuses_after_the_checks_is_a_400(self, day, user, auth_client, monkeypatch):
        from django.db import IntegrityError

        slot = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))

        def refused(*args, **kwargs):
            raise IntegrityError("timeslot constraint")

        monkeypatch.setattr(TimeSlot, "save", refused)
        response = auth_client.put(url(day, slot), {"start_time": "09:00", "end_time": "10:30"}, format="json")
        assert (response.status_code, response.json()) == (400, {"end_time": ["End time must be after start time."]})
        assert TimeSlot.objects.get(pk=slot.pk).end_time == t(10)

    def test_may_not_overlap_another_of_mine(self, day, user, auth_client):
        slot = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        other = TimeSlotFactory(day=day, owner=user, start_time=t(11), end_time=t(12))
        response = auth_client.put(url(day, slot), {"start_time": "10:00", "end_time": "11:30"}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": [f"Overlaps your timeslot 11:00:00-12:00:00 (id {other.pk}) on this day."]
        }
        slot.refresh_from_db()
        assert slot.end_time == t(10)

    def test_must_end_after_start(self, day, user, auth_client):
        slot = TimeSlotFactory(day=day, owner=user)
        response = auth_client.put(url(day, slot), {"start_time": "12:00", "end_time": "11:00"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"end_time": ["End time must be after start time."]}

    def test_put_needs_both_times(self, day, user, auth_client):
        slot = TimeSlotFactory(day=day, owner=user)
        response = auth_client.put(url(day, slot), {"start_time": "08:00"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"end_time": ["This field is required."]}

    def test_creator_cannot_move_a_participants_slot(self, day, participant, auth_client):
        slot = TimeSlotFactory(day=day, owner=participant, start_time=t(9), end_time=t(10))
        response = auth_client.put(url(day, slot), {"start_time": "13:00", "end_time": "14:00"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "Only the owner of a timeslot can change or delete it."}
        slot.refresh_from_db()
        assert slot.start_time == t(9)

    def test_stranger_gets_404(self, day, user, third_client):
        slot = TimeSlotFactory(day=day, owner=user)
        response = third_client.put(url(day, slot), {"start_time": "13:00", "end_time": "14:00"}, format="json")
        assert response.status_code == 404

    def test_unauthenticated(self, day, user, api_client):
        slot = TimeSlotFactory(day=day, owner=user)
        assert (
            api_client.put(url(day, slot), {"start_time": "13:00", "end_time": "14:00"}, format="json").status_code
            == 401
        )

    def test_no_patch(self, day, user, auth_client):
        slot = TimeSlotFactory(day=day, owner=user)
        assert auth_client.patch(url(day, slot), {"start_time": "08:00"}, format="json").status_code == 405


class TestDelete:
    def test_owner_deletes(self, day, participant, other_client):
        slot = TimeSlotFactory(day=day, owner=participant)
        assert other_client.delete(url(day, slot)).status_code == 204
        assert not TimeSlot.objects.exists()

    def test_others_get_403(self, day, user, participant, auth_client):
        slot = TimeSlotFactory(day=day, owner=participant)
        response = auth_client.delete(url(day, slot))
        assert response.status_code == 403
        assert TimeSlot.objects.filter(pk=slot.pk).exists()

    def test_stranger_gets_404(self, day, user, third_client):
        slot = TimeSlotFactory(day=day, owner=user)
        assert third_client.delete(url(day, slot)).status_code == 404
        assert TimeSlot.objects.filter(pk=slot.pk).exists()

    def test_unauthenticated(self, day, user, api_client):
        assert api_client.delete(url(day, TimeSlotFactory(day=day, owner=user))).status_code == 401


class TestPreference:
    def test_defaults_to_yes_and_can_be_if_need_be(self, day, auth_client):
        plain = auth_client.post(url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json")
        assert plain.json()["preference"] == "yes"
        rather_not = auth_client.post(
            url(day), {"start_time": "10:00", "end_time": "11:00", "preference": "if_need_be"}, format="json"
        )
        assert rather_not.status_code == 201
        assert rather_not.json()["preference"] == "if_need_be"
        assert list(TimeSlot.objects.order_by("start_time").values_list("preference", flat=True)) == [
            "yes",
            "if_need_be",
        ]
        listed = auth_client.get(url(day)).json()["results"]
        assert [s["preference"] for s in listed] == ["yes", "if_need_be"]

    def test_form_encoded(self, day, auth_client):
        response = auth_client.post(
            url(day),
            "start_time=07:15&end_time=08:00&preference=if_need_be",
            content_type="application/x-www-form-urlencoded",
        )
        assert (response.status_code, response.json()["preference"]) == (201, "if_need_be")

    @pytest.mark.parametrize("value", ["maybe", "YES", "", "if need be", None, 1])
    def test_unknown_value_is_400_naming_the_allowed_ones(self, day, auth_client, value):
        response = auth_client.post(
            url(day), {"start_time": "09:00", "end_time": "10:00", "preference": value}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()) == ["preference"]
        if value == "maybe":
            assert response.json() == {
                "preference": ['"maybe" is not a valid preference; use one of "yes", "if_need_be".']
            }
        assert not TimeSlot.objects.exists()

    def test_put_changes_it_and_leaving_it_out_keeps_it(self, day, user, auth_client):
        slot = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        changed = auth_client.put(
            url(day, slot), {"start_time": "09:00", "end_time": "10:00", "preference": "if_need_be"}, format="json"
        )
        assert (changed.status_code, changed.json()["preference"]) == (200, "if_need_be")
        moved = auth_client.put(url(day, slot), {"start_time": "09:30", "end_time": "10:30"}, format="json")
        assert moved.json() == {
            "id": slot.pk,
            "owner_username": "alice",
            "start_time": "09:30:00",
            "end_time": "10:30:00",
            "preference": "if_need_be",
        }
        slot.refresh_from_db()
        assert slot.preference == "if_need_be"
        bad = auth_client.put(
            url(day, slot), {"start_time": "09:30", "end_time": "10:30", "preference": "no"}, format="json"
        )
        assert bad.status_code == 400
        assert list(bad.json()) == ["preference"]

    def test_the_database_refuses_another_value(self, day, user):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            TimeSlot.objects.create(day=day, owner=user, start_time=t(9), end_time=t(10), preference="maybe")

"""Several timeslots at once: a whole day of mine saved with one PUT, several added with one POST; all or nothing."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from calendars.models import Calendar, TimeSlot
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory

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


def url(day) -> str:
    return f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/"


def body(slot: TimeSlot) -> dict:
    return {
        "id": slot.pk,
        "owner_username": slot.owner.username,
        "start_time": slot.start_time.strftime("%H:%M:%S"),
        "end_time": slot.end_time.strftime("%H:%M:%S"),
        "preference": slot.preference,
    }


def times(day, owner) -> list[tuple]:
    slots = TimeSlot.objects.filter(day=day, owner=owner).order_by("start_time")
    return [(s.start_time.strftime("%H:%M"), s.end_time.strftime("%H:%M"), s.preference) for s in slots]


def finalize(calendar) -> None:
    Calendar.objects.filter(pk=calendar.pk).update(
        finalized_date=datetime.date(2030, 1, 2),
        finalized_start_time=t(9),
        finalized_end_time=t(10),
        finalized_at=timezone.now(),
    )


OVERLAP_AT_1 = {"1": {"non_field_errors": ["Overlaps your timeslot 09:00:00-10:00:00 on this day."]}}


class TestSaveMyDay:
    def test_replaces_my_slots_keeping_the_ids_of_unchanged_times(self, day, user, participant, auth_client):
        same = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        rather_not = TimeSlotFactory(day=day, owner=user, start_time=t(11), end_time=t(12))
        dropped = TimeSlotFactory(day=day, owner=user, start_time=t(13), end_time=t(14))
        theirs = TimeSlotFactory(day=day, owner=participant, start_time=t(13), end_time=t(14))
        elsewhere = DayFactory(calendar=day.calendar, date=datetime.date(2030, 1, 3), ranking=2)
        other_day = TimeSlotFactory(day=elsewhere, owner=user, start_time=t(9), end_time=t(10))
        sent = [
            {"start_time": "15:00", "end_time": "16:30", "preference": "if_need_be"},
            {"start_time": "09:00", "end_time": "10:00:00"},
            {"start_time": "11:00", "end_time": "12:00", "preference": "if_need_be"},
            {"start_time": "10:00", "end_time": "11:00"},  # touches its neighbours: fine
        ]
        response = auth_client.put(url(day), sent, format="json")
        assert response.status_code == 200
        new = {s.start_time: s for s in TimeSlot.objects.filter(day=day, owner=user)}
        assert response.json() == [
            {**body(same), "preference": "yes"},
            body(new[t(10)]),
            {**body(rather_not), "preference": "if_need_be"},
            body(new[t(15)]),
        ]
        assert new[t(9)].pk == same.pk
        assert new[t(11)].pk == rather_not.pk
        assert new[t(11)].preference == "if_need_be"
        assert not TimeSlot.objects.filter(pk=dropped.pk).exists()
        assert TimeSlot.objects.filter(pk__in=[theirs.pk, other_day.pk]).count() == 2
        assert times(day, user) == [
            ("09:00", "10:00", "yes"),
            ("10:00", "11:00", "yes"),
            ("11:00", "12:00", "if_need_be"),
            ("15:00", "16:30", "if_need_be"),
        ]

    def test_what_the_database_refuses_after_the_checks_is_a_400(self, day, user, auth_client, monkeypatch):
        mine = TimeSlotFactory(day=day, owner=user, start_time=t(8), end_time=t(9))

        def refused(*args, **kwargs):
            raise IntegrityError("timeslot constraint")

        monkeypatch.setattr(TimeSlot.objects, "bulk_create", refused)
        response = auth_client.put(url(day), [{"start_time": "09:00", "end_time": "10:00"}], format="json")
        assert (response.status_code, response.json()) == (400, {"end_time": ["End time must be after start time."]})
        assert list(TimeSlot.objects.all()) == [mine]  # the whole save rolled back, the deletion too

    def test_the_same_body_twice_changes_nothing(self, day, user, auth_client):
        sent = [{"start_time": "09:00", "end_time": "10:00"}, {"start_time": "11:00", "end_time": "12:00"}]
        first = auth_client.put(url(day), sent, format="json").json()
        assert auth_client.put(url(day), sent, format="json").json() == first

    def test_a_left_out_preference_is_yes(self, day, user, auth_client):
        TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10), preference="if_need_be")
        response = auth_client.put(url(day), [{"start_time": "09:00", "end_time": "10:00"}], format="json")
        assert response.json()[0]["preference"] == "yes"

    def test_new_slots_may_take_the_place_of_old_ones(self, day, user, auth_client):
        TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(12))
        sent = [{"start_time": "10:00", "end_time": "11:00"}]
        assert auth_client.put(url(day), sent, format="json").status_code == 200
        assert times(day, user) == [("10:00", "11:00", "yes")]

    def test_an_empty_array_clears_my_day_only(self, day, user, participant, auth_client):
        TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        theirs = TimeSlotFactory(day=day, owner=participant, start_time=t(9), end_time=t(10))
        response = auth_client.put(url(day), [], format="json")
        assert (response.status_code, response.json()) == (200, [])
        assert list(TimeSlot.objects.filter(day=day)) == [theirs]

    def test_a_participant_saves_their_own_day(self, day, user, participant, other_client):
        mine = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        response = other_client.put(url(day), [{"start_time": "09:00", "end_time": "10:00"}], format="json")
        assert response.status_code == 200
        assert response.json()[0]["owner_username"] == "bob"
        assert TimeSlot.objects.filter(pk=mine.pk).exists()

    @pytest.mark.parametrize(
        ("sent", "errors"),
        [
            (
                [{"start_time": "08:00", "end_time": "09:00"}] * 2,
                {"1": {"non_field_errors": ["Overlaps your timeslot 08:00:00-09:00:00 on this day."]}},
            ),
            (
                [{"start_time": "08:00", "end_time": "08:30"}, {"start_time": "07:00", "end_time": "06:00"}],
                {"1": {"end_time": ["End time must be after start time."]}},
            ),
            (
                [
                    {"start_time": "08:00", "end_time": "09:00"},
                    {"start_time": "09:00", "end_time": "10:00"},
                    {"start_time": "12:00", "end_time": "13:00", "preference": "maybe"},
                ],
                {"2": {"preference": ['"maybe" is not a valid preference; use one of "yes", "if_need_be".']}},
            ),
            (
                [{"start_time": "09:00", "end_time": "10:00"}, {"start_time": "09:30", "end_time": "09:45"}],
                OVERLAP_AT_1,
            ),
            (
                [{"start_time": "9am", "end_time": "10:00"}],
                {"0": {"start_time": ["Time has wrong format. Use one of these formats instead: hh:mm:ss, hh:mm."]}},
            ),
            (
                # Each item is checked on its own first; overlaps between items once every item is valid.
                [{"start_time": "08:00", "end_time": "09:00"}] * 2 + [{"start_time": "10:00", "end_time": "09:00"}],
                {"2": {"end_time": ["End time must be after start time."]}},
            ),
            ([{}], {"0": {"start_time": ["This field is required."], "end_time": ["This field is required."]}}),
            (
                {"start_time": "09:00", "end_time": "10:00"},
                {"non_field_errors": ['Expected a list of items but got type "dict".']},
            ),
            ([[]], {"0": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}}),
        ],
    )
    def test_one_bad_item_refuses_the_whole_body_naming_its_index(self, day, user, auth_client, sent, errors):
        kept = TimeSlotFactory(day=day, owner=user, start_time=t(20), end_time=t(21))
        response = auth_client.put(url(day), sent, format="json")
        assert (response.status_code, response.json()) == (400, errors)
        assert list(TimeSlot.objects.all()) == [kept]

    def test_at_most_48(self, day, user, auth_client):
        slots = [
            {"start_time": f"{h:02}:{m:02}", "end_time": f"{h:02}:{m + 29:02}"} for h in range(24) for m in (0, 30)
        ]
        assert auth_client.put(url(day), slots, format="json").status_code == 200
        response = auth_client.put(url(day), [*slots, {"start_time": "23:59", "end_time": "23:59:30"}], format="json")
        assert (response.status_code, response.json()) == (
            400,
            {"non_field_errors": ["At most 48 timeslots per person per day."]},
        )
        assert TimeSlot.objects.count() == 48

    def test_json_only(self, day, user, auth_client):
        TimeSlotFactory(day=day, owner=user)
        response = auth_client.put(
            url(day), "start_time=09:00&end_time=10:00", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 415
        assert TimeSlot.objects.count() == 1

    def test_pending_invitee_gets_403(self, day, user, third_user, third_client):
        InvitationFactory(calendar=day.calendar, invitee=third_user, status="pending")
        response = third_client.put(url(day), [], format="json")
        assert (response.status_code, response.json()) == (
            403,
            {"detail": "Only the calendar's creator and participants can add timeslots."},
        )

    @pytest.mark.parametrize("status", [None, "rejected"])
    def test_strangers_get_404(self, day, user, third_user, third_client, status):
        if status:
            InvitationFactory(calendar=day.calendar, invitee=third_user, status=status)
        TimeSlotFactory(day=day, owner=user)
        assert third_client.put(url(day), [], format="json").status_code == 404
        other_day = DayFactory(calendar=CalendarFactory(creator=user))
        path = f"/calendars/{day.calendar_id}/day/{other_day.pk}/timeslot/"
        assert third_client.put(path, [], format="json").status_code == 404
        assert TimeSlot.objects.count() == 1

    def test_day_of_another_calendar_is_404(self, day, user, auth_client):
        other_day = DayFactory(calendar=CalendarFactory(creator=user))
        response = auth_client.put(f"/calendars/{day.calendar_id}/day/{other_day.pk}/timeslot/", [], format="json")
        assert response.status_code == 404

    def test_unauthenticated(self, day, api_client):
        assert api_client.put(url(day), [], format="json").status_code == 401

    def test_409_while_finalized(self, day, user, auth_client):
        TimeSlotFactory(day=day, owner=user)
        finalize(day.calendar)
        response = auth_client.put(url(day), [], format="json")
        assert response.status_code == 409
        assert "timeslots cannot change" in response.json()["detail"]
        assert TimeSlot.objects.count() == 1


class TestAddSeveral:
    def test_adds_them_all_in_the_order_sent(self, day, user, auth_client):
        TimeSlotFactory(day=day, owner=user, start_time=t(8), end_time=t(9))
        sent = [
            {"start_time": "11:00", "end_time": "12:00", "preference": "if_need_be"},
            {"start_time": "09:00", "end_time": "10:00"},
        ]
        response = auth_client.post(url(day), sent, format="json")
        assert response.status_code == 201
        late, early = TimeSlot.objects.get(start_time=t(11)), TimeSlot.objects.get(start_time=t(9))
        assert response.json() == [body(late), body(early)]
        assert (late.preference, early.preference) == ("if_need_be", "yes")
        assert times(day, user) == [
            ("08:00", "09:00", "yes"),
            ("09:00", "10:00", "yes"),
            ("11:00", "12:00", "if_need_be"),
        ]

    def test_one_overlapping_my_slots_refuses_all(self, day, user, auth_client):
        mine = TimeSlotFactory(day=day, owner=user, start_time=t(9), end_time=t(10))
        sent = [{"start_time": "07:00", "end_time": "08:00"}, {"start_time": "09:30", "end_time": "11:00"}]
        response = auth_client.post(url(day), sent, format="json")
        assert (response.status_code, response.json()) == (
            400,
            {"1": {"non_field_errors": [f"Overlaps your timeslot 09:00:00-10:00:00 (id {mine.pk}) on this day."]}},
        )
        assert list(TimeSlot.objects.all()) == [mine]

    def test_only_my_slots_on_this_day_can_clash_and_touching_is_not_clashing(
        self, day, user, participant, auth_client
    ):
        TimeSlotFactory(day=day, owner=user, start_time=t(10), end_time=t(11))  # starts as the new one ends
        TimeSlotFactory(day=day, owner=participant, start_time=t(9), end_time=t(10))  # someone else's
        elsewhere = DayFactory(calendar=day.calendar, date=datetime.date(2030, 1, 3), ranking=2)
        TimeSlotFactory(day=elsewhere, owner=user, start_time=t(9), end_time=t(10))  # mine, another day
        sent = [{"start_time": "09:00", "end_time": "10:00"}, {"start_time": "11:00", "end_time": "12:00"}]
        response = auth_client.post(url(day), sent, format="json")
        assert response.status_code == 201
        assert times(day, user) == [("09:00", "10:00", "yes"), ("10:00", "11:00", "yes"), ("11:00", "12:00", "yes")]

    def test_what_the_database_refuses_after_the_checks_is_a_400(self, day, user, auth_client, monkeypatch):
        # A concurrent write can slip past the checks; the database's constraint then refuses the insert, and
        # the answer is the 400 of that constraint, not a 500.
        def refused(*args, **kwargs):
            raise IntegrityError("timeslot constraint")

        monkeypatch.setattr(TimeSlot.objects, "bulk_create", refused)
        response = auth_client.post(url(day), [{"start_time": "09:00", "end_time": "10:00"}], format="json")
        assert (response.status_code, response.json()) == (400, {"end_time": ["End time must be after start time."]})
        assert not TimeSlot.objects.exists()

    def test_items_overlapping_each_other_refuse_all(self, day, user, auth_client):
        sent = [{"start_time": "09:00", "end_time": "10:00"}, {"start_time": "09:59", "end_time": "11:00"}]
        response = auth_client.post(url(day), sent, format="json")
        assert (response.status_code, response.json()) == (400, OVERLAP_AT_1)
        assert not TimeSlot.objects.exists()

    def test_the_cap_counts_my_slots_already_there(self, day, user, participant, auth_client):
        for i in range(46):
            TimeSlotFactory(
                day=day, owner=user, start_time=t(i // 2, 30 * (i % 2)), end_time=t(i // 2, 30 * (i % 2) + 1)
            )
        three = [{"start_time": f"23:{m:02}", "end_time": f"23:{m + 5:02}"} for m in (10, 20, 30)]
        response = auth_client.post(url(day), three, format="json")
        assert (response.status_code, response.json()) == (
            400,
            {
                "non_field_errors": [
                    "You already have 46 timeslots on this day; 3 more would pass 48, the most allowed."
                ]
            },
        )
        assert auth_client.post(url(day), three[:2], format="json").status_code == 201
        assert TimeSlot.objects.filter(owner=user).count() == 48

    def test_an_empty_array_is_400(self, day, auth_client):
        response = auth_client.post(url(day), [], format="json")
        assert (response.status_code, response.json()) == (400, {"non_field_errors": ["Send at least one timeslot."]})

    def test_pending_invitee_gets_403_and_finalized_409(self, day, user, third_user, third_client, auth_client):
        InvitationFactory(calendar=day.calendar, invitee=third_user, status="pending")
        sent = [{"start_time": "09:00", "end_time": "10:00"}]
        assert third_client.post(url(day), sent, format="json").status_code == 403
        finalize(day.calendar)
        assert auth_client.post(url(day), sent, format="json").status_code == 409
        assert not TimeSlot.objects.exists()

    def test_owner_cannot_be_chosen(self, day, user, participant, auth_client):
        sent = [{"id": 4242, "owner_username": "bob", "start_time": "09:00", "end_time": "10:00"}]
        response = auth_client.post(url(day), sent, format="json")
        assert response.json()[0]["owner_username"] == "alice"
        assert TimeSlot.objects.get().owner == user


# PostgreSQL: two saves of one day at once -------------------------------------------------------------------


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
def test_two_saves_of_one_day_end_as_one_body_never_a_mix(monkeypatch):
    import time

    from calendars import services
    from tests.conftest import client_for
    from tests.factories import UserFactory
    from tests.support import run_together

    original = services._owned_by

    def slow(slots, owner):
        time.sleep(0.1)  # after the writes, before the commit: the other save must wait for it
        return original(slots, owner)

    monkeypatch.setattr(services, "_owned_by", slow)
    mornings = [{"start_time": "09:00", "end_time": "10:00"}, {"start_time": "10:00", "end_time": "11:30"}]
    evenings = [
        {"start_time": "09:30", "end_time": "10:30", "preference": "if_need_be"},
        {"start_time": "18:00", "end_time": "19:00"},
        {"start_time": "20:00", "end_time": "21:00"},
    ]
    expected = {
        "mornings": [("09:00", "10:00", "yes"), ("10:00", "11:30", "yes")],
        "evenings": [("09:30", "10:30", "if_need_be"), ("18:00", "19:00", "yes"), ("20:00", "21:00", "yes")],
    }
    seen = set()
    for n in range(6):
        owner = UserFactory(username=f"saver{n}")
        day = DayFactory(calendar=CalendarFactory(creator=owner), date=datetime.date(2030, 1, 2), ranking=1)
        TimeSlotFactory(day=day, owner=owner, start_time=t(9), end_time=t(10))  # kept by one body, not the other
        first, second = client_for(owner), client_for(owner)
        responses = run_together(
            lambda first=first, day=day: first.put(url(day), mornings, format="json"),
            lambda second=second, day=day: second.put(url(day), evenings, format="json"),
        )
        assert all(not isinstance(r, Exception) for r in responses), responses
        assert [r.status_code for r in responses] == [200, 200]
        final = times(day, owner)
        assert final in expected.values(), final
        seen.add(next(name for name, value in expected.items() if value == final))
        # Each answer is its own body, as it stood when that save committed.
        answers = [[(s["start_time"][:5], s["end_time"][:5], s["preference"]) for s in r.json()] for r in responses]
        assert answers == [expected["mornings"], expected["evenings"]]
        assert TimeSlot.objects.filter(day=day).count() == len(final)
    assert seen  # at least one order happened; which one wins is up to the scheduler

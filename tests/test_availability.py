"""The availability grid: the sweep (calendars.scheduling.availability_grid) against a minute-by-minute brute force,
and `GET /calendars/{id}/availability/`: who may read it, its shape, its query count."""

from __future__ import annotations

import random
from datetime import date, time
from itertools import pairwise

import pytest

from calendars.scheduling import CandidateDay, GridDay, Preference, Slot, availability_grid
from calendars.serializers import AvailabilitySerializer
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory

YES, MAYBE = Preference.YES, Preference.IF_NEED_BE
MAY_6 = date(2030, 5, 6)
MAY_7 = date(2030, 5, 7)
SPRING_FORWARD = date(2030, 3, 31)  # Berlin: 02:00 jumps to 03:00
FALL_BACK = date(2030, 10, 27)  # Berlin: 02:00-02:59 happens twice


def t(text: str) -> time:
    return time.fromisoformat(text)


def slot(owner: str, start: str, end: str, preference: str = YES, day: date = MAY_6) -> Slot:
    return Slot(owner=owner, date=day, start=t(start), end=t(end), preference=preference)


ONE_DAY = (CandidateDay(MAY_6, 1),)


def grid(slots, *, members=("ann", "bob", "carol"), days=ONE_DAY) -> list[GridDay]:
    return availability_grid(days=list(days), members=list(members), slots=slots)


def rows(day: GridDay) -> list[tuple]:
    return [(i.start.isoformat("minutes"), i.end.isoformat("minutes"), i.yes, i.if_need_be) for i in day.intervals]


# Hand-computed cases -------------------------------------------------------------------------------------------


def test_names_are_listed_in_username_order_whatever_their_case():
    (day,) = grid(
        [slot("carol", "09:00", "10:00"), slot("Bob", "09:00", "10:00"), slot("ann", "09:00", "10:00", MAYBE)],
        members=("carol", "Bob", "ann", "Dave"),
    )
    assert rows(day) == [("09:00", "10:00", ("Bob", "carol"), ("ann",))]
    (day,) = grid([slot(name, "09:00", "10:00") for name in ("carol", "Bob", "ann")], members=("carol", "Bob", "ann"))
    assert rows(day) == [("09:00", "10:00", ("ann", "Bob", "carol"), ())]


def test_stretches_with_the_same_people_and_preferences():
    (day,) = grid(
        [
            slot("carol", "09:00", "12:00"),
            slot("ann", "10:00", "11:00", MAYBE),
            slot("bob", "10:30", "13:00"),
        ]
    )
    assert rows(day) == [
        ("09:00", "10:00", ("carol",), ()),
        ("10:00", "10:30", ("carol",), ("ann",)),
        ("10:30", "11:00", ("bob", "carol"), ("ann",)),
        ("11:00", "12:00", ("bob", "carol"), ()),
        ("12:00", "13:00", ("bob",), ()),
    ]
    assert [i.count for i in day.intervals] == [1, 2, 3, 2, 1]


def test_touching_slots_of_one_person_are_one_stretch():
    (day,) = grid([slot("ann", "10:00", "11:00"), slot("ann", "11:00", "12:00")])
    assert rows(day) == [("10:00", "12:00", ("ann",), ())]


def test_touching_slots_that_differ_in_preference_are_two_stretches():
    (day,) = grid([slot("ann", "10:00", "11:00"), slot("ann", "11:00", "12:00", MAYBE)])
    assert rows(day) == [("10:00", "11:00", ("ann",), ()), ("11:00", "12:00", (), ("ann",))]


def test_the_same_times_with_both_preferences_count_as_yes():
    # One person's slots never overlap through the API; should they, "yes" wins where both cover.
    (day,) = grid([slot("ann", "10:00", "12:00", MAYBE), slot("ann", "10:00", "11:00")])
    assert rows(day) == [("10:00", "11:00", ("ann",), ()), ("11:00", "12:00", (), ("ann",))]


def test_a_change_elsewhere_at_the_same_moment_still_cuts():
    # ann hands over to bob at 11:00: the count stays 1, the people change.
    (day,) = grid([slot("ann", "10:00", "11:00"), slot("bob", "11:00", "12:00")])
    assert rows(day) == [("10:00", "11:00", ("ann",), ()), ("11:00", "12:00", ("bob",), ())]


def test_gaps_are_left_out_and_days_keep_their_order_even_without_slots():
    days = [CandidateDay(MAY_7, 2), CandidateDay(MAY_6, 1)]
    result = grid(
        [slot("ann", "08:00", "09:00"), slot("ann", "10:00", "11:00"), slot("zed", "09:00", "10:00")], days=days
    )
    assert [g.day for g in result] == days
    assert rows(result[0]) == []
    assert rows(result[1]) == [("08:00", "09:00", ("ann",), ()), ("10:00", "11:00", ("ann",), ())]


def test_non_members_and_other_dates_do_not_count():
    (day,) = grid([slot("zed", "09:00", "10:00"), slot("ann", "09:00", "10:00", day=MAY_7)])
    assert rows(day) == []


def test_usernames_sorted_without_regard_to_case_and_seconds_kept():
    (day,) = grid(
        [slot("bob", "09:00:30", "23:59:59"), slot("Ann", "09:00:30", "10:00"), slot("carol", "09:00:30", "10:00")],
        members=["carol", "bob", "Ann"],
    )
    assert [i.as_dict() for i in day.intervals] == [
        {
            "start_time": "09:00:30",
            "end_time": "10:00:00",
            "yes": ["Ann", "bob", "carol"],
            "if_need_be": [],
            "count": 3,
        },
        {
            "start_time": "10:00:00",
            "end_time": "23:59:59",
            "yes": ["bob"],
            "if_need_be": [],
            "count": 1,
        },
    ]


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
def test_clock_change_days_stay_on_the_wall_clock(day):
    # The grid speaks the slots' language, wall-clock times: no cut where the clocks jump or repeat.
    (result,) = grid([slot("ann", "01:00", "04:00", day=day)], days=[CandidateDay(day, 1)])
    assert rows(result) == [("01:00", "04:00", ("ann",), ())]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slots": [slot("ann", "10:00", "10:00")]}, "does not start before"),
        ({"slots": [slot("ann", "10:00", "11:00", "maybe")]}, "preference"),
        ({"slots": [], "days": [CandidateDay(MAY_6, 1), CandidateDay(MAY_6, 2)]}, "Duplicate day"),
    ],
)
def test_nonsense_raises_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        grid(**kwargs)


# Brute-force reference ------------------------------------------------------------------------------------------

# Ordinary days and the days the clocks change in these zones (the grid is wall-clock, so they must not differ).
DAYS = [MAY_6, MAY_7, SPRING_FORWARD, FALL_BACK, date(2030, 3, 10), date(2030, 11, 3), date(2030, 4, 7)]


def brute_force(days, members, slots) -> list[list[tuple]]:
    """Each wall-clock minute's state (who is yes, who if need be), then runs of equal non-empty states."""
    by_case = lambda names: tuple(sorted(names, key=lambda u: (u.casefold(), u)))  # noqa: E731
    result = []
    for day in days:
        states = []
        for minute in range(24 * 60):
            yes, maybe = set(), set()
            for s in slots:
                if s.date != day.date or s.owner not in members:
                    continue
                if s.start.hour * 60 + s.start.minute <= minute < s.end.hour * 60 + s.end.minute:
                    (yes if s.preference == YES else maybe).add(s.owner)
            states.append((by_case(yes), by_case(maybe - yes)))
        runs = []
        for minute, state in enumerate(states):
            if runs and runs[-1][1] == minute and tuple(runs[-1][2:]) == state:
                runs[-1][1] = minute + 1
            else:
                runs.append([minute, minute + 1, *state])
        result.append(
            [
                (f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}" if b < 1440 else "24:00", yes, maybe)
                for a, b, yes, maybe in runs
                if yes or maybe
            ]
        )
    return result


def random_case(rng: random.Random) -> dict:
    people = ["carol", "Ann", "bob", "dave", "eve", "fay"][: rng.randint(1, 6)]
    dates = rng.sample(DAYS, rng.randint(1, 3))
    grain = rng.choice([1, 5, 15, 30, 60])
    slots = []
    for day in dates:
        for person in [*people, "zed"]:
            # One person's slots do not overlap (as the API keeps them), but may touch.
            bounds = sorted(rng.sample(range(1440 // grain), 2 * rng.randint(0, 4)))
            for a, b in zip(bounds[::2], bounds[1::2], strict=True):
                if rng.random() < 0.3 and slots and slots[-1].owner == person and slots[-1].date == day:
                    a = (slots[-1].end.hour * 60 + slots[-1].end.minute) // grain  # touch the previous one
                if a >= b:
                    continue
                preference = rng.choice([YES, YES, MAYBE])
                slots.append(Slot(person, day, time(*divmod(a * grain, 60)), time(*divmod(b * grain, 60)), preference))
    rng.shuffle(slots)
    return {
        "days": [CandidateDay(d, r) for r, d in enumerate(dates, start=1)],
        "members": people,
        "slots": slots,
    }


def test_matches_brute_force_on_random_inputs():
    rng = random.Random(20300331)
    intervals = touching = 0
    for _ in range(300):
        case = random_case(rng)
        got = availability_grid(**case)
        expected = brute_force(**case)
        assert [rows(day) for day in got] == expected, case
        intervals += sum(len(day.intervals) for day in got)
        touching += any(a.end == b.start for day in got for a, b in pairwise(day.intervals))
    # The generator must make enough to compare, adjacent stretches included.
    assert intervals > 2000
    assert touching > 100


# The endpoint ---------------------------------------------------------------------------------------------------


def url(calendar) -> str:
    return f"/calendars/{calendar.pk}/availability/"


@pytest.fixture
def people(db):
    return {name: UserFactory(username=name) for name in ("carol", "ann", "Bob", "zed", "rex", "eve")}


@pytest.fixture
def berlin(people):
    """carol's calendar in Berlin: ann and Bob take part, zed has not answered, rex declined, eve is a stranger."""
    calendar = CalendarFactory(creator=people["carol"], timezone="Europe/Berlin")
    for name, status in (("ann", "accepted"), ("Bob", "accepted"), ("zed", "pending"), ("rex", "rejected")):
        InvitationFactory(calendar=calendar, invitee=people[name], status=status)
    return calendar


def add(day, owner, start: str, end: str, preference: str = "yes"):
    return TimeSlotFactory(day=day, owner=owner, start_time=t(start), end_time=t(end), preference=preference)


@pytest.mark.django_db
class TestEndpoint:
    def test_the_grid_of_every_day_by_date(self, berlin, people):
        later = DayFactory(calendar=berlin, date=MAY_7, ranking=1)
        first = DayFactory(calendar=berlin, date=MAY_6, ranking=2)
        empty = DayFactory(calendar=berlin, date=date(2030, 5, 8), ranking=3)
        add(first, people["carol"], "09:00", "10:00")
        add(first, people["carol"], "10:00", "12:00")  # touching: one stretch
        add(first, people["ann"], "09:30", "11:00", "if_need_be")
        add(first, people["Bob"], "11:00", "11:30")
        add(first, people["rex"], "08:00", "13:00")  # left over from before he declined: never counts
        add(later, people["ann"], "14:00", "15:00")
        response = client_for(people["carol"]).get(url(berlin))
        assert response.status_code == 200
        assert response.json() == {
            "calendar": berlin.pk,
            "timezone": "Europe/Berlin",
            "local_timezone": None,
            "members": ["ann", "Bob", "carol"],
            "days": [
                {
                    "day": first.pk,
                    "date": "2030-05-06",
                    "ranking": 2,
                    "intervals": [
                        {
                            "start_time": "09:00:00",
                            "end_time": "09:30:00",
                            "yes": ["carol"],
                            "if_need_be": [],
                            "count": 1,
                            "local_start": None,
                            "local_end": None,
                        },
                        {
                            "start_time": "09:30:00",
                            "end_time": "11:00:00",
                            "yes": ["carol"],
                            "if_need_be": ["ann"],
                            "count": 2,
                            "local_start": None,
                            "local_end": None,
                        },
                        {
                            "start_time": "11:00:00",
                            "end_time": "11:30:00",
                            "yes": ["Bob", "carol"],
                            "if_need_be": [],
                            "count": 2,
                            "local_start": None,
                            "local_end": None,
                        },
                        {
                            "start_time": "11:30:00",
                            "end_time": "12:00:00",
                            "yes": ["carol"],
                            "if_need_be": [],
                            "count": 1,
                            "local_start": None,
                            "local_end": None,
                        },
                    ],
                },
                {
                    "day": later.pk,
                    "date": "2030-05-07",
                    "ranking": 1,
                    "intervals": [
                        {
                            "start_time": "14:00:00",
                            "end_time": "15:00:00",
                            "yes": ["ann"],
                            "if_need_be": [],
                            "count": 1,
                            "local_start": None,
                            "local_end": None,
                        }
                    ],
                },
                {"day": empty.pk, "date": "2030-05-08", "ranking": 3, "intervals": []},
            ],
        }
        # The serializer (the schema) answers the same body.
        assert AvailabilitySerializer(response.json()).data == response.json()

    @pytest.mark.parametrize("name", ["carol", "ann", "zed"])
    def test_creator_participants_and_pending_invitees_read_it(self, berlin, people, name):
        add(DayFactory(calendar=berlin, date=MAY_6, ranking=1), people["carol"], "09:00", "10:00")
        response = client_for(people[name]).get(url(berlin))
        assert response.status_code == 200
        assert response.json()["days"][0]["intervals"][0]["yes"] == ["carol"]

    @pytest.mark.parametrize("name", ["rex", "eve"])
    def test_everyone_else_gets_404(self, berlin, people, name):
        DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        response = client_for(people[name]).get(url(berlin))
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
        assert client_for(people[name]).get("/calendars/987654/availability/").json() == response.json()

    def test_unauthenticated(self, berlin, api_client):
        assert api_client.get(url(berlin)).status_code == 401

    @pytest.mark.parametrize(("members", "days", "slots"), [(0, 1, 0), (1, 1, 1), (6, 5, 4)])
    def test_at_most_four_queries_whatever_the_size(self, people, members, days, slots, django_assert_num_queries):
        calendar = CalendarFactory(creator=people["carol"])
        owners = [people["carol"]]
        for i in range(members):
            owners.append(UserFactory(username=f"member{i}"))
            InvitationFactory(calendar=calendar, invitee=owners[-1], status="accepted")
        for d in range(days):
            day = DayFactory(calendar=calendar, date=date(2030, 6, 1 + d), ranking=d + 1)
            for owner in owners:
                for s in range(slots):
                    add(day, owner, f"{8 + 2 * s:02d}:00", f"{9 + 2 * s:02d}:00", "if_need_be" if s % 2 else "yes")
        client = client_for(people["carol"])
        # auth user, calendar (with its creator and my role), participants, days with their slots
        with django_assert_num_queries(4):
            response = client.get(url(calendar))
        body = response.json()
        assert len(body["days"]) == days
        assert sum(len(d["intervals"]) for d in body["days"]) == days * slots  # everyone shares the same slots

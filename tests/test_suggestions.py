"""GET /calendars/{id}/suggestions/: hand-computed cases through the endpoint, parameters, access, query count."""

from __future__ import annotations

import datetime

import pytest

from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory

pytestmark = pytest.mark.django_db

MAY_6 = datetime.date(2030, 5, 6)
MAY_7 = datetime.date(2030, 5, 7)


def t(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def url(calendar) -> str:
    return f"/calendars/{calendar.pk}/suggestions/"


def add_slot(day, owner, start: str, end: str, preference: str = "yes"):
    return TimeSlotFactory(day=day, owner=owner, start_time=t(start), end_time=t(end), preference=preference)


@pytest.fixture
def people():
    return {name: UserFactory(username=name) for name in ("carol", "ann", "bob", "zed", "rex", "eve")}


@pytest.fixture
def berlin(people):
    """carol's calendar in Berlin: ann and bob take part, zed has not answered, rex declined, eve is a stranger."""
    calendar = CalendarFactory(creator=people["carol"], timezone="Europe/Berlin", title="Kickoff")
    InvitationFactory(calendar=calendar, invitee=people["ann"], status="accepted")
    InvitationFactory(calendar=calendar, invitee=people["bob"], status="accepted")
    InvitationFactory(calendar=calendar, invitee=people["zed"], status="pending")
    InvitationFactory(calendar=calendar, invitee=people["rex"], status="rejected")
    return calendar


def suggestion(date, start, end, offset, available, missing, pending, total, ranking, if_need_be=()) -> dict:
    return {
        "date": date,
        "start_time": start,
        "end_time": end,
        "starts_at": f"{date}T{start}{offset}",
        "ends_at": f"{date}T{end}{offset}",
        "available": available,
        "if_need_be": list(if_need_be),
        "missing": missing,
        "pending": pending,
        "score": {
            "available_count": len(available),
            "yes_count": len(available) - len(if_need_be),
            "if_need_be_count": len(if_need_be),
            "participant_total": total,
            "day_ranking": ranking,
            "start": start,
        },
        "local_start": None,
        "local_end": None,
    }


class TestHandComputed:
    def test_three_users_worked_example_of_the_docs(self, berlin, people):
        """docs/scheduling.md: carol 09:00-12:00, ann 10:00-13:00, bob 08:00-10:30 and 10:45-12:30.

        60-minute windows inside carol's starts (09:00-11:00): 09:00-09:30 {carol, bob}, 09:45 {carol},
        10:00-10:30 {carol, ann}, 10:45-11:00 {all three}. Picked: 10:45 (3), then 09:00 (2, earliest);
        everything else overlaps one of them. zed is pending; rex rejected and is not named, his slot ignored.
        """
        day = DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        add_slot(day, people["carol"], "09:00", "12:00")
        add_slot(day, people["ann"], "10:00", "13:00")
        add_slot(day, people["bob"], "08:00", "10:30")
        add_slot(day, people["bob"], "10:45", "12:30")
        add_slot(day, people["rex"], "08:00", "13:00")  # left over from before he declined: never counts
        response = client_for(people["carol"]).get(url(berlin), {"duration": 60})
        assert response.status_code == 200
        assert response.json() == {
            "duration": 60,
            "step": 15,
            "limit": 10,
            "timezone": "Europe/Berlin",
            "local_timezone": None,
            "suggestions": [
                suggestion("2030-05-06", "10:45:00", "11:45:00", "+02:00", ["ann", "bob", "carol"], [], ["zed"], 4, 1),
                suggestion("2030-05-06", "09:00:00", "10:00:00", "+02:00", ["bob", "carol"], ["ann"], ["zed"], 4, 1),
            ],
            "reason": None,
        }

    def test_if_need_be_worked_example_of_the_docs(self, berlin, people):
        """docs/scheduling.md, "if need be": more people first, then more of them "yes", then the day, the start."""
        day = DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        add_slot(day, people["carol"], "08:00", "12:00")
        add_slot(day, people["ann"], "08:00", "09:00", "if_need_be")
        add_slot(day, people["ann"], "10:00", "12:00")
        add_slot(day, people["bob"], "10:00", "11:00", "if_need_be")
        response = client_for(people["ann"]).get(url(berlin), {"duration": 60})
        assert response.status_code == 200
        assert response.json()["suggestions"] == [
            suggestion(
                "2030-05-06", "10:00:00", "11:00:00", "+02:00", ["ann", "bob", "carol"], [], ["zed"], 4, 1, ["bob"]
            ),
            suggestion("2030-05-06", "11:00:00", "12:00:00", "+02:00", ["ann", "carol"], ["bob"], ["zed"], 4, 1),
            suggestion(
                "2030-05-06", "08:00:00", "09:00:00", "+02:00", ["ann", "carol"], ["bob"], ["zed"], 4, 1, ["ann"]
            ),
            suggestion("2030-05-06", "09:00:00", "10:00:00", "+02:00", ["carol"], ["ann", "bob"], ["zed"], 4, 1),
        ]

    def test_participants_see_the_same_answer(self, berlin, people):
        day = DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        add_slot(day, people["carol"], "09:00", "10:00")
        by_creator = client_for(people["carol"]).get(url(berlin)).json()
        assert client_for(people["ann"]).get(url(berlin)).json() == by_creator
        assert [s["start_time"] for s in by_creator["suggestions"]] == ["09:00:00"]

    def test_ties_go_to_the_better_ranked_day_then_the_earlier_start(self, berlin, people):
        # Same people on both days: the later date ranked 1 wins; within a day, earlier first.
        later_but_preferred = DayFactory(calendar=berlin, date=MAY_7, ranking=1)
        earlier_date = DayFactory(calendar=berlin, date=MAY_6, ranking=2)
        for day in (later_but_preferred, earlier_date):
            add_slot(day, people["carol"], "09:00", "11:00")
            add_slot(day, people["ann"], "09:00", "11:00")
        response = client_for(people["carol"]).get(url(berlin), {"duration": 60, "step": 60, "limit": 3})
        assert response.status_code == 200
        got = [(s["date"], s["start_time"], s["score"]["day_ranking"]) for s in response.json()["suggestions"]]
        assert got == [("2030-05-07", "09:00:00", 1), ("2030-05-07", "10:00:00", 1), ("2030-05-06", "09:00:00", 2)]

    def test_more_people_beat_a_better_ranking(self, berlin, people):
        preferred = DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        other = DayFactory(calendar=berlin, date=MAY_7, ranking=2)
        add_slot(preferred, people["carol"], "09:00", "10:00")
        add_slot(other, people["carol"], "15:00", "16:00")
        add_slot(other, people["bob"], "15:00", "16:00")
        body = client_for(people["carol"]).get(url(berlin), {"duration": 60}).json()
        assert [(s["date"], s["available"]) for s in body["suggestions"]] == [
            ("2030-05-07", ["bob", "carol"]),
            ("2030-05-06", ["carol"]),
        ]
        assert body["suggestions"][1]["missing"] == ["ann", "bob"]

    def test_spring_forward_day_skips_the_missing_hour(self, berlin, people):
        # Berlin, 2030-03-31: 02:00 jumps to 03:00. Windows ending or starting in 02:00-02:59 do not exist.
        day = DayFactory(calendar=berlin, date=datetime.date(2030, 3, 31), ranking=1)
        add_slot(day, people["carol"], "01:00", "04:00")
        body = client_for(people["carol"]).get(url(berlin), {"duration": 60, "step": 60}).json()
        assert [(s["start_time"], s["starts_at"], s["ends_at"]) for s in body["suggestions"]] == [
            ("03:00:00", "2030-03-31T03:00:00+02:00", "2030-03-31T04:00:00+02:00")
        ]

    def test_fall_back_day_places_windows_to_last_their_duration(self, berlin, people):
        # Berlin, 2030-10-27: 02:00-02:59 happens twice. 01:00-02:00 ends at the first 02:00 (+02:00);
        # 02:00-03:00 starts at the second 02:00 (+01:00): both last one real hour.
        day = DayFactory(calendar=berlin, date=datetime.date(2030, 10, 27), ranking=1)
        add_slot(day, people["carol"], "01:00", "03:00")
        body = client_for(people["carol"]).get(url(berlin), {"duration": 60, "step": 60}).json()
        assert [(s["starts_at"], s["ends_at"]) for s in body["suggestions"]] == [
            ("2030-10-27T01:00:00+02:00", "2030-10-27T02:00:00+02:00"),
            ("2030-10-27T02:00:00+01:00", "2030-10-27T03:00:00+01:00"),
        ]

    def test_winter_and_summer_offsets(self, berlin, people):
        winter = DayFactory(calendar=berlin, date=datetime.date(2030, 1, 15), ranking=1)
        summer = DayFactory(calendar=berlin, date=datetime.date(2030, 7, 15), ranking=2)
        add_slot(winter, people["carol"], "10:00", "11:00")
        add_slot(summer, people["carol"], "10:00", "11:00")
        body = client_for(people["carol"]).get(url(berlin)).json()
        assert [s["starts_at"] for s in body["suggestions"]] == [
            "2030-01-15T10:00:00+01:00",
            "2030-07-15T10:00:00+02:00",
        ]


class TestNothingFits:
    def test_nobody_available(self, berlin, people):
        DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        response = client_for(people["carol"]).get(url(berlin))
        assert response.status_code == 200
        assert response.json() == {
            "duration": 60,
            "step": 15,
            "limit": 10,
            "timezone": "Europe/Berlin",
            "local_timezone": None,
            "suggestions": [],
            "reason": {
                "code": "no_availability",
                "message": "Nobody has marked any availability on the calendar's days yet.",
            },
        }

    def test_creator_missing(self, berlin, people):
        day = DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        add_slot(day, people["ann"], "09:00", "17:00")
        add_slot(day, people["bob"], "09:00", "17:00")
        body = client_for(people["ann"]).get(url(berlin)).json()
        assert body["suggestions"] == []
        assert body["reason"] == {
            "code": "creator_unavailable",
            "message": "The creator has not marked any availability on the calendar's days yet.",
        }

    def test_no_window_long_enough(self, berlin, people):
        day = DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        add_slot(day, people["carol"], "09:00", "10:15")
        body = client_for(people["carol"]).get(url(berlin), {"duration": 90}).json()
        assert body["suggestions"] == []
        assert body["reason"] == {
            "code": "no_window_long_enough",
            "message": "No 90-minute window starting on the 15-minute grid fits in the creator's availability.",
        }

    def test_pending_invitees_slots_do_not_count(self, berlin, people):
        # A pending invitee cannot add slots through the API; one left in the database still does not count.
        day = DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        add_slot(day, people["zed"], "09:00", "17:00")
        body = client_for(people["carol"]).get(url(berlin)).json()
        assert body["reason"]["code"] == "no_availability"


class TestParameters:
    @pytest.mark.parametrize(
        ("params", "errors"),
        [
            ({"duration": 0}, {"duration": ["Ensure this value is greater than or equal to 1."]}),
            ({"duration": 1441}, {"duration": ["Ensure this value is less than or equal to 1440."]}),
            ({"duration": "an hour"}, {"duration": ["A valid integer is required."]}),
            ({"limit": 0}, {"limit": ["Ensure this value is greater than or equal to 1."]}),
            ({"limit": 51}, {"limit": ["Ensure this value is less than or equal to 50."]}),
            ({"step": 7}, {"step": ['"7" is not a valid choice.']}),
            (
                {"duration": -5, "limit": "x"},
                {
                    "duration": ["Ensure this value is greater than or equal to 1."],
                    "limit": ["A valid integer is required."],
                },
            ),
        ],
    )
    def test_bad_parameters_are_400_naming_them(self, berlin, people, params, errors):
        DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        response = client_for(people["carol"]).get(url(berlin), params)
        assert response.status_code == 400
        assert response.json() == errors

    def test_step_and_limit_apply(self, berlin, people):
        day = DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        add_slot(day, people["carol"], "09:00", "12:00")
        body = client_for(people["carol"]).get(url(berlin), {"duration": 30, "step": 30, "limit": 4}).json()
        assert (body["duration"], body["step"], body["limit"]) == (30, 30, 4)
        assert [s["start_time"] for s in body["suggestions"]] == ["09:00:00", "09:30:00", "10:00:00", "10:30:00"]

    def test_a_whole_day_is_accepted_and_never_fits(self, berlin, people):
        day = DayFactory(calendar=berlin, date=MAY_6, ranking=1)
        add_slot(day, people["carol"], "00:00", "23:59:59")
        body = client_for(people["carol"]).get(url(berlin), {"duration": 1440}).json()
        assert body["suggestions"] == []
        assert body["reason"]["code"] == "no_window_long_enough"


class TestAccess:
    def test_pending_invitee_gets_403(self, berlin, people):
        response = client_for(people["zed"]).get(url(berlin))
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only the calendar's creator and participants can do this; answer your invitation first."
        }

    @pytest.mark.parametrize("name", ["eve", "rex"])
    def test_strangers_and_rejected_invitees_get_404(self, berlin, people, name):
        response = client_for(people[name]).get(url(berlin))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_stranger_with_bad_parameters_still_gets_404(self, berlin, people):
        assert client_for(people["eve"]).get(url(berlin), {"duration": 0}).status_code == 404

    def test_missing_calendar_is_404(self, people):
        assert client_for(people["carol"]).get("/calendars/987654/suggestions/").status_code == 404

    def test_unauthenticated(self, berlin, api_client):
        assert api_client.get(url(berlin)).status_code == 401


@pytest.mark.parametrize(("participants", "days", "slots"), [(1, 1, 1), (12, 10, 4)])
def test_query_count_is_flat(participants, days, slots, django_assert_num_queries):
    creator = UserFactory()
    calendar = CalendarFactory(creator=creator, timezone="America/New_York")
    members = [creator]
    for _ in range(participants):
        member = UserFactory()
        InvitationFactory(calendar=calendar, invitee=member, status="accepted")
        members.append(member)
    for _ in range(3):
        InvitationFactory(calendar=calendar, invitee=UserFactory(), status="pending")
    for index in range(days):
        day = DayFactory(calendar=calendar, date=MAY_6 + datetime.timedelta(days=index), ranking=index + 1)
        for member in members:
            for hour in range(slots):
                add_slot(day, member, f"{8 + 2 * hour:02}:00", f"{9 + 2 * hour:02}:30")
    client = client_for(creator)
    # auth user, calendar (+creator), invitations (+invitee usernames), days, slots
    with django_assert_num_queries(5):
        response = client.get(url(calendar), {"limit": 50})
    assert response.status_code == 200
    body = response.json()
    assert len(body["suggestions"]) == min(50, days * slots)
    assert len(body["suggestions"][0]["available"]) == participants + 1
    assert len(body["suggestions"][0]["pending"]) == 3

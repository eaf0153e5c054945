"""Best meeting times (calendars.scheduling): hand-computed cases and a brute-force reference on random inputs."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from calendars.scheduling import (
    CandidateDay,
    NonexistentTimeError,
    Preference,
    ReasonCode,
    Slot,
    Suggestion,
    _time,
    _us,
    in_zone,
    place_meeting,
    suggest_meeting_times,
    wall_instant,
)

BERLIN = "Europe/Berlin"
MAY_6 = date(2030, 5, 6)
MAY_7 = date(2030, 5, 7)
SPRING_FORWARD = date(2030, 3, 31)  # Berlin: 02:00 jumps to 03:00
FALL_BACK = date(2030, 10, 27)  # Berlin: 03:00 falls back to 02:00


def t(text: str) -> time:
    return time.fromisoformat(text)


def slot(owner: str, day: date, start: str, end: str, preference: str = Preference.YES) -> Slot:
    return Slot(owner=owner, date=day, start=t(start), end=t(end), preference=preference)


def suggest(**kwargs):
    kwargs.setdefault("time_zone", BERLIN)
    kwargs.setdefault("days", [CandidateDay(MAY_6, 1)])
    kwargs.setdefault("creator", "carol")
    kwargs.setdefault("participants", [])
    kwargs.setdefault("pending", [])
    kwargs.setdefault("duration", 60)
    return suggest_meeting_times(**kwargs)


def windows(result) -> list[tuple[str, str, str]]:
    return [(s.date.isoformat(), s.start_time.isoformat("minutes"), s.end_time.isoformat("minutes")) for s in result]


def absolute(result) -> list[tuple[str, str]]:
    return [(s.starts_at.isoformat(), s.ends_at.isoformat()) for s in result]


# Hand-computed cases -------------------------------------------------------------------------------------------


def three_users():
    """carol (creator) 09:00-12:00; ann 10:00-13:00; bob 08:00-10:30 and 10:45-12:30; zed is pending.

    With 60 minutes on the 15-minute grid the feasible starts are carol 09:00-11:00, ann 10:00-12:00,
    bob 08:00-09:30 and 10:45-11:30. Inside carol's starts: 09:00-09:30 {carol, bob}, 09:45 {carol},
    10:00-10:30 {carol, ann}, 10:45-11:00 {carol, ann, bob}.
    """
    return suggest(
        participants=["bob", "ann"],
        pending=["zed"],
        slots=[
            slot("carol", MAY_6, "09:00", "12:00"),
            slot("ann", MAY_6, "10:00", "13:00"),
            slot("bob", MAY_6, "08:00", "10:30"),
            slot("bob", MAY_6, "10:45", "12:30"),
        ],
    )


def test_three_users_best_window_has_everyone_then_non_overlapping_runner_up():
    result = three_users()
    assert result.reason is None
    # 10:45 (all three) first; 09:00 (carol, bob) next; 10:00-10:30 and 11:00 overlap 10:45-11:45, 09:45 overlaps 09:00.
    assert result.suggestions[0].as_dict() == {
        "date": "2030-05-06",
        "start_time": "10:45:00",
        "end_time": "11:45:00",
        "starts_at": "2030-05-06T10:45:00+02:00",
        "ends_at": "2030-05-06T11:45:00+02:00",
        "available": ["ann", "bob", "carol"],
        "if_need_be": [],
        "missing": [],
        "pending": ["zed"],
        "score": {
            "available_count": 3,
            "yes_count": 3,
            "if_need_be_count": 0,
            "participant_total": 4,
            "day_ranking": 1,
            "start": "10:45:00",
        },
    }
    assert result.suggestions[1].as_dict() == {
        "date": "2030-05-06",
        "start_time": "09:00:00",
        "end_time": "10:00:00",
        "starts_at": "2030-05-06T09:00:00+02:00",
        "ends_at": "2030-05-06T10:00:00+02:00",
        "available": ["bob", "carol"],
        "if_need_be": [],
        "missing": ["ann"],
        "pending": ["zed"],
        "score": {
            "available_count": 2,
            "yes_count": 2,
            "if_need_be_count": 0,
            "participant_total": 4,
            "day_ranking": 1,
            "start": "09:00:00",
        },
    }
    assert len(result.suggestions) == 2


def test_three_users_shorter_meeting():
    # 30 minutes: feasible starts carol 09:00-11:30, ann 10:00-12:30, bob 08:00-10:00 and 10:45-12:00.
    # All three at 10:00 and 10:45-11:30 (10:00, 10:45, 11:15 chosen; 11:00 and 11:30 overlap); then carol with
    # bob at 09:00-09:45 (09:00 and 09:30 chosen) and carol with ann at 10:15-10:30 (both overlap a chosen one).
    result = three_users_with(duration=30)
    assert windows(result.suggestions) == [
        ("2030-05-06", "10:00", "10:30"),
        ("2030-05-06", "10:45", "11:15"),
        ("2030-05-06", "11:15", "11:45"),
        ("2030-05-06", "09:00", "09:30"),
        ("2030-05-06", "09:30", "10:00"),
    ]
    assert [s.score.available_count for s in result.suggestions] == [3, 3, 3, 2, 2]
    assert [s.missing for s in result.suggestions] == [(), (), (), ("ann",), ("ann",)]


def three_users_with(**kwargs):
    return suggest(
        participants=["bob", "ann"],
        pending=["zed"],
        slots=[
            slot("carol", MAY_6, "09:00", "12:00"),
            slot("ann", MAY_6, "10:00", "13:00"),
            slot("bob", MAY_6, "08:00", "10:30"),
            slot("bob", MAY_6, "10:45", "12:30"),
        ],
        **kwargs,
    )


def test_ties_broken_by_day_ranking_then_earliest_start():
    days = [CandidateDay(MAY_6, 2), CandidateDay(MAY_7, 1)]
    slots = [slot(who, day, "09:00", "11:00") for who in ("carol", "ann") for day in (MAY_6, MAY_7)]
    result = suggest(days=days, participants=["ann"], slots=slots)
    assert windows(result.suggestions) == [
        ("2030-05-07", "09:00", "10:00"),
        ("2030-05-07", "10:00", "11:00"),
        ("2030-05-06", "09:00", "10:00"),
        ("2030-05-06", "10:00", "11:00"),
    ]
    assert [s.score.day_ranking for s in result.suggestions] == [1, 1, 2, 2]


def test_more_people_beats_a_better_day():
    days = [CandidateDay(MAY_6, 2), CandidateDay(MAY_7, 1)]
    slots = [slot(who, day, "09:00", "11:00") for who in ("carol", "ann") for day in (MAY_6, MAY_7)]
    slots.append(slot("bob", MAY_6, "10:00", "11:00"))
    result = suggest(days=days, participants=["ann", "bob"], slots=slots, limit=2)
    assert windows(result.suggestions) == [("2030-05-06", "10:00", "11:00"), ("2030-05-07", "09:00", "10:00")]
    assert [s.score.available_count for s in result.suggestions] == [3, 2]


# "If need be" ------------------------------------------------------------------------------------------------


def preference_example():
    """The worked example of docs/scheduling.md: carol (creator) 08:00-12:00; ann 08:00-09:00 if need be and
    10:00-12:00; bob 10:00-11:00 if need be. 60 minutes on the 15-minute grid."""
    return suggest(
        participants=["ann", "bob"],
        slots=[
            slot("carol", MAY_6, "08:00", "12:00"),
            slot("ann", MAY_6, "08:00", "09:00", Preference.IF_NEED_BE),
            slot("ann", MAY_6, "10:00", "12:00"),
            slot("bob", MAY_6, "10:00", "11:00", Preference.IF_NEED_BE),
        ],
    )


def test_more_people_first_then_more_of_them_yes():
    result = preference_example()
    assert windows(result.suggestions) == [
        ("2030-05-06", "10:00", "11:00"),  # three people, bob if need be
        ("2030-05-06", "11:00", "12:00"),  # two people, both yes
        ("2030-05-06", "08:00", "09:00"),  # two people, ann if need be: after 11:00 although earlier
        ("2030-05-06", "09:00", "10:00"),  # carol alone
    ]
    assert [(s.available, s.if_need_be, s.missing) for s in result.suggestions] == [
        (("ann", "bob", "carol"), ("bob",), ()),
        (("ann", "carol"), (), ("bob",)),
        (("ann", "carol"), ("ann",), ("bob",)),
        (("carol",), (), ("ann", "bob")),
    ]
    assert [(s.score.available_count, s.score.yes_count, s.score.if_need_be_count) for s in result.suggestions] == [
        (3, 2, 1),
        (2, 2, 0),
        (2, 1, 1),
        (1, 1, 0),
    ]


def test_yes_for_part_and_if_need_be_for_the_rest_counts_as_if_need_be():
    # ann's 09:30-10:30 touches her 09:00-09:30: available for 09:00-10:00, but only "if need be" for half of it.
    result = suggest(
        participants=["ann"],
        slots=[
            slot("carol", MAY_6, "09:00", "10:00"),
            slot("ann", MAY_6, "09:00", "09:30"),
            slot("ann", MAY_6, "09:30", "10:30", Preference.IF_NEED_BE),
        ],
    )
    (only,) = result.suggestions
    assert (only.available, only.if_need_be) == (("ann", "carol"), ("ann",))
    assert only.as_dict()["score"] == {
        "available_count": 2,
        "yes_count": 1,
        "if_need_be_count": 1,
        "participant_total": 2,
        "day_ranking": 1,
        "start": "09:00:00",
    }


def test_the_same_times_given_twice_count_as_yes():
    # Not possible through the API (one person's slots do not overlap), but the rule is "yes slots cover it".
    result = suggest(
        slots=[slot("carol", MAY_6, "09:00", "10:00", Preference.IF_NEED_BE), slot("carol", MAY_6, "09:00", "10:00")]
    )
    assert result.suggestions[0].if_need_be == ()


def test_more_yes_beats_a_better_day_and_the_creator_counts():
    days = [CandidateDay(MAY_6, 1), CandidateDay(MAY_7, 2)]
    slots = [
        slot("carol", MAY_6, "09:00", "10:00", Preference.IF_NEED_BE),
        slot("ann", MAY_6, "09:00", "10:00"),
        slot("carol", MAY_7, "09:00", "10:00"),
        slot("ann", MAY_7, "09:00", "10:00"),
    ]
    result = suggest(days=days, participants=["ann"], slots=slots)
    assert windows(result.suggestions) == [("2030-05-07", "09:00", "10:00"), ("2030-05-06", "09:00", "10:00")]
    assert [s.if_need_be for s in result.suggestions] == [(), ("carol",)]


def test_unknown_preference_raises():
    with pytest.raises(ValueError, match="preference"):
        suggest(slots=[slot("carol", MAY_6, "09:00", "10:00", "maybe")])


def test_spring_forward_skips_windows_touching_the_missing_hour():
    # 02:00-03:00 does not exist on 2030-03-31 in Berlin. Every 60-minute wall window starting 01:00..02:30
    # starts or ends in the gap (or would last only 0 minutes of real time); 03:00 is the first real one.
    result = suggest(
        days=[CandidateDay(SPRING_FORWARD, 1)], slots=[slot("carol", SPRING_FORWARD, "01:00", "05:00")], step=30
    )
    assert windows(result.suggestions) == [("2030-03-31", "03:00", "04:00"), ("2030-03-31", "04:00", "05:00")]
    assert absolute(result.suggestions) == [
        ("2030-03-31T03:00:00+02:00", "2030-03-31T04:00:00+02:00"),
        ("2030-03-31T04:00:00+02:00", "2030-03-31T05:00:00+02:00"),
    ]


def test_spring_forward_offsets_before_and_after_the_gap():
    # 01:30-02:00 is skipped: 02:00 does not exist on the wall clock that day, so no such meeting can be shown.
    result = suggest(
        days=[CandidateDay(SPRING_FORWARD, 1)],
        slots=[slot("carol", SPRING_FORWARD, "01:00", "02:00"), slot("carol", SPRING_FORWARD, "10:00", "10:30")],
        duration=30,
    )
    assert absolute(result.suggestions) == [
        ("2030-03-31T01:00:00+01:00", "2030-03-31T01:30:00+01:00"),
        ("2030-03-31T10:00:00+02:00", "2030-03-31T10:30:00+02:00"),
    ]


def test_spring_forward_window_ending_at_the_gap_is_skipped():
    # 01:30-02:00: 02:00 does not exist on the wall clock, so no such meeting can be shown; only 01:00-01:30 is left.
    result = suggest(
        days=[CandidateDay(SPRING_FORWARD, 1)], slots=[slot("carol", SPRING_FORWARD, "01:00", "02:00")], duration=30
    )
    assert windows(result.suggestions) == [("2030-03-31", "01:00", "01:30")]


def test_fall_back_places_windows_in_the_repeated_hour_by_real_length():
    # 02:00-03:00 happens twice on 2030-10-27 (first +02:00, then +01:00).
    result = suggest(days=[CandidateDay(FALL_BACK, 1)], slots=[slot("carol", FALL_BACK, "01:00", "04:00")])
    assert windows(result.suggestions) == [
        ("2030-10-27", "01:00", "02:00"),
        ("2030-10-27", "02:00", "03:00"),
        ("2030-10-27", "03:00", "04:00"),
    ]
    assert absolute(result.suggestions) == [
        # 01:00 to the first 02:00 is an hour.
        ("2030-10-27T01:00:00+02:00", "2030-10-27T02:00:00+02:00"),
        # From the first 02:00 to 03:00 would be two hours: the second 02:00 is the one an hour before 03:00.
        ("2030-10-27T02:00:00+01:00", "2030-10-27T03:00:00+01:00"),
        ("2030-10-27T03:00:00+01:00", "2030-10-27T04:00:00+01:00"),
    ]
    for suggestion in result.suggestions:
        assert suggestion.ends_at - suggestion.starts_at == timedelta(minutes=60)


def test_fall_back_inside_the_repeated_hour_prefers_the_first_occurrence():
    result = suggest(days=[CandidateDay(FALL_BACK, 1)], slots=[slot("carol", FALL_BACK, "02:00", "02:30")], duration=30)
    assert absolute(result.suggestions) == [("2030-10-27T02:00:00+02:00", "2030-10-27T02:30:00+02:00")]


def test_fall_back_window_spanning_the_whole_repeated_hour_is_skipped():
    # 01:00-03:00 on the wall lasts three real hours; 02:00 (second) - 04:00 lasts two and is offered.
    result = suggest(
        days=[CandidateDay(FALL_BACK, 1)], slots=[slot("carol", FALL_BACK, "01:00", "04:00")], duration=120, step=60
    )
    assert absolute(result.suggestions) == [("2030-10-27T02:00:00+01:00", "2030-10-27T04:00:00+01:00")]


def test_other_zone_offsets():
    result = suggest(
        time_zone="America/New_York", slots=[slot("carol", MAY_6, "09:00", "10:00")], days=[CandidateDay(MAY_6, 1)]
    )
    assert absolute(result.suggestions) == [("2030-05-06T09:00:00-04:00", "2030-05-06T10:00:00-04:00")]
    result = suggest(time_zone="UTC", slots=[slot("carol", MAY_6, "09:00", "10:00")])
    assert absolute(result.suggestions) == [("2030-05-06T09:00:00+00:00", "2030-05-06T10:00:00+00:00")]


def test_nobody_available():
    result = suggest(participants=["ann"], pending=["zed"], slots=[])
    assert result.suggestions == []
    assert result.reason.as_dict() == {
        "code": "no_availability",
        "message": "Nobody has marked any availability on the calendar's days yet.",
    }


def test_slots_of_pending_strangers_and_other_dates_do_not_count():
    result = suggest(
        participants=["ann"],
        pending=["zed"],
        slots=[
            slot("zed", MAY_6, "09:00", "12:00"),
            slot("mallory", MAY_6, "09:00", "12:00"),
            slot("carol", MAY_7, "09:00", "12:00"),
        ],
    )
    assert result.suggestions == []
    assert result.reason.code == ReasonCode.NO_AVAILABILITY


def test_creator_unavailable():
    result = suggest(participants=["ann", "bob"], slots=[slot("ann", MAY_6, "09:00", "12:00")])
    assert result.suggestions == []
    assert result.reason.as_dict() == {
        "code": "creator_unavailable",
        "message": "The creator has not marked any availability on the calendar's days yet.",
    }


def test_creator_missing_where_others_meet():
    # ann and bob share 09:00-12:00 but carol is only there 13:00-14:00: the meeting is carol's, so she decides.
    result = suggest(
        participants=["ann", "bob"],
        slots=[
            slot("ann", MAY_6, "09:00", "12:00"),
            slot("bob", MAY_6, "09:00", "12:00"),
            slot("carol", MAY_6, "13:00", "14:00"),
        ],
    )
    assert windows(result.suggestions) == [("2030-05-06", "13:00", "14:00")]
    assert result.suggestions[0].available == ("carol",)
    assert result.suggestions[0].missing == ("ann", "bob")


def test_duration_longer_than_any_slot():
    result = suggest(
        participants=["ann"],
        slots=[slot("carol", MAY_6, "09:00", "10:00"), slot("ann", MAY_6, "08:00", "18:00")],
        duration=61,
    )
    assert result.suggestions == []
    assert result.reason.as_dict() == {
        "code": "no_window_long_enough",
        "message": "No 61-minute window starting on the 15-minute grid fits in the creator's availability.",
    }


def test_window_must_start_on_the_grid():
    result = suggest(slots=[slot("carol", MAY_6, "09:05", "10:05")])
    assert result.reason.code == ReasonCode.NO_WINDOW_LONG_ENOUGH
    result = suggest(slots=[slot("carol", MAY_6, "09:05", "10:05")], step=5)
    assert windows(result.suggestions) == [("2030-05-06", "09:05", "10:05")]


def test_pending_invitees_named_and_counted_as_missing():
    result = suggest(
        participants=["ann"],
        pending=["Zoe", "yann"],
        slots=[slot("carol", MAY_6, "09:00", "10:00"), slot("ann", MAY_6, "09:00", "10:00")],
    )
    (only,) = result.suggestions
    assert only.available == ("ann", "carol")
    assert only.missing == ()
    assert only.pending == ("yann", "Zoe")  # sorted without regard to case
    assert (only.score.available_count, only.score.participant_total) == (2, 4)


def test_returned_windows_do_not_overlap_and_limit_is_respected():
    slots = [slot("carol", MAY_6, "08:00", "18:00"), slot("ann", MAY_6, "08:10", "17:50")]
    result = suggest(participants=["ann"], slots=slots, duration=50, step=5, limit=4)
    assert windows(result.suggestions) == [
        ("2030-05-06", "08:10", "09:00"),
        ("2030-05-06", "09:00", "09:50"),
        ("2030-05-06", "09:50", "10:40"),
        ("2030-05-06", "10:40", "11:30"),
    ]
    everything = suggest(participants=["ann"], slots=slots, duration=50, step=5, limit=50).suggestions
    # With ann: 08:10, 09:00, ..., 16:30 (eleven windows). Carol alone could start 08:00-08:05 or 17:05-17:10,
    # but those overlap 08:10-09:00 and 16:30-17:20.
    assert len(everything) == 11
    assert windows(everything)[-1] == ("2030-05-06", "16:30", "17:20")
    ordered = sorted(everything, key=lambda s: s.start_time)
    for before, after in pairwise(ordered):
        assert before.end_time <= after.start_time


def test_touching_and_overlapping_slots_of_one_owner_are_merged():
    result = suggest(
        participants=["ann"],
        slots=[
            slot("carol", MAY_6, "09:00", "09:45"),
            slot("carol", MAY_6, "09:45", "11:00"),
            slot("ann", MAY_6, "09:30", "10:00"),
            slot("ann", MAY_6, "09:50", "10:15"),
            slot("ann", MAY_6, "10:15", "10:30"),
        ],
    )
    assert windows(result.suggestions)[0] == ("2030-05-06", "09:30", "10:30")
    assert result.suggestions[0].available == ("ann", "carol")


def test_day_ends_before_midnight():
    # A window cannot end at 24:00 (not a time of day): a slot up to 23:59:59 holds 23:00-23:59 but not 23:00-24:00.
    slots = [slot("carol", MAY_6, "23:00", "23:59:59")]
    assert suggest(slots=slots).reason.code == ReasonCode.NO_WINDOW_LONG_ENOUGH
    assert windows(suggest(slots=slots, duration=59).suggestions) == [("2030-05-06", "23:00", "23:59")]


def test_seconds_in_slot_times_are_respected():
    result = suggest(slots=[slot("carol", MAY_6, "09:00:01", "10:30:00")], duration=60)
    assert windows(result.suggestions) == [("2030-05-06", "09:15", "10:15")]


STEP_MESSAGE = "step must be a number of minutes that divides 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)."


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"duration": 0}, "duration must be an integer number of minutes between 1 and 1440."),
        ({"duration": 1441}, "duration must be an integer number of minutes between 1 and 1440."),
        ({"duration": 60.0}, "duration must be an integer number of minutes between 1 and 1440."),
        ({"duration": True}, "duration must be an integer number of minutes between 1 and 1440."),
        ({"step": 0}, STEP_MESSAGE),
        ({"step": 7}, STEP_MESSAGE),
        ({"step": 120}, STEP_MESSAGE),
        ({"step": 15.0}, STEP_MESSAGE),
        ({"limit": 0}, "limit must be an integer between 1 and 50."),
        ({"limit": 51}, "limit must be an integer between 1 and 50."),
        ({"limit": 10.0}, "limit must be an integer between 1 and 50."),
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone 'Mars/Olympus'."),
        ({"time_zone": "../etc/passwd"}, "Unknown time zone '../etc/passwd'."),
        ({"time_zone": ""}, "time_zone must be an IANA time zone name."),
        ({"time_zone": 1}, "time_zone must be an IANA time zone name."),
        ({"time_zone": None}, "time_zone must be an IANA time zone name."),
        ({"creator": ""}, "creator must be a username."),
        ({"creator": 7}, "creator must be a username."),
        ({"participants": ["carol"]}, "The creator, participants and pending invitees must be different users."),
        (
            {"participants": ["ann"], "pending": ["ann"]},
            "The creator, participants and pending invitees must be different users.",
        ),
        ({"days": [CandidateDay(MAY_6, 1), CandidateDay(MAY_6, 2)]}, "Duplicate day 2030-05-06."),
        ({"days": [CandidateDay(MAY_6, 0)]}, "Day rankings must be positive integers."),
        ({"days": [CandidateDay(MAY_6, 1.0)]}, "Day rankings must be positive integers."),
        (
            {"slots": [slot("carol", MAY_6, "10:00", "10:00")]},
            "Slot of carol on 2030-05-06 does not start before it ends.",
        ),
        (
            {"slots": [slot("carol", MAY_6, "10:00", "09:59")]},
            "Slot of carol on 2030-05-06 does not start before it ends.",
        ),
        ({"slots": [slot("carol", MAY_6, "09:00", "10:00", "maybe")]}, "Unknown preference 'maybe'."),
    ],
)
def test_nonsense_raises_value_error(overrides, message):
    # The whole message, so a mangled one fails (the API shows them to the client).
    kwargs = {"slots": [], **overrides}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        suggest(**kwargs)


def test_the_bounds_themselves_are_accepted():
    # duration 1 and 1440, step 1 and 60, limit 1 and 50: each accepted, each doing what it says.
    shortest = suggest(duration=1, step=1, limit=3, slots=[slot("carol", MAY_6, "09:00", "09:03")])
    assert windows(shortest.suggestions) == [
        ("2030-05-06", "09:00", "09:01"),
        ("2030-05-06", "09:01", "09:02"),
        ("2030-05-06", "09:02", "09:03"),
    ]
    longest = suggest(duration=1440, step=60, limit=50, slots=[slot("carol", MAY_6, "00:00", "23:59")])
    assert longest.suggestions == []
    assert longest.reason.as_dict() == {
        "code": "no_window_long_enough",
        "message": "No 1440-minute window starting on the 60-minute grid fits in the creator's availability.",
    }
    one = suggest(limit=1, step=60, slots=[slot("carol", MAY_6, "09:00", "12:00")])
    assert windows(one.suggestions) == [("2030-05-06", "09:00", "10:00")]


def test_the_default_limit_is_ten():
    # Twelve separate one-hour windows; without `limit` the ten best (earliest on a tie) come back.
    result = suggest(slots=[slot("carol", MAY_6, "08:00", "20:00")], step=60)
    assert windows(result.suggestions) == [("2030-05-06", f"{h:02}:00", f"{h + 1:02}:00") for h in range(8, 18)]


def test_a_zone_object_is_used_as_it_is():
    result = suggest(time_zone=ZoneInfo("Asia/Kathmandu"), slots=[slot("carol", MAY_6, "09:00", "10:00")])
    assert absolute(result.suggestions) == [("2030-05-06T09:00:00+05:45", "2030-05-06T10:00:00+05:45")]


# place_meeting: a fixed meeting's wall-clock times as instants -------------------------------------------------


def placed(day: date, start: str, end: str, time_zone=BERLIN) -> tuple[str, str]:
    starts_at, ends_at = place_meeting(time_zone=time_zone, day=day, start=t(start), end=t(end))
    assert starts_at.tzinfo == ends_at.tzinfo == ZoneInfo(BERLIN if time_zone == BERLIN else str(time_zone))
    return starts_at.isoformat(), ends_at.isoformat()


def test_place_meeting_on_an_ordinary_day():
    assert placed(MAY_6, "09:00", "10:30") == ("2030-05-06T09:00:00+02:00", "2030-05-06T10:30:00+02:00")
    assert placed(date(2030, 1, 7), "23:00", "23:59:59") == ("2030-01-07T23:00:00+01:00", "2030-01-07T23:59:59+01:00")


@pytest.mark.parametrize(
    ("start", "end", "which", "missing"),
    [
        ("02:30", "04:00", "start_time", "02:30:00"),
        ("02:00", "03:00", "start_time", "02:00:00"),
        ("01:00", "02:30", "end_time", "02:30:00"),
        ("01:00", "02:59:59", "end_time", "02:59:59"),
        ("02:15", "02:45", "start_time", "02:15:00"),  # both in the gap: the start is named
    ],
)
def test_place_meeting_in_the_spring_forward_gap_names_the_missing_time(start, end, which, missing):
    with pytest.raises(NonexistentTimeError) as raised:
        place_meeting(time_zone=BERLIN, day=SPRING_FORWARD, start=t(start), end=t(end))
    assert raised.value.which == which
    assert (
        str(raised.value) == f"{missing} does not exist on 2030-03-31 in Europe/Berlin: the clocks go forward over it."
    )
    assert isinstance(raised.value, ValueError)


def test_place_meeting_around_the_spring_forward_gap():
    # Ending as the gap starts would end at 02:00, which is never shown; 03:00 is the first time after it.
    assert placed(SPRING_FORWARD, "01:00", "01:59") == ("2030-03-31T01:00:00+01:00", "2030-03-31T01:59:00+01:00")
    assert placed(SPRING_FORWARD, "03:00", "04:00") == ("2030-03-31T03:00:00+02:00", "2030-03-31T04:00:00+02:00")
    # Across the gap: the wall clock says two hours, the meeting lasts one; it runs from start to end as shown.
    assert placed(SPRING_FORWARD, "01:30", "03:30") == ("2030-03-31T01:30:00+01:00", "2030-03-31T03:30:00+02:00")


def test_place_meeting_across_the_autumn_fall_back():
    # 02:00-03:00 is shown twice on 2030-10-27 (first at +02:00, then at +01:00).
    # Into the repeated hour: the first 02:30, an hour after 01:30.
    assert placed(FALL_BACK, "01:30", "02:30") == ("2030-10-27T01:30:00+02:00", "2030-10-27T02:30:00+02:00")
    # Out of it: the second 02:30, an hour before 03:30 (from the first it would be two).
    assert placed(FALL_BACK, "02:30", "03:30") == ("2030-10-27T02:30:00+01:00", "2030-10-27T03:30:00+01:00")
    # Inside it: the first occurrence of both.
    assert placed(FALL_BACK, "02:00", "02:30") == ("2030-10-27T02:00:00+02:00", "2030-10-27T02:30:00+02:00")
    # Over all of it: no placement lasts the three wall-clock hours; from the first 01:00 to the 04:00 (four hours).
    assert placed(FALL_BACK, "01:00", "04:00") == ("2030-10-27T01:00:00+02:00", "2030-10-27T04:00:00+01:00")
    starts_at, ends_at = place_meeting(time_zone=BERLIN, day=FALL_BACK, start=t("01:00"), end=t("04:00"))
    # (Subtraction within one tzinfo is by the wall clock in Python: compare in UTC.)
    assert ends_at.astimezone(UTC) - starts_at.astimezone(UTC) == timedelta(hours=4)


@pytest.mark.parametrize(("start", "end"), [("10:00", "10:00"), ("10:00", "09:59:59"), ("23:59", "00:00")])
def test_place_meeting_refuses_a_start_not_before_the_end(start, end):
    with pytest.raises(ValueError, match=r"^start must be before end\.$") as raised:
        place_meeting(time_zone=BERLIN, day=MAY_6, start=t(start), end=t(end))
    assert not isinstance(raised.value, NonexistentTimeError)


@pytest.mark.parametrize(
    ("time_zone", "message"),
    [
        (None, "time_zone must be an IANA time zone name."),
        (2, "time_zone must be an IANA time zone name."),
        ("", "time_zone must be an IANA time zone name."),
        ("Mars/Olympus", "Unknown time zone 'Mars/Olympus'."),
    ],
)
def test_place_meeting_refuses_what_is_not_a_zone(time_zone, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        place_meeting(time_zone=time_zone, day=MAY_6, start=t("09:00"), end=t("10:00"))


def test_place_meeting_takes_a_zone_object():
    starts_at, ends_at = place_meeting(
        time_zone=ZoneInfo("Asia/Kathmandu"), day=MAY_6, start=t("09:00"), end=t("10:00")
    )
    assert (starts_at.isoformat(), ends_at.isoformat()) == ("2030-05-06T09:00:00+05:45", "2030-05-06T10:00:00+05:45")


def test_the_second_and_the_second_to_last_day_of_the_calendar_are_ordinary_days():
    # Only 0001-01-01 and 9999-12-31 are left out (UTC may not reach them); the days next to them are not.
    first, last = date(1, 1, 2), date(9999, 12, 30)
    result = suggest(
        time_zone="UTC",
        days=[CandidateDay(first, 1), CandidateDay(last, 2)],
        slots=[slot("carol", first, "09:00", "10:00"), slot("carol", last, "09:00", "10:00")],
    )
    assert absolute(result.suggestions) == [
        ("0001-01-02T09:00:00+00:00", "0001-01-02T10:00:00+00:00"),
        ("9999-12-30T09:00:00+00:00", "9999-12-30T10:00:00+00:00"),
    ]


def test_place_meeting_on_the_first_and_last_day_takes_the_wall_times_as_they_are():
    # UTC may not reach 0001-01-01 or 9999-12-31 from every zone: the times are placed on the wall clock.
    for day in (date.min, date.max):
        starts_at, ends_at = place_meeting(time_zone="Etc/GMT+12", day=day, start=t("09:00"), end=t("10:30"))
        assert (starts_at.isoformat(), ends_at.isoformat()) == (
            f"{day.isoformat()}T09:00:00-12:00",
            f"{day.isoformat()}T10:30:00-12:00",
        )


def test_wall_instant_and_in_zone():
    moment = wall_instant(MAY_6, t("09:00"), BERLIN)
    assert moment.isoformat() == "2030-05-06T09:00:00+02:00"
    assert in_zone(moment, "Asia/Kathmandu") == "2030-05-06T12:45:00+05:45"
    assert in_zone(moment, None) is None
    assert in_zone(moment, "") is None
    # In the repeated hour the first occurrence; in the gap, shifted as zoneinfo does.
    assert wall_instant(FALL_BACK, t("02:30"), BERLIN).isoformat() == "2030-10-27T02:30:00+02:00"
    assert wall_instant(SPRING_FORWARD, t("02:30"), BERLIN).astimezone(UTC).isoformat() == "2030-03-31T01:30:00+00:00"


def test_no_days_means_no_availability():
    result = suggest(days=[], slots=[slot("carol", MAY_6, "09:00", "10:00")])
    assert result.reason.code == ReasonCode.NO_AVAILABILITY


def test_result_as_dict_when_empty():
    assert suggest(slots=[]).as_dict() == {
        "suggestions": [],
        "reason": {
            "code": "no_availability",
            "message": "Nobody has marked any availability on the calendar's days yet.",
        },
    }


# Brute-force reference ------------------------------------------------------------------------------------------

# Ordinary days and transition days, including zones whose clocks change at midnight or by 30 minutes.
DAY_POOL = {
    "UTC": [date(2030, 5, 6), date(2030, 5, 7), date(2030, 5, 8)],
    BERLIN: [SPRING_FORWARD, FALL_BACK, date(2030, 5, 6)],
    "America/New_York": [date(2030, 3, 10), date(2030, 11, 3), date(2030, 7, 1)],
    "Australia/Lord_Howe": [date(2030, 4, 7), date(2030, 10, 6)],
    "America/Santiago": [date(2030, 4, 6), date(2030, 9, 8)],
    "America/Havana": [date(2030, 3, 10), date(2030, 11, 3)],
    "Asia/Beirut": [date(2030, 10, 26), date(2030, 3, 31)],
}


@cache
def wall_minutes(zone_name: str, day: date) -> dict[int, tuple[datetime, ...]]:
    """Each wall-clock minute of `day` mapped to the UTC instants showing it, found by walking real time."""
    zone = ZoneInfo(zone_name)
    found: dict[int, list[datetime]] = {}
    instant = datetime.combine(day, time(), tzinfo=UTC) - timedelta(hours=30)
    stop = instant + timedelta(hours=84)
    while instant < stop:
        local = instant.astimezone(zone)
        if local.date() == day:
            found.setdefault(local.hour * 60 + local.minute, []).append(instant)
        instant += timedelta(minutes=1)
    return {minute: tuple(instants) for minute, instants in found.items()}


def brute_force(*, time_zone, days, creator, participants, pending, slots, duration, step, limit):
    """Every minute-grid window, checked minute by minute; then sort and pick greedily."""
    zone = ZoneInfo(time_zone)
    members = [creator, *participants]
    ranking = {d.date: d.ranking for d in days}
    candidates = []
    for day in ranking:
        covered = {m: [False] * 1440 for m in members}
        glad = {m: [False] * 1440 for m in members}
        for s in slots:
            if s.date == day and s.owner in covered:
                for minute in range(s.start.hour * 60 + s.start.minute, s.end.hour * 60 + s.end.minute):
                    covered[s.owner][minute] = True
                    if s.preference == Preference.YES:
                        glad[s.owner][minute] = True
        walls = wall_minutes(time_zone, day)
        for start in range(0, 1440, step):
            here = [m for m in members if start + duration <= 1440 and all(covered[m][start : start + duration])]
            if creator not in here:
                continue
            yes = [m for m in here if all(glad[m][start : start + duration])]
            placed = [
                (a, b)
                for a in walls.get(start, ())
                for b in walls.get(start + duration, ())
                if b - a == timedelta(minutes=duration)
            ]
            if not placed:
                continue
            a, b = min(placed)
            candidates.append(((-len(here), -len(yes), ranking[day], day, start), day, start, here, yes, a, b))
    candidates.sort(key=lambda c: c[0])
    chosen = []
    for _, day, start, here, yes, a, b in candidates:
        if len(chosen) == limit:
            break
        if any(d == day and abs(s - start) < duration for d, s, *_ in chosen):
            continue
        chosen.append((day, start, here, yes, a, b))
    by_case = lambda names: sorted(names, key=lambda u: (u.casefold(), u))  # noqa: E731
    return [
        (
            day.isoformat(),
            f"{start // 60:02d}:{start % 60:02d}:00",
            f"{(start + duration) // 60:02d}:{(start + duration) % 60:02d}:00",
            a.astimezone(zone).isoformat(),
            b.astimezone(zone).isoformat(),
            by_case(here),
            by_case(m for m in here if m not in yes),
            by_case(p for p in participants if p not in here),
            by_case(pending),
            len(here),
            len(yes),
            len(here) - len(yes),
            ranking[day],
        )
        for day, start, here, yes, a, b in chosen
    ]


def flatten(suggestion: Suggestion):
    d = suggestion.as_dict()
    return (
        d["date"],
        d["start_time"],
        d["end_time"],
        d["starts_at"],
        d["ends_at"],
        d["available"],
        d["if_need_be"],
        d["missing"],
        d["pending"],
        d["score"]["available_count"],
        d["score"]["yes_count"],
        d["score"]["if_need_be_count"],
        d["score"]["day_ranking"],
    )


def random_case(rng: random.Random) -> dict:
    time_zone = rng.choice(sorted(DAY_POOL))
    dates = rng.sample(DAY_POOL[time_zone], rng.randint(1, len(DAY_POOL[time_zone])))
    rankings = rng.sample(range(1, 6), len(dates))
    people = ["carol", "ann", "Bob", "dave", "eve"][: rng.randint(1, 5)]
    grain = rng.choice([1, 5, 15, 30])
    slots = []
    for day in dates:
        for person in [*people, "zed"]:
            for _ in range(rng.randint(0, 3)):
                # Denser around the small hours where clocks change.
                lo, hi = rng.choice([(0, 1439), (0, 300), (1320, 1439)])
                a, b = sorted(rng.sample(range(lo // grain, hi // grain + 1), 2))
                preference = rng.choice([Preference.YES, Preference.YES, Preference.IF_NEED_BE])
                slots.append(Slot(person, day, time(*divmod(a * grain, 60)), time(*divmod(b * grain, 60)), preference))
    rng.shuffle(slots)
    return {
        "time_zone": time_zone,
        "days": [CandidateDay(d, r) for d, r in zip(dates, rankings, strict=True)],
        "creator": people[0],
        "participants": people[1:],
        "pending": rng.sample(["zed", "yann"], rng.randint(0, 2)),
        "slots": slots,
        "duration": rng.choice([1, 5, 15, 20, 30, 45, 60, 61, 90, 120, 180, rng.randint(1, 400)]),
        "step": rng.choice([1, 5, 10, 15, 30, 60]),
        "limit": rng.randint(1, 8),
    }


def test_matches_brute_force_on_random_inputs():
    rng = random.Random(20300331)
    non_empty = with_if_need_be = tie_broken_by_yes = 0
    for _ in range(600):
        case = random_case(rng)
        got = suggest_meeting_times(**case)
        expected = brute_force(**case)
        assert [flatten(s) for s in got.suggestions] == expected, case
        assert (got.reason is None) == bool(expected)
        non_empty += bool(expected)
        with_if_need_be += any(s.if_need_be for s in got.suggestions)
        # A tie on the number of people broken by the number of "yes" among them.
        tie_broken_by_yes += any(
            a.score.available_count == b.score.available_count and a.score.yes_count > b.score.yes_count
            for a, b in pairwise(got.suggestions)
        )
    # The generator must exercise both outcomes and both preferences, or the comparison proves little.
    assert non_empty > 300
    assert with_if_need_be > 100
    assert tie_broken_by_yes > 20


def test_the_wall_clock_arithmetic_keeps_microseconds():
    # Slots are TimeFields: one saved through the ORM may carry microseconds, and must come back whole.
    t = time(13, 45, 30, 250_000)
    assert _us(t) == ((13 * 60 + 45) * 60 + 30) * 1_000_000 + 250_000
    assert _time(_us(t)) == t
    assert _time(_us(time(23, 59, 59, 999_999))) == time(23, 59, 59, 999_999)

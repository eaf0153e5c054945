"""Best meeting times and the availability grid: pure computations from days, timeslots and who takes part.

No ORM, no database. See docs/scheduling.md for the rules. The entry points are `suggest_meeting_times`
and `availability_grid`.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import pairwise
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_DURATION",
    "MAX_LIMIT",
    "STEPS",
    "CandidateDay",
    "GridDay",
    "GridInterval",
    "NoSuggestionReason",
    "NonexistentTimeError",
    "Preference",
    "ReasonCode",
    "Score",
    "Slot",
    "SlotFields",
    "Suggestion",
    "SuggestionResult",
    "availability_grid",
    "in_zone",
    "place_meeting",
    "suggest_meeting_times",
    "wall_instant",
]

MAX_DURATION = 24 * 60
MAX_LIMIT = 50
# The step must divide an hour, so every grid starts on the hour.
STEPS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)

_US_PER_MINUTE = 60_000_000
# Weight of the creator in the sweep counter: larger than any possible number of participants, so one
# integer says both "is the creator in" (counter >= weight) and "how many others are" (counter - weight).
_CREATOR_WEIGHT = 1 << 40


class Preference(StrEnum):
    """How a person gives a timeslot: `yes`, or `if_need_be` (they can, but would rather not)."""

    YES = "yes"
    IF_NEED_BE = "if_need_be"


_PREFERENCES = frozenset(Preference)


@dataclass(frozen=True, slots=True)
class CandidateDay:
    """A candidate day of the calendar; ranking 1 is the most preferred."""

    date: date
    ranking: int


class Slot(NamedTuple):
    """One owner's availability: wall-clock times on `date` in the calendar's zone, start < end.

    A named tuple rather than a frozen dataclass: a calendar holds tens of thousands, made from database
    rows on every request, and a tuple is made several times faster.
    """

    owner: str
    date: date
    start: time
    end: time
    preference: Preference = Preference.YES


# A slot's fields in order, as a `Slot` or a plain tuple (what the availability grid reads).
SlotFields = tuple[str, date, time, time, str]


@dataclass(frozen=True, slots=True)
class Score:
    """The parts that decided the order: more available, then more of them "yes", then day ranking, then start."""

    available_count: int
    yes_count: int
    if_need_be_count: int
    participant_total: int
    day_ranking: int
    start: time

    def as_dict(self) -> dict[str, Any]:
        return {
            "available_count": self.available_count,
            "yes_count": self.yes_count,
            "if_need_be_count": self.if_need_be_count,
            "participant_total": self.participant_total,
            "day_ranking": self.day_ranking,
            "start": self.start.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A meeting window: wall-clock date and times, absolute aware datetimes, and who can make it."""

    date: date
    start_time: time
    end_time: time
    starts_at: datetime
    ends_at: datetime
    available: tuple[str, ...]
    if_need_be: tuple[str, ...]
    missing: tuple[str, ...]
    pending: tuple[str, ...]
    score: Score

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: ISO 8601 dates and times, absolute times with their UTC offset."""
        return {
            "date": self.date.isoformat(),
            "start_time": self.start_time.isoformat(),
            "end_time": self.end_time.isoformat(),
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "available": list(self.available),
            "if_need_be": list(self.if_need_be),
            "missing": list(self.missing),
            "pending": list(self.pending),
            "score": self.score.as_dict(),
        }


class ReasonCode(StrEnum):
    """Why there is no suggestion; `description` says it in a few words (the schema's enum text)."""

    NO_AVAILABILITY = "no_availability"
    CREATOR_UNAVAILABLE = "creator_unavailable"
    NO_WINDOW_LONG_ENOUGH = "no_window_long_enough"

    @property
    def description(self) -> str:
        return _REASON_DESCRIPTIONS[self]


_REASON_DESCRIPTIONS = {
    ReasonCode.NO_AVAILABILITY: "nobody marked a timeslot on the calendar's days",
    ReasonCode.CREATOR_UNAVAILABLE: "others did, the creator did not",
    ReasonCode.NO_WINDOW_LONG_ENOUGH: "no window of that length fits the creator's timeslots",
}


@dataclass(frozen=True, slots=True)
class NoSuggestionReason:
    code: ReasonCode
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "message": self.message}


@dataclass(frozen=True, slots=True)
class SuggestionResult:
    """`suggestions` best first; `reason` says why the list is empty (None when it is not)."""

    suggestions: list[Suggestion] = field(default_factory=list)
    reason: NoSuggestionReason | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "suggestions": [s.as_dict() for s in self.suggestions],
            "reason": self.reason.as_dict() if self.reason else None,
        }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate(*, duration: int, step: int, limit: int) -> None:
    if not _is_int(duration) or not 1 <= duration <= MAX_DURATION:
        raise ValueError(f"duration must be an integer number of minutes between 1 and {MAX_DURATION}.")
    if not _is_int(step) or not 1 <= step <= 60 or 60 % step:
        raise ValueError("step must be a number of minutes that divides 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60).")
    if not _is_int(limit) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer between 1 and {MAX_LIMIT}.")


def _zone(time_zone: str | tzinfo) -> tzinfo:
    if isinstance(time_zone, tzinfo):
        return time_zone
    if not isinstance(time_zone, str) or not time_zone:
        raise ValueError("time_zone must be an IANA time zone name.")
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {time_zone!r}.") from exc


def _us(t: time) -> int:
    """Microseconds since midnight (wall clock); tzinfo on the time is ignored."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _time(us: int) -> time:
    seconds, micro = divmod(us, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour, minute, second, micro)


def _sort_key(username: str) -> tuple[str, str]:
    return (username.casefold(), username)


# Days whose every wall time converts to UTC and back: not the first or last day datetime can hold, where
# a zone's offset (less than a day) can carry a time past year 1 or year 9999 (an OverflowError).
_FIRST_PLACEABLE = date.min + timedelta(days=1)
_LAST_PLACEABLE = date.max - timedelta(days=1)


def _placeable(day: date) -> bool:
    return _FIRST_PLACEABLE <= day <= _LAST_PLACEABLE


def _instants(day: date, wall_us: int, zone: tzinfo) -> list[datetime]:
    """The UTC instants at which the wall-clock time occurs: none in a DST gap, two in a repeated hour.

    None either on a day at the very ends of the calendar (0001-01-01, 9999-12-31), where UTC may not
    reach: suggestions leave such a day out, `place_meeting` takes its wall times as they are.
    """
    if not _placeable(day):
        return []
    naive = datetime.combine(day, _time(wall_us))
    found: list[datetime] = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        # A wall time inside a gap does not survive the round trip (zoneinfo shifts it by the gap).
        if instant.astimezone(zone).replace(tzinfo=None, fold=0) == naive and instant not in found:
            found.append(instant)
    return found


def _resolve(day: date, start_us: int, duration_us: int, zone: tzinfo) -> tuple[datetime, datetime] | None:
    """Absolute start and end of a wall-clock window, or None when no placement lasts exactly `duration`.

    Both wall times must exist; in a repeated hour the earliest placement with the right length wins.
    """
    ends = _instants(day, start_us + duration_us, zone)
    if not ends:
        return None
    length = timedelta(microseconds=duration_us)
    for start in _instants(day, start_us, zone):
        for end in ends:
            if end - start == length:
                return start.astimezone(zone), end.astimezone(zone)
    return None


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of intervals; touching ones join (09:00-10:00 and 10:00-11:00 make 09:00-11:00)."""
    intervals.sort()
    merged: list[list[int]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


@dataclass(slots=True)
class _DayPlan:
    day: CandidateDay
    # Per person, grid-index ranges [lo, hi] of window starts that fit inside one of their merged intervals:
    # of all their slots (available), and of their "yes" slots alone (available and glad to).
    starts: list[tuple[int, int, str]]
    yes_starts: list[tuple[int, int, str]]
    chosen: list[int]


def _start_ranges(intervals: list[tuple[int, int]], step_us: int, duration_us: int) -> Iterator[tuple[int, int]]:
    """Grid-index ranges [lo, hi] of the starts of windows that fit inside one of the merged intervals."""
    for start, end in _merge(intervals):
        # Feasible starts s satisfy start <= s and s + duration <= end; keep those on the grid.
        lo = -(-start // step_us)
        hi = (end - duration_us) // step_us
        if lo <= hi:
            yield lo, hi


def suggest_meeting_times(
    *,
    time_zone: str | tzinfo,
    days: Sequence[CandidateDay],
    creator: str,
    participants: Iterable[str],
    pending: Iterable[str] = (),
    slots: Iterable[Slot],
    duration: int,
    step: int = 15,
    limit: int = 10,
) -> SuggestionResult:
    """Top `limit` non-overlapping windows of `duration` minutes (starts on the `step` grid), best first.

    A person is available for a window covered by their slots of any preference, and "yes" when their
    "yes" slots alone cover it. Raises ValueError on nonsense input (bad duration, step, limit, zone,
    preference, duplicate dates or users, start >= end).
    """
    _validate(duration=duration, step=step, limit=limit)
    zone = _zone(time_zone)
    participants = list(dict.fromkeys(participants))
    pending = list(dict.fromkeys(pending))
    if not isinstance(creator, str) or not creator:
        raise ValueError("creator must be a username.")
    everyone = [creator, *participants, *pending]
    if len(set(everyone)) != len(everyone):
        raise ValueError("The creator, participants and pending invitees must be different users.")
    by_date: dict[date, CandidateDay] = {}
    for day in days:
        if day.date in by_date:
            raise ValueError(f"Duplicate day {day.date.isoformat()}.")
        if not _is_int(day.ranking) or day.ranking < 1:
            raise ValueError("Day rankings must be positive integers.")
        by_date[day.date] = day

    members = {creator, *participants}
    step_us = step * _US_PER_MINUTE
    duration_us = duration * _US_PER_MINUTE
    # Grid steps between a chosen start and the next start that does not overlap it.
    gap = -(-duration_us // step_us)

    # Group by day and owner; slots of non-members (pending, rejected, strangers) and of other dates do not count.
    raw: dict[date, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    raw_yes: dict[date, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    creator_has_slots = False
    anyone_has_slots = False
    for slot in slots:
        start, end = _us(slot.start), _us(slot.end)
        if start >= end:
            raise ValueError(f"Slot of {slot.owner} on {slot.date.isoformat()} does not start before it ends.")
        if slot.preference not in _PREFERENCES:
            raise ValueError(f"Unknown preference {slot.preference!r}.")
        if slot.owner not in members or slot.date not in by_date:
            continue
        raw[slot.date][slot.owner].append((start, end))
        if slot.preference == Preference.YES:
            raw_yes[slot.date][slot.owner].append((start, end))
        anyone_has_slots = True
        creator_has_slots = creator_has_slots or slot.owner == creator

    plans: list[_DayPlan] = []
    heap: list[tuple[int, int, int, int, int, int, int]] = []
    for the_date, owners in raw.items():
        if creator not in owners:
            continue
        plan = _DayPlan(day=by_date[the_date], starts=[], yes_starts=[], chosen=[])
        # Two counters swept together: who is available (the creator weighing more than everyone else
        # together), and how many of them are "yes".
        deltas: dict[int, int] = defaultdict(int)
        yes_deltas: dict[int, int] = defaultdict(int)
        for owner, intervals in owners.items():
            weight = _CREATOR_WEIGHT if owner == creator else 1
            for lo, hi in _start_ranges(intervals, step_us, duration_us):
                plan.starts.append((lo, hi, owner))
                deltas[lo] += weight
                deltas[hi + 1] -= weight
            for lo, hi in _start_ranges(raw_yes[the_date].get(owner, []), step_us, duration_us):
                plan.yes_starts.append((lo, hi, owner))
                yes_deltas[lo] += 1
                yes_deltas[hi + 1] -= 1
        index = len(plans)
        plans.append(plan)
        # Sweep the boundaries: between two consecutive ones the available people and the "yes" ones are constant.
        counter = yes = 0
        positions = sorted(deltas.keys() | yes_deltas.keys())
        for position, following in pairwise(positions):
            counter += deltas.get(position, 0)
            yes += yes_deltas.get(position, 0)
            if counter >= _CREATOR_WEIGHT:
                others = counter - _CREATOR_WEIGHT
                # Heap key: more people first, more of them "yes", better ranking, earlier date, earlier start;
                # then the segment.
                heap.append((-others, -yes, plan.day.ranking, the_date.toordinal(), position, following - 1, index))
    heapq.heapify(heap)

    # Greedy in rank order. Each heap entry is a segment with the earliest start not yet ruled out; its key is
    # a lower bound of the segment's best remaining window, so a popped start that is still free is the best.
    chosen: list[tuple[_DayPlan, int, datetime, datetime]] = []
    while heap and len(chosen) < limit:
        neg_others, neg_yes, ranking, ordinal, popped, last, index = heapq.heappop(heap)
        plan = plans[index]
        start = _first_free(popped, plan.chosen, gap)
        if start > last:
            continue
        if start != popped:
            # Pushed back with its new key: another segment may now hold a better window.
            heapq.heappush(heap, (neg_others, neg_yes, ranking, ordinal, start, last, index))
            continue
        placed = _resolve(plan.day.date, start * step_us, duration_us, zone)
        if placed is None:
            # The wall-clock window crosses a DST gap or cannot last `duration`: try the next grid start.
            if start + 1 <= last:
                heapq.heappush(heap, (neg_others, neg_yes, ranking, ordinal, start + 1, last, index))
            continue
        chosen.append((plan, start, *placed))
        plan.chosen.append(start)
        if start + gap <= last:
            heapq.heappush(heap, (neg_others, neg_yes, ranking, ordinal, start + gap, last, index))

    if not chosen:
        return SuggestionResult(suggestions=[], reason=_reason(anyone_has_slots, creator_has_slots, duration, step))

    pending_sorted = tuple(sorted(pending, key=_sort_key))
    total = 1 + len(participants) + len(pending)
    suggestions = []
    for plan, start, starts_at, ends_at in chosen:
        here = {owner for lo, hi, owner in plan.starts if lo <= start <= hi}
        glad = {owner for lo, hi, owner in plan.yes_starts if lo <= start <= hi}
        available = tuple(sorted(here, key=_sort_key))
        if_need_be = tuple(sorted(here - glad, key=_sort_key))
        missing = tuple(sorted((p for p in participants if p not in here), key=_sort_key))
        start_time = _time(start * step_us)
        suggestions.append(
            Suggestion(
                date=plan.day.date,
                start_time=start_time,
                end_time=_time(start * step_us + duration_us),
                starts_at=starts_at,
                ends_at=ends_at,
                available=available,
                if_need_be=if_need_be,
                missing=missing,
                pending=pending_sorted,
                score=Score(
                    available_count=len(available),
                    yes_count=len(available) - len(if_need_be),
                    if_need_be_count=len(if_need_be),
                    participant_total=total,
                    day_ranking=plan.day.ranking,
                    start=start_time,
                ),
            )
        )
    return SuggestionResult(suggestions=suggestions, reason=None)


def _first_free(start: int, taken: list[int], gap: int) -> int:
    """The first grid start at or after `start` whose window overlaps none of the windows already taken."""
    moved = True
    while moved:
        moved = False
        for other in taken:
            if other - gap < start < other + gap:
                start = other + gap
                moved = True
    return start


def _reason(anyone_has_slots: bool, creator_has_slots: bool, duration: int, step: int) -> NoSuggestionReason:
    if not anyone_has_slots:
        return NoSuggestionReason(
            ReasonCode.NO_AVAILABILITY, "Nobody has marked any availability on the calendar's days yet."
        )
    if not creator_has_slots:
        return NoSuggestionReason(
            ReasonCode.CREATOR_UNAVAILABLE, "The creator has not marked any availability on the calendar's days yet."
        )
    return NoSuggestionReason(
        ReasonCode.NO_WINDOW_LONG_ENOUGH,
        f"No {duration}-minute window starting on the {step}-minute grid fits in the creator's availability.",
    )


class NonexistentTimeError(ValueError):
    """A wall-clock time that the clocks skip on that day (daylight saving starts)."""

    def __init__(self, *, which: str, day: date, at: time, zone: tzinfo) -> None:
        self.which = which
        super().__init__(
            f"{at.isoformat()} does not exist on {day.isoformat()} in {zone}: the clocks go forward over it."
        )


def place_meeting(*, time_zone: str | tzinfo, day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """Absolute start and end (aware, in the zone) of a meeting from `start` to `end` wall-clock on `day`.

    Raises NonexistentTimeError (with `which` = "start_time" or "end_time") for a time in a DST gap.
    """
    zone = _zone(time_zone)
    start_us, end_us = _us(start), _us(end)
    if start_us >= end_us:
        raise ValueError("start must be before end.")
    if not _placeable(day):
        # The first or last day a date can be (stored before the window of dates existed): the wall times
        # with the zone as they are, since UTC may not reach them; the API no longer takes such a day.
        return wall_instant(day, start, zone), wall_instant(day, end, zone)
    starts = _instants(day, start_us, zone)
    if not starts:
        raise NonexistentTimeError(which="start_time", day=day, at=start, zone=zone)
    ends = _instants(day, end_us, zone)
    if not ends:
        raise NonexistentTimeError(which="end_time", day=day, at=end, zone=zone)
    placed = _resolve(day, start_us, end_us - start_us, zone)
    if placed is not None:
        return placed
    # No placement lasts what the wall clock says (the window spans a change): the meeting runs
    # from the first time the start is shown to the last time the end is shown.
    return starts[0].astimezone(zone), ends[-1].astimezone(zone)


# Another reader's clock ---------------------------------------------------------------------------------------


def wall_instant(day: date, at: time, time_zone: str | tzinfo) -> datetime:
    """The moment a wall-clock time on `day` shows in `time_zone` (in a repeated hour, the first; in a gap, as
    zoneinfo shifts it)."""
    return datetime.combine(day, at).replace(tzinfo=_zone(time_zone))


def in_zone(moment: datetime, time_zone: str | None) -> str | None:
    """`moment` as ISO 8601 on the clock of `time_zone` (its date, wall time and offset); None without a zone,
    or when that clock would show a date past year 9999 or before year 1."""
    if not time_zone:
        return None
    try:
        return moment.astimezone(_zone(time_zone)).isoformat()
    except OverflowError:
        return None


# The availability grid ---------------------------------------------------------------------------------------


class GridInterval(NamedTuple):
    """A maximal stretch of a day where the same people are available with the same preferences."""

    start: time
    end: time
    yes: tuple[str, ...]
    if_need_be: tuple[str, ...]

    # The answer's `count`, named as the API names it; it hides tuple.count, which nothing calls on an interval.
    @property
    def count(self) -> int:  # type: ignore[override]
        return len(self.yes) + len(self.if_need_be)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start_time": self.start.isoformat("seconds"),
            "end_time": self.end.isoformat("seconds"),
            "yes": list(self.yes),
            "if_need_be": list(self.if_need_be),
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class GridDay:
    """A candidate day and its stretches of availability, in order (none where nobody is available)."""

    day: CandidateDay
    intervals: list[GridInterval]


def availability_grid(
    *, days: Sequence[CandidateDay], members: Iterable[str], slots: Iterable[SlotFields]
) -> list[GridDay]:
    """Per day (in the order given), who is available when: one sweep over the sorted slot boundaries.

    `slots` are `Slot`s, or plain tuples of the same fields. A person is "yes" at a moment covered by one
    of their "yes" slots, else "if need be" when covered by one of their "if need be" slots. Boundaries
    fall exactly at slot starts and ends; touching slots of one person with the same preference make one
    stretch. Slots of non-members and of other dates are left out. O(n log n) in the number of slots, plus
    the size of the answer. Raises ValueError on nonsense input.
    """
    names = sorted(dict.fromkeys(members), key=_sort_key)
    index = {name: i for i, name in enumerate(names)}
    # Per day, the boundaries at each moment, each an int: person << 2 | (2 if "if need be") | (1 if a start).
    by_date: dict[date, defaultdict[int, list[int]]] = {}
    for day in days:
        if day.date in by_date:
            raise ValueError(f"Duplicate day {day.date.isoformat()}.")
        by_date[day.date] = defaultdict(list)
    micros: dict[time, int] = {}  # times repeat a lot: each is converted once
    for owner, the_date, start_time, end_time, preference in slots:
        try:
            start, end = micros[start_time], micros[end_time]
        except KeyError:
            start = micros[start_time] = _us(start_time)
            end = micros[end_time] = _us(end_time)
        if start >= end:
            raise ValueError(f"Slot of {owner} on {the_date.isoformat()} does not start before it ends.")
        kind = _KIND_BITS.get(preference)
        if kind is None:
            raise ValueError(f"Unknown preference {preference!r}.")
        boundaries = by_date.get(the_date)
        person = index.get(owner)
        if boundaries is None or person is None:
            continue
        code = person << 2 | kind
        boundaries[start].append(code | 1)
        boundaries[end].append(code)
    times: dict[int, time] = {}
    return [GridDay(day=day, intervals=_sweep(by_date[day.date], names, times)) for day in days]


_KIND_BITS: dict[str, int] = {Preference.YES: 0, Preference.IF_NEED_BE: 2}
# What a boundary does to its person's counter (the low bits count "yes" slots, the high bits "if need be"
# ones), by its two low bits: a "yes" end, a "yes" start, an "if need be" end, an "if need be" start.
_IF_NEED_BE_ONE = 1 << 20
_DELTAS = (-1, 1, -_IF_NEED_BE_ONE, _IF_NEED_BE_ONE)
_YES_MASK = _IF_NEED_BE_ONE - 1


def _sweep(boundaries: dict[int, list[int]], names: list[str], times: dict[int, time]) -> list[GridInterval]:
    # Per person, how many of their slots of each preference cover the current moment (one counter), and
    # what they are now: 0 not available, 1 yes, 2 if need be; who is yes and who if need be, as sorted
    # person numbers (numbered in username order).
    counters = [0] * len(names)
    status = [0] * len(names)
    yes: list[int] = []
    if_need_be: list[int] = []
    intervals: list[GridInterval] = []
    opened = 0
    for at in sorted(boundaries):
        # Every boundary at one moment is applied before looking at the state: touching slots leave no gap.
        touched = set()
        for code in boundaries[at]:
            person = code >> 2
            counters[person] += _DELTAS[code & 3]
            touched.add(person)
        changes = []
        for person in touched:
            counter = counters[person]
            now = 1 if counter & _YES_MASK else 2 if counter else 0
            before = status[person]
            if now != before:
                changes.append((person, before, now))
                status[person] = now
        if not changes:
            continue
        if yes or if_need_be:
            intervals.append(
                GridInterval(
                    _clock(opened, times),
                    _clock(at, times),
                    tuple([names[i] for i in yes]),
                    tuple([names[i] for i in if_need_be]),
                )
            )
        for person, before, now in changes:
            if before:
                (yes if before == 1 else if_need_be).remove(person)
            if now:
                bisect.insort(yes if now == 1 else if_need_be, person)
        opened = at
    return intervals


def _clock(us: int, times: dict[int, time]) -> time:
    found = times.get(us)
    if found is None:
        found = times[us] = _time(us)
    return found

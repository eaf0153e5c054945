"""Reads for calendars, days and timeslots: a fixed number of queries whatever the size (no N+1).

Who may read what is decided in calendars.access; these functions take what it loaded, or scope
by the user themselves where a list is concerned. The JSON of calendars and timeslots comes from
calendars.read_models.
"""

from __future__ import annotations

import datetime
import functools
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, CharField, F, Func, Q, QuerySet, Value, When
from django.http import Http404

from calendars import models as calendar_models
from calendars import read_models
from calendars.models import Calendar, Day, FeedToken, Invitation, InvitationStatus, TimeSlot
from calendars.scheduling import (
    CandidateDay,
    GridInterval,
    SlotFields,
    SuggestionResult,
    availability_grid,
    in_zone,
    suggest_meeting_times,
    wall_instant,
)

User = get_user_model()

if TYPE_CHECKING:
    from accounts.models import User as Person

_T = TypeVar("_T", datetime.date, datetime.time)


def calendar_body(*, calendar_id: int, user: Person | None = None) -> dict[str, Any]:
    """The JSON body of a calendar: any calendar (after a write), or one `user` may see (else 404)."""
    row = read_models.calendar_row(calendar_id, None if user is None else user.pk)
    if row is None:
        raise Http404
    return read_models.calendar_bodies([row])[0]


def timeslots_of_day(*, day: Day) -> QuerySet[TimeSlot]:
    """All owners' slots of a day (already resolved for the user), earliest first."""
    return TimeSlot.objects.filter(day=day).select_related("owner").order_by("start_time", "end_time", "id")


def participants_by_calendar(calendar_ids: Iterable[int]) -> dict[int, list]:
    """The participants (accepted invitees, as users) of each calendar, by username; one query."""
    found: dict[int, list] = {pk: [] for pk in calendar_ids}
    accepted = (
        Invitation.objects.filter(calendar_id__in=found, status=InvitationStatus.ACCEPTED)
        .select_related("invitee")
        .order_by("invitee__username", "id")
    )
    for invitation in accepted:
        found[invitation.calendar_id].append(invitation.invitee)
    return found


def participants(calendar: Calendar) -> list:
    """The participants of one calendar, by username (one query)."""
    return participants_by_calendar([calendar.pk])[calendar.pk]


@dataclass(frozen=True, slots=True)
class SchedulingInputs:
    """What `calendars.scheduling.suggest_meeting_times` needs about one calendar.

    `slots` is read once: plain tuples in `Slot`'s field order, streamed from the database cursor.
    """

    calendar: Calendar
    days: list[CandidateDay]
    participants: list[str]
    pending: list[str]
    slots: Iterator[SlotFields]


@functools.cache
def _slots_sql(vendor: str) -> str:
    # Times as SQLite stores them (ISO text, parsed once per distinct value below): its adapter would convert
    # every row in Python. PostgreSQL's adapter converts in C. The calendar's days are known: no join.
    times = "start_time, end_time" if vendor == "postgresql" else "CAST(start_time AS text), CAST(end_time AS text)"
    ids = read_models.dialect(vendor).ids
    return f"SELECT owner_id, day_id, {times}, preference FROM calendars_timeslot WHERE day_id {ids}"  # noqa: S608


def _slot_tuples(owners: dict[int, str], dates: dict[int, datetime.date]) -> Iterator[tuple]:
    """Every member's slot on the days (by id) as (owner, date, start, end, preference), a few thousand at a time.

    A generator over the cursor: 30,000 slots never live at once (30,000 named tuples kept in a list woke the
    garbage collector's full pass), and a plain tuple handed over and dropped costs the collector nothing.
    Each distinct time is parsed once (a calendar holds a few dozen).
    """
    times: dict[Any, datetime.time] = {}
    with connection.cursor() as cursor:
        cursor.execute(_slots_sql(connection.vendor), {"ids": read_models.dialect().id_list(list(dates))})
        while rows := cursor.fetchmany(2000):
            for owner_id, day_id, start, end, preference in rows:
                owner = owners.get(owner_id)
                if owner is None:  # someone no longer a member
                    continue
                start_time = times.get(start)
                if start_time is None:
                    start_time = times[start] = _parsed(start, datetime.time)
                end_time = times.get(end)
                if end_time is None:
                    end_time = times[end] = _parsed(end, datetime.time)
                yield owner, dates[day_id], start_time, end_time, preference


def scheduling_inputs(*, calendar: Calendar) -> SchedulingInputs:
    """Days, members, pending invitees and every member's timeslot of a calendar (loaded with its creator).

    Three queries whatever the size (invitations, days, slots); the slots are streamed as plain tuples
    (`SchedulingInputs.slots`), so 30,000 of them cost milliseconds, not model instances.
    """
    invitations = list(
        Invitation.objects.filter(calendar=calendar, status__in=[InvitationStatus.ACCEPTED, InvitationStatus.PENDING])
        .order_by("id")
        .values_list("invitee_id", "invitee__username", "status")
    )
    accepted = {pk: name for pk, name, status in invitations if status == InvitationStatus.ACCEPTED}
    pending = [name for _, name, status in invitations if status == InvitationStatus.PENDING]
    days = list(Day.objects.filter(calendar=calendar).values_list("id", "date", "ranking"))
    dates = {pk: date for pk, date, _ in days}
    owners = {calendar.creator_id: calendar.creator.username, **accepted}
    return SchedulingInputs(
        calendar=calendar,
        days=[CandidateDay(date, ranking) for _, date, ranking in days],
        participants=list(accepted.values()),
        pending=pending,
        slots=_slot_tuples(owners, dates),
    )


class _Raw(Func):
    """A date or time column as the database gives it, without the per-row converters of SQLite.

    SQLite stores dates and times as ISO text, which its adapter converts row by row in Python (30,000
    rows cost more than the whole sweep): read as text, each distinct value is parsed once. PostgreSQL's
    adapter converts in C and answers date and time objects.
    """

    template = "%(expressions)s"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, Any]:
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS text)", **extra_context)


def _parsed(value: _T | str, kind: type[_T]) -> _T:
    return kind.fromisoformat(value) if isinstance(value, str) else value


def availability_body(*, calendar: Calendar, local_zone: str | None = None) -> dict[str, Any]:
    """The availability grid of a calendar (loaded with its creator) as its JSON body (`AvailabilitySerializer`).

    Two queries whatever the size: the participants, then the days with every slot on them (one outer
    join; a day without slots comes once, with NULLs), unsorted: the sweep sorts what it needs.
    """
    participants = Invitation.objects.filter(calendar=calendar, status=InvitationStatus.ACCEPTED).values_list(
        "invitee_id", "invitee__username"
    )
    owners = {calendar.creator_id: calendar.creator.username, **dict(participants)}
    rows = list(
        Day.objects.filter(calendar=calendar)
        .order_by()
        .values_list(
            "id",
            _Raw("date"),
            "ranking",
            "timeslots__owner_id",
            _Raw("timeslots__start_time"),
            _Raw("timeslots__end_time"),
            "timeslots__preference",
        )
    )
    days: dict[int, CandidateDay] = {}
    for pk, date, ranking, _, _, _, _ in rows:
        if pk not in days:
            days[pk] = CandidateDay(_parsed(date, datetime.date), ranking)
    dates = {pk: day.date for pk, day in days.items()}
    # Times repeat a lot (a few dozen distinct ones in thousands of slots): each is parsed once.
    distinct = {start for _, _, _, _, start, _, _ in rows} | {end for _, _, _, _, _, end, _ in rows}
    times = {value: _parsed(value, datetime.time) for value in distinct if value is not None}
    # Plain tuples in `Slot`'s field order, handed over one by one: 30,000 named tuples kept alive in a list
    # would wake the garbage collector's full pass (plain tuples of plain values are untracked at once).
    slots = (
        (owners[owner_id], dates[pk], times[start], times[end], preference)
        for pk, _, _, owner_id, start, end, preference in rows
        if owner_id in owners  # NULLs for a day without slots; someone no longer a member
    )
    ordered = sorted(days.items(), key=lambda item: (item[1].date, item[0]))
    grid = availability_grid(days=[day for _, day in ordered], members=owners.values(), slots=slots)

    def interval_body(date: datetime.date, interval: GridInterval) -> dict[str, Any]:
        body = interval.as_dict()
        body["local_start"] = in_zone(wall_instant(date, interval.start, calendar.timezone), local_zone)
        body["local_end"] = in_zone(wall_instant(date, interval.end, calendar.timezone), local_zone)
        return body

    return {
        "calendar": calendar.pk,
        "timezone": calendar.timezone,
        "local_timezone": local_zone,
        "members": sorted(owners.values(), key=lambda name: (name.casefold(), name)),
        "days": [
            {
                "day": pk,
                "date": day.date.isoformat(),
                "ranking": day.ranking,
                "intervals": [interval_body(day.date, interval) for interval in found.intervals],
            }
            for (pk, day), found in zip(ordered, grid, strict=True)
        ],
    }


def suggestions_for(*, calendar: Calendar, duration: int, step: int = 15, limit: int = 10) -> SuggestionResult:
    """The best meeting windows of a calendar (loaded with its creator), as GET .../suggestions/ ranks them."""
    inputs = scheduling_inputs(calendar=calendar)
    return suggest_meeting_times(
        time_zone=calendar.timezone,
        days=inputs.days,
        creator=calendar.creator.username,
        participants=inputs.participants,
        pending=inputs.pending,
        slots=inputs.slots,
        duration=duration,
        step=step,
        limit=limit,
    )


def feed_owner(*, token: str) -> Person | None:
    """The user whose feed secret is `token`, or None."""
    feed_token = FeedToken.objects.matching(token).select_related("user").first()
    if feed_token is None or not hmac.compare_digest(feed_token.token, token) or not feed_token.user.is_active:
        return None
    return feed_token.user


def finalized_meetings(
    *, user: Person, limit: int = calendar_models.FEED_MAX_MEETINGS
) -> list[tuple[Calendar, list[Any]]]:
    """Finalized calendars `user` created or takes part in, by date, each with its participants (two queries).

    At most `limit`: the upcoming ones first (from yesterday on, in UTC, so a meeting of today in any zone
    counts), soonest first, then the most recent past ones with the room left.
    """
    upcoming = Q(finalized_date__gte=calendar_models.upcoming_from())
    calendars = list(
        Calendar.objects.member_of(user)
        .filter(finalized_date__isnull=False)
        .select_related("creator")
        .order_by(
            Case(When(upcoming, then=Value(0)), default=Value(1)),
            # Upcoming: soonest first; past: latest first (each pair is NULL for the other group).
            Case(When(upcoming, then=F("finalized_date"))).asc(),
            Case(When(upcoming, then=F("finalized_start_time"))).asc(),
            Case(When(~upcoming, then=F("finalized_date"))).desc(),
            Case(When(~upcoming, then=F("finalized_start_time"))).desc(),
            "id",
        )[:limit]
    )
    calendars.sort(key=lambda c: (c.finalized_date, c.finalized_start_time, c.pk))
    found = participants_by_calendar(calendar.pk for calendar in calendars)
    return [(calendar, found[calendar.pk]) for calendar in calendars]

"""The lean read path: calendar and timeslot bodies built from value rows into plain dicts.

The same JSON as `CalendarSerializer` and `TimeSlotSerializer` (tests/test_performance.py holds
them equal, byte for byte) without model instances or nested serializers, which made a full page
of the list cost six times the CPU (docs/performance.md). The serializers stay the schema and the
write path.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, QuerySet, Subquery

from calendars.models import Calendar, Day, Invitation, InvitationStatus, TimeSlot
from calendars.scheduling import place_meeting

User = get_user_model()

# One calendar row; `calendar_bodies` reads the positions in this order.
CALENDAR_COLUMNS = (
    "id",
    "creator_name",
    "title",
    "description",
    "timezone",
    "finalized_date",
    "finalized_start_time",
    "finalized_end_time",
    "respond_by",
    "creator_id",
)
TIMESLOT_COLUMNS = ("id", "owner__username", "start_time", "end_time", "preference")


def instant(value: datetime.datetime | None) -> str | None:
    """An aware datetime as DRF's DateTimeField renders it: in UTC, `Z` for the offset."""
    if value is None:
        return None
    text = value.astimezone(datetime.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def clock(value: datetime.time) -> str:
    """`HH:MM:SS`, exactly what `ClockTimeField` renders (fractions cut, not rounded)."""
    return value.isoformat(timespec="seconds")


def calendar_rows(queryset: QuerySet[Calendar], *extra: str) -> QuerySet:
    """The calendar columns of `queryset` (then `extra` ones) as tuples.

    The creator's username comes from a subquery, not a join: the page's count then needs no
    join at all, and PostgreSQL, which cannot tell how few calendars pass `member_of`, does
    not hash the whole user table to name ten creators (1.4 ms of 1.9 at 10,000 users).
    """
    creator_name = Subquery(User.objects.filter(pk=OuterRef("creator_id")).values("username"))
    return queryset.annotate(creator_name=creator_name).values_list(*CALENDAR_COLUMNS, *extra)


def timeslot_rows(queryset: QuerySet[TimeSlot]) -> QuerySet:
    """The timeslot columns of `queryset` as tuples, the owner's username joined in SQL."""
    return queryset.values_list(*TIMESLOT_COLUMNS)


def timeslot_bodies(rows: Iterable[tuple]) -> list[dict[str, Any]]:
    """`TimeSlotSerializer(many=True).data` for rows of `timeslot_rows`."""
    return [
        {
            "id": pk,
            "owner_username": owner,
            "start_time": clock(start),
            "end_time": clock(end),
            "preference": preference,
        }
        for pk, owner, start, end, preference in rows
    ]


def _finalized(time_zone: str, date: datetime.date, start: datetime.time, end: datetime.time) -> dict[str, Any]:
    starts_at, ends_at = place_meeting(time_zone=time_zone, day=date, start=start, end=end)
    return {
        "date": date.isoformat(),
        "start_time": clock(start),
        "end_time": clock(end),
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
    }


def calendar_bodies(rows: Sequence[tuple]) -> list[dict[str, Any]]:
    """`CalendarSerializer(many=True).data` for rows of `calendar_rows` (extra columns ignored), in their order.

    Two more queries (days with their timeslots, the invitations), whatever the number of calendars;
    none without rows.
    """
    if not rows:
        return []
    calendar_ids = [row[0] for row in rows]
    creators = {row[0]: row[len(CALENDAR_COLUMNS) - 1] for row in rows}
    days: dict[int, list[dict[str, Any]]] = {pk: [] for pk in calendar_ids}
    # Days with their slots in one query (a day without slots comes once, with NULLs): days by
    # date, a day's slots by start then id, as the calendar has always listed them (the day's
    # own timeslot list orders by start, end, id). Times repeat a lot: each is formatted once.
    day_rows = (
        Day.objects.filter(calendar_id__in=calendar_ids)
        .order_by("date", "id", "timeslots__start_time", "timeslots__id")
        .values_list(
            "calendar_id",
            "id",
            "date",
            "ranking",
            *(f"timeslots__{c}" for c in TIMESLOT_COLUMNS),
            "timeslots__owner_id",
        )
    )
    clocks: dict[datetime.time, str] = {}
    day_id = None
    slots: list[dict[str, Any]] = []
    owners: dict[int, set[int]] = {pk: set() for pk in calendar_ids}
    for calendar_id, pk, date, ranking, slot_id, owner, start, end, preference, owner_id in day_rows:
        owners[calendar_id].add(owner_id)
        if pk != day_id:
            day_id, slots = pk, []
            days[calendar_id].append({"id": pk, "date": date.isoformat(), "ranking": ranking, "timeslots": slots})
        if slot_id is not None:
            start_text = clocks.get(start) or clocks.setdefault(start, clock(start))
            end_text = clocks.get(end) or clocks.setdefault(end, clock(end))
            slots.append(
                {
                    "id": slot_id,
                    "owner_username": owner,
                    "start_time": start_text,
                    "end_time": end_text,
                    "preference": preference,
                }
            )
    # Every invitation of the page's calendars, in one query: the participants, and the answers counted.
    participants: dict[int, list[int]] = {pk: [] for pk in calendar_ids}
    answers: dict[int, dict[str, int]] = {pk: dict.fromkeys(InvitationStatus.values, 0) for pk in calendar_ids}
    invitations = (
        Invitation.objects.filter(calendar_id__in=calendar_ids)
        .order_by("invitee_id")
        .values_list("calendar_id", "invitee_id", "status")
    )
    for calendar_id, invitee_id, status in invitations:
        answers[calendar_id][status] += 1
        if status == InvitationStatus.ACCEPTED:
            participants[calendar_id].append(invitee_id)
    bodies = []
    for row in rows:
        pk, creator, title, description, time_zone, date, start, end, respond_by, _ = row[: len(CALENDAR_COLUMNS)]
        counts = answers[pk]
        bodies.append(
            {
                "id": pk,
                "creator_username": creator,
                "title": title,
                "description": description,
                "timezone": time_zone,
                "respond_by": instant(respond_by),
                "responses": {
                    "invited": sum(counts.values()),
                    "accepted": counts[InvitationStatus.ACCEPTED],
                    "pending": counts[InvitationStatus.PENDING],
                    "rejected": counts[InvitationStatus.REJECTED],
                    "with_availability": len(owners[pk] & {creators[pk], *participants[pk]}),
                },
                "days": days[pk],
                "participants": participants[pk],
                "finalized": None if date is None else _finalized(time_zone, date, start, end),
            }
        )
    return bodies

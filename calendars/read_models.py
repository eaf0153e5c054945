"""The lean read path: calendar and timeslot bodies built from rows of SQL written once, into plain dicts.

The same JSON as `CalendarSerializer` and `TimeSlotSerializer` (tests/test_performance.py holds them
equal, byte for byte; tests/test_bench_reference.py holds the one-query reference equal to the list)
without model instances or nested serializers, and without the ORM building its querysets anew on every
request: compiling five querysets was 4.4 ms of the list's 9.7 ms of CPU (docs/performance.md). The
statements are below, in both dialects where they differ, with their parameters; the serializers stay the
schema and the write path.

Dates and times come out of the database as the text the JSON shows, never as Python objects: PostgreSQL
writes them with `to_char`, SQLite stores them as ISO text already (a column cast to text skips the
converter Python's sqlite3 would run on every row). A slot's `HH:MM:SS` is the first eight characters of
the stored time, which cuts fractions of a second as `ClockTimeField` does. Only the few values that need
arithmetic (the finalized meeting, the deadline) come as objects.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery

from calendars.models import Calendar, InvitationStatus
from calendars.scheduling import place_meeting
from oneonone.renderers import RawJSON

# One calendar row; `calendar_bodies` reads the positions in this order (extra columns may follow).
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
ACCEPTED = InvitationStatus.ACCEPTED.value
PENDING = InvitationStatus.PENDING.value

# Who takes part in a calendar (`CalendarQuerySet.member_of`) and who sees it (`visible_to`), as SQL.
# The list's test is a UNION ALL of two index look-ups: an OR of the two made PostgreSQL read every calendar
# (it guessed half of them were the user's), 61-133 ms at 15,000 calendars against 0.5-0.9 ms; the one-calendar
# reads keep the OR, which costs nothing next to their `c.id =` (docs/performance.md, second round).
_MEMBER = """c.id IN (
    SELECT mine.id FROM calendars_calendar mine WHERE mine.creator_id = %(user)s
    UNION ALL
    SELECT i.calendar_id FROM invitations_invitation i WHERE i.invitee_id = %(user)s AND i.status = %(accepted)s)"""
_VISIBLE = """(c.creator_id = %(user)s OR EXISTS (
    SELECT 1 FROM invitations_invitation i
    WHERE i.calendar_id = c.id AND i.invitee_id = %(user)s AND i.status IN (%(accepted)s, %(pending)s)))"""
_CALENDAR = """c.id, (SELECT u.username FROM accounts_user u WHERE u.id = c.creator_id), c.title, c.description,
    c.timezone, c.finalized_date, c.finalized_start_time, c.finalized_end_time, c.respond_by, c.creator_id, c.version"""

# The ids and versions of all the user's calendars, newest first: what the list's ETag is made of.
# (The f-strings below join this module's own constants: no input is ever part of the text of a statement.)
MEMBER_VERSIONS_SQL = f"""
SELECT c.id, c.version FROM calendars_calendar c WHERE {_MEMBER} ORDER BY c.created_at DESC, c.id DESC
"""  # noqa: S608
# The same ids and versions, and the columns of the calendars of one page (NULL on the others): the page,
# its count and its ETag in one query.
LIST_PAGE_SQL = f"""
SELECT m.id, m.version, c.id IS NOT NULL, {_CALENDAR}
FROM (
    SELECT c.id, c.version, ROW_NUMBER() OVER (ORDER BY c.created_at DESC, c.id DESC) AS n
    FROM calendars_calendar c
    WHERE {_MEMBER}
) m
LEFT JOIN calendars_calendar c ON c.id = m.id AND m.n > %(offset)s AND m.n <= %(end)s
ORDER BY m.n
"""  # noqa: S608
DETAIL_SQL = f"SELECT {_CALENDAR} FROM calendars_calendar c WHERE c.id = %(calendar)s AND {_VISIBLE}"  # noqa: S608
ANY_DETAIL_SQL = f"SELECT {_CALENDAR} FROM calendars_calendar c WHERE c.id = %(calendar)s"  # noqa: S608
# A day of a calendar the user may see (`access.day_for` for a read) and the calendar's version.
VISIBLE_DAY_SQL = f"""
SELECT d.id, c.version FROM calendars_day d JOIN calendars_calendar c ON c.id = d.calendar_id
WHERE d.id = %(day)s AND c.id = %(calendar)s AND {_VISIBLE}
"""  # noqa: S608


@dataclass(frozen=True)
class _Dialect:
    date: Callable[[str], str]  # a date column as `YYYY-MM-DD` text
    clock: Callable[[str], str]  # a time column as `HH:MM:SS` text, fractions cut
    ids: str  # the test `x IN (the ids)`, as the parameter `ids` gives them
    id_list: Callable[[Sequence[int]], Any]  # the ids as that parameter


_POSTGRESQL = _Dialect(
    date=lambda column: f"to_char({column}, 'YYYY-MM-DD')",
    clock=lambda column: f"to_char({column}, 'HH24:MI:SS')",
    ids="= ANY(%(ids)s)",
    id_list=list,
)
_SQLITE = _Dialect(
    date=lambda column: f"CAST({column} AS text)",
    clock=lambda column: f"substr({column}, 1, 8)",
    ids="IN (SELECT value FROM json_each(%(ids)s))",
    id_list=lambda ids: "[" + ",".join(str(int(pk)) for pk in ids) + "]",
)


def dialect(vendor: str | None = None) -> _Dialect:
    """The SQL spelling of the database in use (or of `vendor`): PostgreSQL's, or SQLite's."""
    return _POSTGRESQL if (vendor or connection.vendor) == "postgresql" else _SQLITE


@functools.cache
def _statements(vendor: str) -> dict[str, str]:
    sql = dialect(vendor)
    statements = {
        # Days with their slots (a day without slots comes once, with NULLs): days by date, a day's slots by
        # start then id, as the calendar has always listed them (the day's own list orders by start, end, id).
        "days": f"""
SELECT d.calendar_id, d.id, {sql.date("d.date")}, d.ranking, t.id, u.username, {sql.clock("t.start_time")},
    {sql.clock("t.end_time")}, t.preference, t.owner_id
FROM calendars_day d
LEFT JOIN calendars_timeslot t ON t.day_id = d.id
LEFT JOIN accounts_user u ON u.id = t.owner_id
WHERE d.calendar_id {sql.ids}
ORDER BY d.date, d.id, t.start_time, t.id""",  # noqa: S608
        "invitations": f"""
SELECT calendar_id, invitee_id, status FROM invitations_invitation
WHERE calendar_id {sql.ids} ORDER BY invitee_id""",  # noqa: S608
        # A slot of a day of a calendar the user may see (`access.day_for`, then the slot of that day).
        "slot": f"""
SELECT t.id, u.username, {sql.clock("t.start_time")}, {sql.clock("t.end_time")}, t.preference
FROM calendars_timeslot t
JOIN accounts_user u ON u.id = t.owner_id
JOIN calendars_day d ON d.id = t.day_id
JOIN calendars_calendar c ON c.id = d.calendar_id
WHERE t.id = %(slot)s AND d.id = %(day)s AND c.id = %(calendar)s AND {_VISIBLE}""",  # noqa: S608
        # One page of a day's slots and the number of them all (a window over the whole day, before LIMIT).
        "day_slots": f"""
SELECT t.id, u.username, {sql.clock("t.start_time")}, {sql.clock("t.end_time")}, t.preference, COUNT(*) OVER ()
FROM calendars_timeslot t JOIN accounts_user u ON u.id = t.owner_id
WHERE t.day_id = %(day)s
ORDER BY t.start_time, t.end_time, t.id
LIMIT %(limit)s OFFSET %(offset)s""",  # noqa: S608
    }
    if vendor == "postgresql":
        # PostgreSQL writes each day's timeslots as the JSON text the answer shows (byte for byte what the
        # renderer writes: compact, `to_json` escapes a string as Python's json does), and lists the owners:
        # one row a day instead of one a slot, and no dict made per slot (docs/performance.md).
        statements["days"] = f"""
SELECT d.calendar_id, d.id, {sql.date("d.date")}, d.ranking, s.slots, s.owners
FROM calendars_day d
LEFT JOIN LATERAL (
    SELECT '[' || string_agg(
            '{{"id":' || t.id || ',"owner_username":' || to_json(u.username)::text
            || ',"start_time":"' || {sql.clock("t.start_time")} || '","end_time":"' || {sql.clock("t.end_time")}
            || '","preference":' || to_json(t.preference)::text || '}}',
            ',' ORDER BY t.start_time, t.id
        ) || ']' AS slots,
        array_agg(DISTINCT t.owner_id) AS owners
    FROM calendars_timeslot t JOIN accounts_user u ON u.id = t.owner_id
    WHERE t.day_id = d.id
) s ON true
WHERE d.calendar_id {sql.ids}
ORDER BY d.date, d.id"""  # noqa: S608
    return statements


def _rows(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _user_params(user_id: int) -> dict[str, Any]:
    return {"user": user_id, "accepted": ACCEPTED, "pending": PENDING}


# Reading ------------------------------------------------------------------------------------------------------


def member_versions(user_id: int) -> list[tuple[int, int]]:
    """(id, version) of every calendar the user created or takes part in, newest first (one query)."""
    return _rows(MEMBER_VERSIONS_SQL, _user_params(user_id))


def calendar_page(user_id: int, *, limit: int, offset: int) -> tuple[list[tuple], int, list[tuple[int, int]]]:
    """The rows of one page of the user's calendars, how many there are, and all their (id, version); one query."""
    rows = _rows(LIST_PAGE_SQL, {**_user_params(user_id), "offset": offset, "end": offset + limit})
    return [row[3:] for row in rows if row[2]], len(rows), [(row[0], row[1]) for row in rows]


def calendar_row(calendar_id: int, user_id: int | None = None) -> tuple | None:
    """The row of a calendar the user may see (any calendar without a user), or None; one query."""
    if user_id is None:
        found = _rows(ANY_DETAIL_SQL, {"calendar": calendar_id})
    else:
        found = _rows(DETAIL_SQL, {"calendar": calendar_id, **_user_params(user_id)})
    return found[0] if found else None


def visible_day(calendar_id: int, day_id: int, user_id: int) -> tuple[int, int] | None:
    """(day id, calendar version) of a day of a calendar the user may see, else None; one query."""
    found = _rows(VISIBLE_DAY_SQL, {"day": day_id, "calendar": calendar_id, **_user_params(user_id)})
    return found[0] if found else None


def visible_slot(calendar_id: int, day_id: int, slot_id: int, user_id: int) -> tuple | None:
    """(id, owner, start, end, preference) of a slot of a day of a calendar the user may see, else None; one query."""
    found = _rows(
        _statements(connection.vendor)["slot"],
        {"slot": slot_id, "day": day_id, "calendar": calendar_id, **_user_params(user_id)},
    )
    return found[0] if found else None


def day_slot_page(day_id: int, *, limit: int, offset: int) -> tuple[list[tuple], int]:
    """One page of a day's slots as (id, owner, start, end, preference) and the number of them all; one query.

    The count comes with the rows: a page past the end has none, and then the count is 0 (the paginator answers
    404 for such a page before it would show it).
    """
    rows = _rows(_statements(connection.vendor)["day_slots"], {"day": day_id, "limit": limit, "offset": offset})
    return [row[:5] for row in rows], rows[0][5] if rows else 0


def calendar_rows(queryset: QuerySet[Calendar], *extra: str) -> QuerySet:
    """The calendar columns of `queryset` (then `extra` ones) as tuples, through the ORM (the account export)."""
    creator_name = Subquery(get_user_model().objects.filter(pk=OuterRef("creator_id")).values("username"))
    return queryset.annotate(creator_name=creator_name).values_list(*CALENDAR_COLUMNS, *extra)


# Bodies -------------------------------------------------------------------------------------------------------


def instant(value: datetime.datetime | None) -> str | None:
    """An instant as DRF's DateTimeField renders it: in UTC, `Z` for the offset (naive is UTC: SQLite's raw rows)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    text = value.astimezone(datetime.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def clock(value: datetime.time) -> str:
    """`HH:MM:SS`, exactly what `ClockTimeField` renders (fractions cut, not rounded)."""
    return value.isoformat(timespec="seconds")


def timeslot_bodies(rows: Iterable[tuple]) -> list[dict[str, Any]]:
    """`TimeSlotSerializer(many=True).data` for rows of `day_slot_page` (times already as text)."""
    return [
        {"id": pk, "owner_username": owner, "start_time": start, "end_time": end, "preference": preference}
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
    """`CalendarSerializer(many=True).data` for calendar rows (`CALENDAR_COLUMNS` first), in their order.

    Two more queries (days with their timeslots, the invitations), whatever the number of calendars;
    none without rows.
    """
    if not rows:
        return []
    statements = _statements(connection.vendor)
    calendar_ids = [row[0] for row in rows]
    ids = dialect().id_list(calendar_ids)
    days: dict[int, list[dict[str, Any]]] = {pk: [] for pk in calendar_ids}
    owners: dict[int, set[int]] = {pk: set() for pk in calendar_ids}
    if connection.vendor == "postgresql":
        # A row a day: its timeslots as JSON text, and who owns them.
        for calendar_id, pk, date, ranking, slots_json, owner_ids in _rows(statements["days"], {"ids": ids}):
            timeslots: RawJSON | list[Any] = RawJSON(slots_json) if slots_json else []
            days[calendar_id].append({"id": pk, "date": date, "ranking": ranking, "timeslots": timeslots})
            if owner_ids:
                owners[calendar_id].update(owner_ids)
    else:
        day_id = None
        slots: list[dict[str, Any]] = []
        for calendar_id, pk, date, ranking, slot_id, owner, start, end, preference, owner_id in _rows(
            statements["days"], {"ids": ids}
        ):
            if pk != day_id:
                day_id, slots = pk, []
                days[calendar_id].append({"id": pk, "date": date, "ranking": ranking, "timeslots": slots})
            if slot_id is not None:
                owners[calendar_id].add(owner_id)
                slots.append(
                    {
                        "id": slot_id,
                        "owner_username": owner,
                        "start_time": start,
                        "end_time": end,
                        "preference": preference,
                    }
                )
    # Every invitation of the page's calendars, in one query: the participants, and the answers counted.
    participants: dict[int, list[int]] = {pk: [] for pk in calendar_ids}
    answers: dict[int, dict[str, int]] = {pk: dict.fromkeys(InvitationStatus.values, 0) for pk in calendar_ids}
    for calendar_id, invitee_id, status in _rows(statements["invitations"], {"ids": ids}):
        answers[calendar_id][status] += 1
        if status == ACCEPTED:
            participants[calendar_id].append(invitee_id)
    bodies = []
    for row in rows:
        pk, creator, title, description, time_zone, date, start, end, respond_by, creator_id = row[:10]
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
                    "accepted": counts[ACCEPTED],
                    "pending": counts[PENDING],
                    "rejected": counts[InvitationStatus.REJECTED],
                    "with_availability": len(owners[pk] & {creator_id, *participants[pk]}),
                },
                "days": days[pk],
                "participants": participants[pk],
                "finalized": None if date is None else _finalized(time_zone, date, start, end),
            }
        )
    return bodies

"""iCalendar (RFC 5545) for finalized meetings: one calendar's event, email invitations and a user's feed.

Built with the `icalendar` library; see docs/scheduling.md for the fields.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from icalendar import STATUS, Event, Timezone, vCalAddress
from icalendar import Calendar as ICalendar

from calendars.models import Calendar

if TYPE_CHECKING:
    from accounts.models import User

PRODID = "-//OneOnOne//OneOnOne API 1.0//EN"
CONTENT_TYPE = "text/calendar"
FEED_REFRESH = datetime.timedelta(hours=1)
# Users without an email address still need a calendar address; `.invalid` never resolves (RFC 2606).
PLACEHOLDER_DOMAIN = "users.invalid"
# The control characters RFC 5545 (3.3.11, TEXT) forbids: every C0 one but tab, CR and LF (which the library
# escapes as `\n`), and DEL. The API refuses them in titles and descriptions; rows stored before lose them here.
FORBIDDEN_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def ics_text(value: str) -> str:
    """User text made safe for a TEXT property: the control characters RFC 5545 forbids are left out."""
    return FORBIDDEN_IN_TEXT.sub("", value)


def uid_domain() -> str:
    # Part of every UID: change it and calendar apps see different events.
    return getattr(settings, "ICS_UID_DOMAIN", "oneonone.local")


def event_uid(calendar: Calendar) -> str:
    """Stable for the life of the calendar, whatever is finalized or undone."""
    return f"calendar-{calendar.pk}@{uid_domain()}"


def calendar_address(user: User, *, role: str | None = None) -> vCalAddress:
    """`mailto:` the user's email (a placeholder without one), with CN = username."""
    email = user.email or f"{quote(user.username, safe='')}@{PLACEHOLDER_DOMAIN}"
    return vCalAddress.new(email, cn=user.username, role=role)


def _ics_datetime(moment: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """The moment with the calendar's TZID, or in UTC when its wall time cannot say which one it is.

    A wall time with a TZID means its first occurrence (RFC 5545 3.3.5), so the second pass
    through a repeated hour (clocks going back) is written in UTC instead.
    """
    wall = moment.replace(tzinfo=None)
    try:
        if wall.replace(tzinfo=zone, fold=0).astimezone(datetime.UTC) == moment.astimezone(datetime.UTC):
            return wall.replace(tzinfo=zone)
        return moment.astimezone(datetime.UTC)
    except OverflowError:  # the first or last day a date can be (stored before the window of dates)
        return wall.replace(tzinfo=zone)


def meeting_event(
    calendar: Calendar,
    *,
    participants: Sequence[User],
    cancelled: bool = False,
    stamp: datetime.datetime | None = None,
) -> Event:
    """The VEVENT of the calendar's finalized meeting (or its cancellation).

    `calendar.creator` is the organizer, every participant an attendee. SEQUENCE follows
    `Calendar.schedule_revision`, so each finalize and each undo supersedes what came before.
    """
    starts_at, ends_at = calendar.meeting_window()
    zone = ZoneInfo(calendar.timezone)
    event = Event.new(
        uid=event_uid(calendar),
        stamp=(stamp or calendar.updated_at).astimezone(datetime.UTC),
        last_modified=calendar.updated_at.astimezone(datetime.UTC),
        start=_ics_datetime(starts_at, zone),
        end=_ics_datetime(ends_at, zone),
        summary=ics_text(calendar.title),
        description=ics_text(calendar.description) or None,
        organizer=calendar_address(calendar.creator),
        attendees=[calendar_address(user, role="REQ-PARTICIPANT") for user in participants],
        sequence=calendar.ics_sequence,
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
    )
    return event


def _envelope(events: Iterable[Event], *, method: str | None, name: str | None = None) -> ICalendar:
    ical = ICalendar()
    ical.add("prodid", PRODID)
    ical.add("version", "2.0")
    if method:
        ical.method = method
    if name:
        ical.calendar_name = name
    events = list(events)
    for event in events:
        ical.add_component(event)
    # One VTIMEZONE per zone used, with its rules for the years the events fall in and no others (the
    # library's default stops at 2038; every year from the first event to the last let a feed with a
    # meeting in year 1 and one in 9999 take 30 s). The work grows with the events, which a feed caps.
    years: dict[str, set[int]] = defaultdict(set)
    for event in events:
        for moment in (event.start, event.end):
            if isinstance(moment, datetime.datetime) and isinstance(moment.tzinfo, ZoneInfo):
                years[moment.tzinfo.key].add(moment.year)
    for tzid in sorted(ical.get_missing_tzids() & years.keys()):  # UTC is written as `Z`, without one
        vtimezone = zone_rules(tzid, years[tzid])
        if vtimezone is not None:
            ical.subcomponents.insert(len(ical.timezones), vtimezone)
    return ical


def _runs(years: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive years as (first, last) runs: {2030, 2031, 2039} gives [(2030, 2031), (2039, 2039)]."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and year == runs[-1][1] + 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    return [(first, last) for first, last in runs]


def zone_rules(tzid: str, years: Iterable[int]) -> Timezone | None:
    """The VTIMEZONE of `tzid` with its observances from 1 January of each run of `years` to the next.

    Each run starts with the observance in force on its 1 January; between runs nothing is said, since
    no event falls there. None when no rule could be computed (an unknown zone, or only the first or
    last year a date can be, where the library's search runs past datetime's range).
    """
    vtimezone = None
    for first, last in _runs(years):
        computed = _rules_of_years(tzid, first, last)
        if computed is None:
            continue
        # A VTIMEZONE's text makes a Timezone; icalendar's signature says only Component.
        part = cast(Timezone, Timezone.from_ical(computed))
        if vtimezone is None:
            vtimezone = part
            vtimezone.pop("COMMENT", None)  # "only works from ... to ...": the runs together say more
        else:
            for observance in part.subcomponents:
                vtimezone.add_component(observance)
    return vtimezone


@functools.lru_cache(maxsize=2048)
def _rules_of_years(tzid: str, first: int, last: int) -> bytes | None:
    """The VTIMEZONE of `tzid` from 1 January `first` to 1 January after `last`, as iCalendar text, or None.

    Cached (zone rules do not change while the process runs): the library's search for the first change
    walks from the start to the next one, which for a year before a zone's first rule (year 2, say) is
    centuries of steps, some 8 ms a zone.
    """
    try:
        end = datetime.date(last + 1, 1, 1) if last < datetime.MAXYEAR else datetime.date(last, 12, 1)
        return Timezone.from_tzinfo(ZoneInfo(tzid), tzid, datetime.date(first, 1, 1), end).to_ical()
    except (OverflowError, ValueError, KeyError):
        return None


def calendar_ics(calendar: Calendar, *, participants: Sequence[User], method: str = "PUBLISH") -> bytes:
    """A VCALENDAR with the finalized meeting: `PUBLISH` for a download, `REQUEST` for an email invitation."""
    event = meeting_event(calendar, participants=participants)
    return _envelope([event], method=method).to_ical()


def cancellation_ics(calendar: Calendar, *, participants: Sequence[User]) -> bytes:
    """`METHOD:CANCEL` for a meeting being undone; `calendar` still holds the time being cancelled."""
    event = meeting_event(calendar, participants=participants, cancelled=True, stamp=timezone.now())
    return _envelope([event], method="CANCEL").to_ical()


def feed_ics(*, owner: User, calendars: Iterable[tuple[Calendar, Sequence[User]]]) -> bytes:
    """A user's subscription feed: one VEVENT per finalized meeting, no METHOD (a plain snapshot)."""
    events = [meeting_event(calendar, participants=participants) for calendar, participants in calendars]
    ical = _envelope(events, method=None, name=f"OneOnOne: {owner.username}")
    ical.refresh_interval = FEED_REFRESH
    ical.add("x-published-ttl", FEED_REFRESH)
    return ical.to_ical()

"""Benchmark of the public iCalendar feed under the attack of issue 14: a user taking part in meetings in 60
time zones, half in year 2 and half in year 9998 (rows stored before the window of dates existed).

Before the fix the feed computed every zone's rules for every year from the first meeting to the last
(ten thousand years, 60 times): 31 s, and gunicorn killed the worker. Now it holds at most
FEED_MAX_MEETINGS meetings and each zone's rules for the years of its meetings only. Printed: the
feed's time through Django's test Client on a temporary SQLite database, what it holds, and the old
envelope's time for a few of the zones (the rest is proportional).

Run: .venv/bin/python bench/bench_feed.py [--zones 60 --per-zone 2 --runs 5 --old-zones 2]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time as clock
import warnings
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _setup_django(database: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "oneonone.settings"
    unthrottled = "100000/min"
    os.environ["FEED_TOKEN_THROTTLE_RATE"] = os.environ["FEED_ADDRESS_THROTTLE_RATE"] = unthrottled
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    warnings.filterwarnings("ignore", message="No directory at")


def zones(count: int) -> list[str]:
    return sorted(
        z
        for z in zoneinfo.available_timezones()
        if z.startswith(("Europe/", "America/", "Australia/")) and z.count("/") == 1
    )[:count]


def fill(zone_names: list[str], per_zone: int):
    from django.contrib.auth import get_user_model

    from calendars.models import Calendar, Invitation
    from calendars.services import feed_token_get

    users = get_user_model().objects
    owner, host = users.create(username="owner"), users.create(username="host")
    years = [2, 9998]
    for zone in zone_names:
        for n in range(per_zone):
            calendar = Calendar.objects.create(
                creator=host,
                title=f"{zone} {n}",
                timezone=zone,
                finalized_date=datetime.date(years[n % 2], 3 + n // 2, 1),
                finalized_start_time=datetime.time(9),
                finalized_end_time=datetime.time(9, 30),
                finalized_at=datetime.datetime(2029, 1, 1, tzinfo=datetime.UTC),
                schedule_revision=1,
            )
            Invitation.objects.create(calendar=calendar, invitee=owner, inviter=host, status="accepted")
    token = feed_token_get(user=owner)
    return f"/calendars/feed/{token.token}.ics"


def old_envelope_seconds(zone_names: list[str]) -> float:
    """The envelope as it was: every zone's rules from the first meeting's year - 1 to the last's + 1."""
    from icalendar import Calendar as ICalendar
    from icalendar import Event

    ical = ICalendar()
    for zone in zone_names:
        for year in (2, 9998):
            event = Event()
            event.start = datetime.datetime(year, 3, 1, 9, tzinfo=zoneinfo.ZoneInfo(zone))
            ical.add_component(event)
    started = clock.perf_counter()
    # As the old code did (the year before the first to the one after the last), short of the last day,
    # where the library's search runs past datetime's range.
    ical.add_missing_timezones(first_date=datetime.date(1, 1, 1), last_date=datetime.date(9999, 1, 1))
    return clock.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=60)
    parser.add_argument("--per-zone", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--old-zones", type=int, default=2, help="zones to time the old envelope on (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        _setup_django(Path(folder) / "bench.sqlite3")
        from django.test import Client
        from icalendar import Calendar as ICalendar

        names = zones(args.zones)
        url = fill(names, args.per_zone)
        client = Client()
        timings = []
        for _ in range(args.runs + 1):
            started = clock.perf_counter()
            response = client.get(url)
            timings.append(clock.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"the feed answered {response.status_code}: {response.content[:300]!r}")
        first, timings = timings[0], timings[1:]  # the first computes the zones' rules (cached after)
        ical = ICalendar.from_ical(response.content)
        observances = sum(len(tz.subcomponents) for tz in ical.timezones)
        print(
            f"feed (GET, SQLite): {len(names) * args.per_zone} meetings in {len(names)} zones, years 2 and 9998: "
            f"first {first * 1000:.0f} ms, then median {statistics.median(timings) * 1000:.0f} ms, "
            f"max {max(timings) * 1000:.0f} ms over {args.runs} runs; {len(ical.events)} events, "
            f"{len(ical.timezones)} VTIMEZONE, {observances} STANDARD/DAYLIGHT, {len(response.content) / 1024:.0f} KiB"
        )
        if args.old_zones:
            seconds = old_envelope_seconds(names[: args.old_zones])
            print(
                f"old envelope (every year 1-9999) for {args.old_zones} zones: {seconds:.1f} s, "
                f"so about {seconds / args.old_zones * len(names):.0f} s for {len(names)}"
            )


if __name__ == "__main__":
    main()

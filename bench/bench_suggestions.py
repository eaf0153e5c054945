"""Benchmark of the best meeting times and the availability grid: the pure computations (calendars.scheduling),
then the whole endpoints.

The endpoint figures are `GET /calendars/{id}/suggestions/` and `GET /calendars/{id}/availability/` through
Django's test Client (JWT auth, the queries, the computation, the JSON) against a temporary SQLite database
filled with the same data. A third of the slots are "if need be".

Run: .venv/bin/python bench/bench_suggestions.py [--participants 100 --days 30 --slots 10 --runs 5 --no-endpoint]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time as clock
import warnings
from datetime import date, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calendars.scheduling import CandidateDay, Preference, Slot, availability_grid, suggest_meeting_times


def build_inputs(*, participants: int, days: int, slots: int, seed: int = 6) -> dict:
    """A creator and `participants` accepted invitees, each with `slots` non-overlapping slots on every day."""
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    first = date(2030, 3, 18)  # the span covers Europe/Berlin's spring-forward day
    candidate_days = [CandidateDay(first + timedelta(days=i), ranking=i + 1) for i in range(days)]
    people = ["creator", *(f"user{i:03d}" for i in range(participants))]
    all_slots = []
    quarters = range(7 * 4, 22 * 4 + 1)  # slot boundaries on the quarter hour, 07:00 to 22:00
    for day in candidate_days:
        for person in people:
            bounds = sorted(rng.sample(quarters, 2 * slots))
            for start, end in zip(bounds[::2], bounds[1::2], strict=True):
                preference = Preference.IF_NEED_BE if rng.random() < 1 / 3 else Preference.YES
                all_slots.append(
                    Slot(person, day.date, time(*divmod(start * 15, 60)), time(*divmod(end * 15, 60)), preference)
                )
    return {
        "time_zone": "Europe/Berlin",
        "days": candidate_days,
        "creator": people[0],
        "participants": people[1:],
        "pending": [f"pending{i}" for i in range(5)],
        "slots": all_slots,
    }


def median_seconds(inputs: dict, *, runs: int, **params) -> tuple[float, int]:
    timings = []
    for _ in range(runs):
        started = clock.perf_counter()
        result = suggest_meeting_times(**inputs, **params)
        timings.append(clock.perf_counter() - started)
    return statistics.median(timings), len(result.suggestions)


def grid_seconds(inputs: dict, *, runs: int) -> tuple[float, float, int]:
    """Median and best seconds of the availability grid's computation, and the intervals it found."""
    members = [inputs["creator"], *inputs["participants"]]
    timings = []
    for _ in range(runs):
        started = clock.perf_counter()
        grid = availability_grid(days=inputs["days"], members=members, slots=inputs["slots"])
        timings.append(clock.perf_counter() - started)
    return statistics.median(timings), min(timings), sum(len(day.intervals) for day in grid)


def _fill_database(inputs: dict) -> tuple[int, object]:
    """The benchmark's calendar in the database: creator, participants, pending invitees, days and slots."""
    from django.contrib.auth import get_user_model

    from calendars.models import Calendar, Day, Invitation, TimeSlot

    user_model = get_user_model()
    names = [inputs["creator"], *inputs["participants"], *inputs["pending"]]
    user_model.objects.bulk_create([user_model(username=name, email=f"{name}@example.com") for name in names])
    users = {user.username: user for user in user_model.objects.filter(username__in=names)}
    creator = users[inputs["creator"]]
    calendar = Calendar.objects.create(creator=creator, title="Benchmark", timezone=inputs["time_zone"])
    Day.objects.bulk_create([Day(calendar=calendar, date=d.date, ranking=d.ranking) for d in inputs["days"]])
    days = dict(Day.objects.filter(calendar=calendar).values_list("date", "id"))
    Invitation.objects.bulk_create(
        [
            Invitation(calendar=calendar, invitee=users[n], inviter=creator, status="accepted")
            for n in inputs["participants"]
        ]
        + [
            Invitation(calendar=calendar, invitee=users[n], inviter=creator, status="pending")
            for n in inputs["pending"]
        ]
    )
    TimeSlot.objects.bulk_create(
        [
            TimeSlot(
                day_id=days[s.date], owner=users[s.owner], start_time=s.start, end_time=s.end, preference=s.preference
            )
            for s in inputs["slots"]
        ],
        batch_size=5000,
    )
    return calendar.pk, creator


def _get(client, url: str, params: dict):
    response = client.get(url, params)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
    return response


def endpoint_seconds(client, url: str, *, runs: int, params: dict) -> tuple[list[float], int, object]:
    """Seconds of each run of the endpoint through Django's test Client, the queries of one request, its answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _get(client, url, params)  # warm up: imports, zone data, connection
    timings = []
    for _ in range(runs):
        started = clock.perf_counter()
        _get(client, url, params)
        timings.append(clock.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, url, params)
    return timings, len(queries), response


def _setup_django(database: Path) -> None:
    # A private SQLite file, whatever DATABASE_URL the shell has; DEBUG off, as in production.
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "oneonone.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    # No collectstatic here; whitenoise's note about it is noise for a benchmark.
    warnings.filterwarnings("ignore", message="No directory at")


PARAMS = ({"duration": 60, "step": 15, "limit": 10}, {"duration": 30, "step": 5, "limit": 50})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-endpoint", action="store_true", help="only the pure computation")
    args = parser.parse_args()
    inputs = build_inputs(participants=args.participants, days=args.days, slots=args.slots)
    total = len(inputs["slots"])
    shape = f"creator + {args.participants} participants x {args.days} days x {args.slots} slots = {total} slots"
    for params in PARAMS:
        seconds, found = median_seconds(inputs, runs=args.runs, **params)
        print(
            f"suggestions (computation): {shape}, duration {params['duration']} min, step {params['step']},"
            f" limit {params['limit']}: median {seconds:.3f} s over {args.runs} runs ({found} suggestions)"
        )
    seconds, best, intervals = grid_seconds(inputs, runs=args.runs)
    print(
        f"availability grid (computation): {shape}: median {seconds:.3f} s, best {best:.3f} s over {args.runs} runs"
        f" ({intervals} intervals)"
    )
    if args.no_endpoint:
        return
    with tempfile.TemporaryDirectory() as folder:
        _setup_django(Path(folder) / "bench.sqlite3")
        from django.test import Client
        from rest_framework_simplejwt.tokens import RefreshToken

        calendar_id, creator = _fill_database(inputs)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(creator).access_token}")
        url = f"/calendars/{calendar_id}/suggestions/"
        for params in PARAMS:
            timings, queries, response = endpoint_seconds(client, url, runs=args.runs, params=params)
            print(
                f"suggestions (GET endpoint, SQLite): {shape}, duration {params['duration']} min,"
                f" step {params['step']}, limit {params['limit']}: median {statistics.median(timings):.3f} s"
                f" over {args.runs} runs,"
                f" {queries} queries ({len(response.json()['suggestions'])} suggestions)"
            )
        url = f"/calendars/{calendar_id}/availability/"
        timings, queries, response = endpoint_seconds(client, url, runs=args.runs, params={})
        intervals = sum(len(day["intervals"]) for day in response.json()["days"])
        print(
            f"availability grid (GET endpoint, SQLite): {shape}: median {statistics.median(timings):.3f} s,"
            f" best {min(timings):.3f} s over {args.runs} runs, {queries} queries ({intervals} intervals,"
            f" {len(response.content) / 1e6:.1f} MB of JSON)"
        )


if __name__ == "__main__":
    main()

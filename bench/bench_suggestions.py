"""Benchmark of the best meeting times and the availability grid: the pure computations (calendars.scheduling),
then the whole endpoints.

The endpoint figures are `GET /calendars/{id}/suggestions/` and `GET /calendars/{id}/availability/` through
Django's test Client (JWT auth, the queries, the computation, the JSON) against a temporary SQLite database
filled with the same data. A third of the slots are "if need be".

Run: .venv/bin/python bench/bench_suggestions.py [--participants 100 --days 30 --slots 10 --runs 5 --no-endpoint]
     .venv/bin/python bench/bench_suggestions.py --scaling --runs 7    # the table in docs/performance.md
     DATABASE_URL=postgres://... .venv/bin/python bench/bench_suggestions.py --database-url   # on PostgreSQL

CPU figures are `time.process_time` of this process (best and median of the runs): on a machine shared
with other work they hold better than wall time.
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


def _setup_django(database: Path, *, keep_database_url: bool = False) -> None:
    # A private SQLite file, whatever DATABASE_URL the shell has (unless told to use it); DEBUG off, as in
    # production.
    if not keep_database_url or not os.environ.get("DATABASE_URL"):
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
# The scaling table: each of the three grows while the other two stay at 100 participants, 30 days, 10 slots.
SCALING = {
    "participants": [25, 50, 100, 200, 400],
    "days": [8, 15, 30, 60],
    "slots": [3, 5, 10, 20],
}
BASE = {"participants": 100, "days": 30, "slots": 10}


def cpu_ms(function, *, runs: int) -> tuple[float, float]:
    """Best and median CPU milliseconds of `runs` calls (time.process_time: this process only)."""
    timings = []
    for _ in range(runs):
        started = clock.process_time()
        function()
        timings.append((clock.process_time() - started) * 1000)
    return min(timings), statistics.median(timings)


def endpoint_cpu_ms(inputs: dict, *, runs: int, params: dict) -> tuple[float, float, int]:
    """Best and median CPU ms of GET .../suggestions/ through Django's test Client, and its queries."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import RefreshToken

    calendar_id, creator = _fill_database(inputs)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(creator).access_token}")
    url = f"/calendars/{calendar_id}/suggestions/"
    _get(client, url, params)
    best, median = cpu_ms(lambda: _get(client, url, params), runs=runs)
    with CaptureQueriesContext(connection) as queries:
        _get(client, url, params)
    _empty_database()
    return best, median, len(queries)


def _empty_database() -> None:
    from django.contrib.auth import get_user_model

    from calendars.models import Calendar

    Calendar.objects.all().delete()
    get_user_model().objects.all().delete()


def scaling_table(*, runs: int, endpoint: bool) -> None:
    """CPU per run as each size grows: linear means the µs per slot stays flat."""
    print()
    print(
        "| grows | participants | days | slots each | slots | computation CPU ms | µs / slot |"
        + (" endpoint CPU ms | µs / slot |" if endpoint else "")
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: | ---: |" if endpoint else ""))
    for grows, values in SCALING.items():
        for value in values:
            shape = {**BASE, grows: value}
            inputs = build_inputs(**shape)
            total = len(inputs["slots"])
            best, _ = cpu_ms(lambda inputs=inputs: suggest_meeting_times(**inputs, **PARAMS[0]), runs=runs)
            row = (
                f"| {grows} | {shape['participants']} | {shape['days']} | {shape['slots']} | {total} |"
                f" {best:.1f} | {best * 1000 / total:.2f} |"
            )
            if endpoint:
                http_best, _, _ = endpoint_cpu_ms(inputs, runs=runs, params=PARAMS[0])
                row += f" {http_best:.1f} | {http_best * 1000 / total:.2f} |"
            print(row, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-endpoint", action="store_true", help="only the pure computation")
    parser.add_argument("--scaling", action="store_true", help="the table of CPU as each of the three grows")
    parser.add_argument(
        "--database-url", action="store_true", help="the endpoint on DATABASE_URL (a throwaway PostgreSQL) instead"
    )
    args = parser.parse_args()
    inputs = build_inputs(participants=args.participants, days=args.days, slots=args.slots)
    total = len(inputs["slots"])
    shape = f"creator + {args.participants} participants x {args.days} days x {args.slots} slots = {total} slots"
    for params in PARAMS:
        seconds, found = median_seconds(inputs, runs=args.runs, **params)
        best, median = cpu_ms(lambda params=params: suggest_meeting_times(**inputs, **params), runs=args.runs)
        print(
            f"suggestions (computation): {shape}, duration {params['duration']} min, step {params['step']},"
            f" limit {params['limit']}: CPU best {best:.1f} ms, median {median:.1f} ms; wall median"
            f" {seconds * 1000:.1f} ms over {args.runs} runs ({found} suggestions)"
        )
    seconds, best, intervals = grid_seconds(inputs, runs=args.runs)
    print(
        f"availability grid (computation): {shape}: median {seconds:.3f} s, best {best:.3f} s over {args.runs} runs"
        f" ({intervals} intervals)"
    )
    if args.no_endpoint and not args.scaling:
        return
    with tempfile.TemporaryDirectory() as folder:
        _setup_django(Path(folder) / "bench.sqlite3", keep_database_url=args.database_url)
        from django.db import connection

        where = f"{connection.vendor}"
        if not args.no_endpoint:
            from django.test import Client
            from rest_framework_simplejwt.tokens import RefreshToken

            calendar_id, creator = _fill_database(inputs)
            client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(creator).access_token}")
            url = f"/calendars/{calendar_id}/suggestions/"
            for params in PARAMS:
                timings, queries, response = endpoint_seconds(client, url, runs=args.runs, params=params)
                best, median = cpu_ms(lambda params=params: _get(client, url, params), runs=args.runs)
                print(
                    f"suggestions (GET endpoint, {where}): {shape}, duration {params['duration']} min,"
                    f" step {params['step']}, limit {params['limit']}: CPU best {best:.1f} ms, median {median:.1f} ms;"
                    f" wall median {statistics.median(timings) * 1000:.1f} ms over {args.runs} runs,"
                    f" {queries} queries ({len(response.json()['suggestions'])} suggestions)"
                )
            url = f"/calendars/{calendar_id}/availability/"
            timings, queries, response = endpoint_seconds(client, url, runs=args.runs, params={})
            intervals = sum(len(day["intervals"]) for day in response.json()["days"])
            print(
                f"availability grid (GET endpoint, {where}): {shape}: median {statistics.median(timings):.3f} s,"
                f" best {min(timings):.3f} s over {args.runs} runs, {queries} queries ({intervals} intervals,"
                f" {len(response.content) / 1e6:.1f} MB of JSON)"
            )
            _empty_database()
        if args.scaling:
            scaling_table(runs=args.runs, endpoint=not args.no_endpoint)


if __name__ == "__main__":
    main()

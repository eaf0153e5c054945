"""What an Idempotency-Key costs a write: the timeslot creation with and without one, in one process.

Django's test Client (JWT auth, the view, the queries, the JSON; no HTTP server) creates timeslots on
one calendar, alternating the two kinds in ABBA order so that drift (a warming cache, another process on
the machine) touches both alike, and prints the median and mean wall time and CPU time of each, the
difference, and the statements each sends. bench/run.py measures the same pair over HTTP under load
(`slot-create`, `slot-create-key`). The database is DATABASE_URL's (a throwaway PostgreSQL, say), or a
temporary SQLite file.

Run: .venv/bin/python bench/bench_idempotency.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
SLOTS_PER_DAY = 40  # 20-minute slots every 30 minutes from midnight; the cap is 48 a person a day


def setup_django() -> Path | None:
    """Django on DATABASE_URL, or on a new SQLite file (returned, to delete afterwards)."""
    temporary = None
    if not os.environ.get("DATABASE_URL"):
        temporary = Path(tempfile.mkdtemp(prefix="bench-idempotency-")) / "db.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{temporary}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneonone.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    import django

    django.setup()
    warnings.filterwarnings("ignore", message="No directory at")
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return temporary


def slot(n: int) -> dict[str, str]:
    start = n % SLOTS_PER_DAY * 30
    end = start + 20
    return {"start_time": f"{start // 60:02d}:{start % 60:02d}", "end_time": f"{end // 60:02d}:{end % 60:02d}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timeslots created of each kind")
    args = parser.parse_args()
    temporary = setup_django()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from calendars.models import Calendar, Day
    from idempotency.models import IdempotencyKey

    user = User.objects.create_user(f"bench-{uuid.uuid4().hex[:8]}", password=uuid.uuid4().hex)
    calendar = Calendar.objects.create(creator=user, title="Idempotency-Key cost")
    total = 2 * args.requests + 2
    first = datetime.date(2031, 1, 1)
    days = [
        Day.objects.create(calendar=calendar, date=first + datetime.timedelta(days=i), ranking=i + 1)
        for i in range(-(-total // SLOTS_PER_DAY))
    ]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    counter = iter(range(total))

    def create(keyed: bool) -> None:
        n = next(counter)
        day = days[n // SLOTS_PER_DAY]
        extra = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())} if keyed else {}
        response = client.post(
            f"/calendars/{calendar.pk}/day/{day.pk}/timeslot/", slot(n), content_type="application/json", **extra
        )
        assert response.status_code == 201, response.content  # noqa: S101 - a benchmark that measures errors is wrong

    statements = {}
    for keyed in (False, True):
        with CaptureQueriesContext(connection) as queries:
            create(keyed)
        statements[keyed] = len(queries)

    wall: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    for i in range(args.requests):
        for keyed in (False, True) if i % 2 == 0 else (True, False):  # ABBA
            started, started_cpu = time.perf_counter(), time.process_time()
            create(keyed)
            wall[keyed].append(time.perf_counter() - started)
            cpu[keyed].append(time.process_time() - started_cpu)

    def ms(values: list[float], how) -> float:
        return how(values) * 1000

    print(
        f"Idempotency-Key cost: {args.requests} timeslot creations of each kind, interleaved, in one process "
        f"({connection.vendor}, {connection.settings_dict['NAME']})"
    )
    print("| | statements | wall median ms | wall mean ms | CPU median ms | CPU mean ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for keyed, label in ((False, "without a key"), (True, "with a key")):
        print(
            f"| {label} | {statements[keyed]} | {ms(wall[keyed], statistics.median):.2f} "
            f"| {ms(wall[keyed], statistics.mean):.2f} | {ms(cpu[keyed], statistics.median):.2f} "
            f"| {ms(cpu[keyed], statistics.mean):.2f} |"
        )
    for name, values in (("wall", wall), ("CPU", cpu)):
        median = statistics.median(values[True]) / statistics.median(values[False]) - 1
        mean = statistics.mean(values[True]) / statistics.mean(values[False]) - 1
        print(f"{name}: {median:+.1%} median, {mean:+.1%} mean")
    print(f"statements: +{statements[True] - statements[False]}")

    IdempotencyKey.objects.filter(user=user).delete()
    user.delete()  # with the calendar, its days and slots
    if temporary is not None:
        connection.close()
        for path in temporary.parent.iterdir():
            path.unlink()
        temporary.parent.rmdir()


if __name__ == "__main__":
    main()

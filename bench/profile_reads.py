"""Time (or profile) the hot read paths in-process: CPU and wall time per request, queries per request.

Run by `BENCH_PROFILE=1 bench/run.sh` after its load (`--repeat 50 --login`), or alone.
Alone it needs a PostgreSQL database (`--load 1` migrates and fills an empty one):
  eval "$(scripts/pg-throwaway.sh)"
  .venv/bin/python bench/profile_reads.py --load 1 [--repeat 100] [--login]
  .venv/bin/python bench/profile_reads.py --profile [--html /tmp/profile]   # needs `pip install pyinstrument`
  scripts/pg-throwaway.sh stop "$PG_TMPDIR"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("JWT_ACCESS_MINUTES", "600")
os.environ.setdefault("AUTH_THROTTLE_RATE", "1000000/s")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from bench.load_data import BENCH_PASSWORD, BENCH_USERNAME, Loader, Scale  # noqa: E402
from calendars.models import Calendar, Day  # noqa: E402


def paths(user) -> list[str]:
    """The same targets as bench/run.py: page 1 of the list, the newest calendar, its first day's slots, the
    contact lists, the user search, the inbox and the suggestions of the big calendar (the bench user's oldest)."""
    mine = Calendar.objects.filter(creator=user)
    newest = mine.order_by("-created_at", "-id").first()
    big = mine.order_by("created_at", "id").first()
    day = Day.objects.filter(calendar=newest).order_by("date").first()
    return [
        "/calendars/",
        f"/calendars/{newest.pk}/",
        f"/calendars/{newest.pk}/day/{day.pk}/timeslot/",
        "/contacts/friends/",
        "/contacts/incoming/",
        "/contacts/search/?search=ser0004",
        "/invitations/",
        f"/calendars/{big.pk}/suggestions/?duration=60",
        "/bench/calendars/",
    ]


def timed(request, repeat: int) -> tuple[float, float]:
    """Median CPU ms and median wall ms of `repeat` calls (CPU excludes the time PostgreSQL works)."""
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        request()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="profile with pyinstrument instead of timing")
    parser.add_argument("--html", default="", help="with --profile: write HTML reports with this prefix")
    parser.add_argument("--login", action="store_true", help="also time POST /auth/login/ (a tenth of --repeat)")
    parser.add_argument("--json", default="", help="write the timings to this file")
    parser.add_argument("--load", type=float, default=0, help="migrate and load the data set at this scale first")
    args = parser.parse_args()
    if args.load:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        print(Loader(Scale.from_factor(args.load)).run().counts)
    user = get_user_model().objects.get(username=BENCH_USERNAME)
    header = {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(user)}"}
    client = Client()
    results = {}
    print(f"users: {get_user_model().objects.count()}")
    print(f"{'path':<48} {'CPU ms':>8} {'wall ms':>8} {'queries':>8} {'bytes':>8}")
    for path in paths(user):
        for _ in range(5):  # warm caches and the connection
            if client.get(path, **header).status_code != 200:
                raise SystemExit(f"{path} does not answer 200")
        with CaptureQueriesContext(connection) as captured:
            size = len(client.get(path, **header).content)
        queries = len(captured)  # now: the next request clears the connection's query log
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            cpu, wall = timed(lambda path=path: client.get(path, **header), args.repeat)
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
            if args.html:
                name = path.strip("/").replace("/", "_") or "root"
                Path(f"{args.html}_{name}.html").write_text(profiler.output_html())
        else:
            cpu, wall = timed(lambda path=path: client.get(path, **header), args.repeat)
        results[path] = {"cpu_ms": cpu, "wall_ms": wall, "queries": queries, "bytes": size}
        print(f"{path:<48} {cpu:>8.2f} {wall:>8.2f} {queries:>8} {size:>8}", flush=True)
    if args.login:
        body = json.dumps({"username": BENCH_USERNAME, "password": BENCH_PASSWORD})
        cpu, wall = timed(
            lambda: client.post("/auth/login/", body, content_type="application/json"), max(5, args.repeat // 10)
        )
        # The hash after the logins: an older one is rehashed with the first hasher at the first login.
        algorithm = get_user_model().objects.get(pk=user.pk).password.split("$", 1)[0]
        results["/auth/login/"] = {"cpu_ms": cpu, "wall_ms": wall, "hash": algorithm}
        print(f"{'POST /auth/login/ (' + results['/auth/login/']['hash'] + ')':<48} {cpu:>8.2f} {wall:>8.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

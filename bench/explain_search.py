"""EXPLAIN ANALYZE of the user search's queries, with the trigram index and without it.

Runs on a PostgreSQL database the benchmark has loaded (bench/run.py leaves its data in place): captures
the SQL that `GET /contacts/search/?search=<text>` sends (Django's test client), runs
`EXPLAIN (ANALYZE, BUFFERS)` on every statement that does the contains-match, then drops the trigram
index inside a transaction, explains the same statements again and rolls the transaction back (DDL is
transactional on PostgreSQL, so the index is back afterwards; nothing else may write meanwhile).

Then, for every endpoint bench/profile_reads.py times, the database's own time of each of its statements
(EXPLAIN ANALYZE's execution time, median of --repeat, with the top of its plan): what grows with the data
set shows here, free of the HTTP benchmark's queueing and of other processes' load on the Python side.

Run, with the loaded database in DATABASE_URL:
    DJANGO_SETTINGS_MODULE=bench.settings .venv/bin/python bench/explain_search.py [--text ser0004] [--repeat 5]
or on an empty throwaway database, loading it first: ... bench/explain_search.py --load 1 [--statements-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from bench.load_data import BENCH_USERNAME, Loader, Scale  # noqa: E402
from bench.profile_reads import paths  # noqa: E402

INDEX = "user_username_upper_trgm"


class Rollback(Exception):
    pass


def explain(sql: str, repeat: int) -> tuple[str, float]:
    """The last plan of `repeat` EXPLAIN ANALYZE runs, and the median execution time (ms) of all of them."""
    times, plan = [], ""
    with connection.cursor() as cursor:
        for _ in range(repeat):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            lines = [row[0] for row in cursor.fetchall()]
            times.append(float(next(x for x in lines if x.startswith("Execution Time")).split()[2]))
            plan = "\n".join(lines)
    return plan, statistics.median(times)


def statement_times(client, user, repeat: int, plans_over: float) -> None:
    """Each endpoint's read statements, with the database's execution time of each (ms) and its plan's top;
    the whole statement and plan of those that take longer than `plans_over` ms."""
    print("\n=== database time of each endpoint's statements (EXPLAIN ANALYZE, median ms)")
    for path in paths(user):
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        timed = []
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            plan, median = explain(sql, repeat)
            top = plan.splitlines()[0].split("  (cost=")[0].strip()
            timed.append((median, top, sql, plan))
        total = sum(t for t, _, _, _ in timed)
        print(f"\n{path}: {len(queries)} queries, {total:.3f} ms in the database")
        for median, top, sql, _ in timed:
            print(f"  {median:8.3f} ms  {top:<40} {' '.join(sql.split())[:90]}")
        for median, _, sql, plan in timed:
            if median > plans_over:
                print(f"\n--- {path}: {median:.3f} ms\n{sql}\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="ser0004")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plans-over", type=float, default=3.0, help="ms: print the plans of slower statements")
    parser.add_argument("--statements-only", action="store_true", help="skip the user search's before and after")
    parser.add_argument("--load", type=float, default=0, help="migrate and load the data set at this scale first")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="No directory at")
    if connection.vendor != "postgresql":
        raise SystemExit("the trigram index exists on PostgreSQL only")
    if args.load:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        print(Loader(Scale.from_factor(args.load)).run().counts)
    user = get_user_model().objects.get(username=BENCH_USERNAME)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    if args.statements_only:
        statement_times(client, user, args.repeat, args.plans_over)
        return
    client.get(f"/contacts/search/?search={args.text}")  # warm up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/contacts/search/?search={args.text}")
    if response.status_code != 200:
        raise SystemExit(f"the search answered {response.status_code}")
    print(f"GET /contacts/search/?search={args.text}: {len(queries)} queries, count {response.json()['count']}")
    print(f"users in the table: {get_user_model().objects.count()}")
    matching = [q["sql"] for q in queries if " LIKE " in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
        print(f"index: {cursor.fetchone()}")
    after = [explain(sql, args.repeat) for sql in matching]
    before = []
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX {INDEX}")
            before = [explain(sql, args.repeat) for sql in matching]
            raise Rollback
    except Rollback:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [INDEX])
        if cursor.fetchone()[0] != 1:
            raise SystemExit("the index should be back after the rollback")
    for n, sql in enumerate(matching):
        print(f"\n=== statement {n + 1}\n{sql}")
        for label, (plan, median) in (("before (no trigram index)", before[n]), ("after (trigram index)", after[n])):
            print(f"\n--- {label}: median execution {median:.3f} ms of {args.repeat}\n{plan}")
    statement_times(client, user, args.repeat, args.plans_over)


if __name__ == "__main__":
    main()

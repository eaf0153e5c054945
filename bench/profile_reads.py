"""Profile the hot read paths in-process with pyinstrument (a profiling aid, not part of bench/run.sh).

Needs `.venv/bin/pip install pyinstrument` and a PostgreSQL database (`--load 1` migrates and fills an empty one):
  eval "$(scripts/pg-throwaway.sh)"
  .venv/bin/python bench/profile_reads.py --load 1 [--repeat 100] [--html /tmp/profile]
  scripts/pg-throwaway.sh stop "$PG_TMPDIR"
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("JWT_ACCESS_MINUTES", "600")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from pyinstrument import Profiler  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from bench.load_data import BENCH_USERNAME, Loader, Scale  # noqa: E402
from calendars.models import Calendar  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--html", default="")
    parser.add_argument("--load", type=float, default=0, help="migrate and load the data set at this scale first")
    args = parser.parse_args()
    if args.load:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        print(Loader(Scale.from_factor(args.load)).run().counts)
    user = get_user_model().objects.get(username=BENCH_USERNAME)
    header = {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(user)}"}
    newest = Calendar.objects.filter(creator=user).order_by("-created_at", "-id").first()
    client = Client()
    for path in ["/calendars/", f"/calendars/{newest.pk}/", "/bench/calendars/"]:
        for _ in range(5):  # warm caches and the connection
            if client.get(path, **header).status_code != 200:
                raise SystemExit(f"{path} does not answer 200")
        started = time.perf_counter()
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.repeat):
            client.get(path, **header)
        profiler.stop()
        per = (time.perf_counter() - started) / args.repeat * 1000
        print(f"===== {path}: {per:.2f} ms a request (profiled, in-process)")
        print(profiler.output_text(unicode=False, color=False, show_all=False))
        if args.html:
            name = path.strip("/").replace("/", "_") or "root"
            Path(f"{args.html}_{name}.html").write_text(profiler.output_html())


if __name__ == "__main__":
    main()

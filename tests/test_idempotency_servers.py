"""One Idempotency-Key sent at once to two real server processes: the work is done once, on both databases.

Two gunicorn servers (2 workers each) share one database: the test's PostgreSQL database, or on SQLite a
database file of its own (the suite's in-memory SQLite cannot be shared with other processes). The same
POST is sent eight times at once with one key, half to each server. On PostgreSQL a request that finds the
key's lock held answers 409 at once; on SQLite writers are serialized, so each waits its turn and is answered
the stored answer. Either way one calendar exists and every answer is the first one or a 409 with Retry-After.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from calendars.models import Calendar
from tests.factories import UserFactory
from tests.support import free_port, run_together, stop_process, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
KEY = "8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60"
# Thirty days make the request long enough for the others to arrive while it runs.
BODY = {"title": "Offsite", "days": [{"date": f"2031-03-{d:02d}", "ranking": d} for d in range(1, 31)]}
IN_USE = {
    "detail": "A request with this Idempotency-Key is still in progress; send it again after Retry-After seconds."
}

pytestmark = pytest.mark.django_db(transaction=True)


def _sqlite_database(tmp_path: Path) -> tuple[str, str]:
    """A migrated SQLite file with one user; its URL and the user's access token."""
    url = f"sqlite:///{tmp_path / 'servers.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "oneonone.settings"}
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "text": True, "timeout": 180}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
    make_user = (
        "from accounts.models import User; from rest_framework_simplejwt.tokens import RefreshToken; "
        "print(RefreshToken.for_user(User.objects.create_user('alice', 'alice@example.com', 'x')).access_token)"
    )
    output = subprocess.run([sys.executable, "manage.py", "shell", "-c", make_user], **run).stdout  # noqa: S603
    return url, output.split()[-1]  # after the shell's own line about its imports


def _postgres_database() -> tuple[str, str]:
    db = connection.settings_dict
    user = UserFactory(username="alice")
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return url, str(RefreshToken.for_user(user).access_token)


def _post(port: int, token: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/calendars/",
        data=json.dumps(BODY).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": KEY},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - a server this test started
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def _calendars(url: str) -> int:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return db.execute("SELECT count(*) FROM calendars_calendar").fetchone()[0]
    return Calendar.objects.count()


def test_one_key_sent_to_two_servers_at_once_does_the_work_once(tmp_path):
    sqlite = connection.vendor == "sqlite"
    url, token = _sqlite_database(tmp_path) if sqlite else _postgres_database()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "oneonone.settings",
        "DATABASE_CONN_MAX_AGE": "0",
        "GUNICORN_WORKERS": "2",
    }
    env.pop("REDIS_URL", None)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    servers = []
    try:
        for name in ("a", "b"):
            port, log = free_port(), tmp_path / f"{name}.log"
            process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [str(gunicorn), "oneonone.wsgi", "-c", "oneonone/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            servers.append((port, process, log))
        for port, process, log in servers:
            wait_until_serving(f"http://127.0.0.1:{port}/healthz/", process=process, log=log)
        ports = [port for port, _, _ in servers] * 4
        answers = run_together(*(lambda p=p: _post(p, token) for p in ports))
        later = _post(ports[0], token)
    finally:
        stop_process(*(process for _, process, _ in servers), timeout=15)

    assert _calendars(url) == 1
    done = [a for a in answers if a[0] == 201 and "Idempotent-Replayed" not in a[1]]
    assert len(done) == 1, [(status, headers.get("Idempotent-Replayed")) for status, headers, _ in answers]
    _, headers, body = done[0]
    assert json.loads(body)["title"] == "Offsite"
    for answer in [*answers, later]:
        if answer is done[0]:
            continue
        if answer[0] == 409:
            assert not sqlite, "SQLite serializes writers: the second waits and is answered the first answer"
            assert json.loads(answer[2]) == IN_USE
            assert answer[1]["Retry-After"] == "1"
        else:
            assert (answer[0], answer[2], answer[1]["Idempotent-Replayed"]) == (201, body, "true")
            assert answer[1]["Content-Type"] == headers["Content-Type"]
    assert later[1].get("Idempotent-Replayed") == "true"

"""Concurrent requests against gunicorn (four workers) on a SQLite file: collisions wait their turn.

pytest-django's SQLite test database lives in memory, where connections share one cache and lock
whole tables, so it cannot show how SQLite behaves under concurrent writers. These tests migrate a
database file of their own and serve it as `scripts/serve.sh --gunicorn` does. Each test speaks from
its own client address (`X-Forwarded-For` with `NUM_PROXIES=1`), so throttle counters do not mix.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.support import free_port, run_together, stop_process, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cure-Passw0rd!"
AUTH_RATE = 10

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="serves its own SQLite file; run once, with the SQLite suite"
)


class Server:
    def __init__(self, port: int):
        self.port = port

    def call(self, method: str, path: str, body=None, *, token: str = "", client: str = "10.0.0.1"):
        """(status, JSON body or None) of one request."""
        headers = {"Content-Type": "application/json", "X-Forwarded-For": client}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - a server this test started
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def user(self, name: str, client: str) -> str:
        """Register `name` and answer an access token."""
        status, body = self.call(
            "POST", "/auth/register/", {"username": name, "password": PASSWORD, "password2": PASSWORD}
        )
        assert status == 201, body
        status, body = self.call("POST", "/auth/login/", {"username": name, "password": PASSWORD}, client=client)
        assert status == 200, body
        return body


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sqlite-server")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "oneonone.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "AUTH_THROTTLE_RATE": f"{AUTH_RATE}/min",
        "REGISTER_THROTTLE_RATE": "1000/hour",
        "NUM_PROXIES": "1",
        "GUNICORN_WORKERS": "4",
        "GUNICORN_THREADS": "1",
        "GUNICORN_ACCESS_LOG": str(folder / "access.log"),
    }
    for name in ("REDIS_URL", "JWT_SIGNING_KEY", "DJANGO_DEBUG"):
        env.pop(name, None)
    python = Path(sys.executable)
    for command in (["migrate", "--noinput", "-v0"], ["createcachetable"]):
        subprocess.run([str(python), "manage.py", *command], cwd=ROOT, env=env, check=True)  # noqa: S603
    port, log = free_port(), folder / "server.log"
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            str(python.parent / "gunicorn"),
            "oneonone.wsgi",
            "-c",
            "oneonone/gunicorn.conf.py",
            "-b",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz/", timeout=60, process=process, log=log)
        yield Server(port)
    finally:
        stop_process(process, timeout=20)
        errors = [line for line in log.read_text().splitlines() if "Traceback" in line or "database is locked" in line]
        assert not errors, log.read_text()[-5000:]


def test_concurrent_slot_creates_all_succeed(server):
    """Sixty non-overlapping slots, twenty at a time across four workers: every one is created."""
    tokens = server.user("slotter", client="10.0.1.1")
    status, calendar = server.call(
        "POST",
        "/calendars/",
        # Dates from the real today: the server runs in another process, where the suite's pinned today
        # (tests/conftest.py) does not apply.
        {
            "title": "Busy",
            "days": [
                {"date": str(datetime.date.today() + datetime.timedelta(days=n)), "ranking": n} for n in (1, 2, 3)
            ],
        },
        token=tokens["access"],
    )
    assert status == 201, calendar
    statuses = []
    for day in calendar["days"]:
        url = f"/calendars/{calendar['id']}/day/{day['id']}/timeslot/"

        def create(minute, url=url):
            start, end = 8 * 60 + minute * 30, 8 * 60 + minute * 30 + 30
            times = {"start_time": f"{start // 60:02}:{start % 60:02}", "end_time": f"{end // 60:02}:{end % 60:02}"}
            return server.call("POST", url, times, token=tokens["access"])[0]

        statuses += run_together(*[lambda m=m, create=create: create(m) for m in range(20)])
    assert statuses == [201] * 60
    status, days = server.call("GET", f"/calendars/{calendar['id']}/", token=tokens["access"])
    assert status == 200
    assert sum(len(day["timeslots"]) for day in days["days"]) == 60


def test_parallel_wrong_passwords_get_exactly_the_rate(server):
    """Twice the rate of wrong passwords at once from one address: exactly the rate is checked (401)."""
    server.user("throttled", client="10.0.2.1")
    for round_, client in enumerate(("10.0.2.2", "10.0.2.3")):
        codes = run_together(
            *[
                lambda i=i, client=client: server.call(
                    "POST", "/auth/login/", {"username": "throttled", "password": f"wrong-{i}"}, client=client
                )[0]
                for i in range(2 * AUTH_RATE)
            ]
        )
        assert sorted(codes) == [401] * AUTH_RATE + [429] * AUTH_RATE, (round_, codes)


def test_parallel_refreshes_of_one_token_give_one_successor(server):
    """Ten refreshes at once with one refresh token: one 200; the nine others are reuse, which revokes the
    login's tokens, the winner's new one included."""
    tokens = server.user("refresher", client="10.0.3.1")
    token = tokens["refresh"]
    for round_ in range(2):  # the login's token, then a successor (it carries the family claim)
        if round_:
            status, body = server.call("POST", "/auth/login/", {"username": "refresher", "password": PASSWORD})
            status, body = server.call("POST", "/auth/refresh/", {"refresh": body["refresh"]}, client="10.0.3.3")
            assert status == 200, body
            token = body["refresh"]
        answers = run_together(
            *[
                lambda token=token, client=f"10.0.3.{10 + round_}": server.call(
                    "POST", "/auth/refresh/", {"refresh": token}, client=client
                )
                for _ in range(10)
            ]
        )
        assert sorted(status for status, _ in answers) == [200] + [401] * 9, (round_, answers)
        (winner,) = [body["refresh"] for status, body in answers if status == 200]
        assert server.call("POST", "/auth/refresh/", {"refresh": winner}, client="10.0.3.2")[0] == 401

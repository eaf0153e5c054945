#!/usr/bin/env python3
"""Drive OneOnOne through its load balancer: the user story under load, with one app server killed midway.

Standard library only, with tests/support.py (plus the `psql` client for the final counts). Run by
scripts/ci/scale_out.sh, which starts PostgreSQL, Redis, two gunicorn servers and nginx; this script talks
to nginx only, kills the first server's process group between two steps of the story, and checks what
came out:

- login throttling counts across both servers (the counter lives in Redis);
- every request sent after the kill is answered by the surviving server;
- a write in flight at the kill fails only clearly (502, or a cut connection); sent again with its
  Idempotency-Key it ends with a definite answer (the stored one if it had landed), applied exactly once;
- the rows in PostgreSQL are exactly what the clients believe they created.

Prints the figures, writes them as JSON (--report) and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support import run_together

PASSWORD = "sc4le-0ut-h0rse"  # noqa: S105 - throwaway users of a throwaway database
STORY_USERS = ("alice", "bob", "carol")
LOADER = "loader"
SLOTS_PER_DAY = 40  # the loader's timeslots: every 30 minutes from 00:00, 20 minutes long
LOAD_DAYS = 12  # 480 slots: one person holds at most 500 on a calendar (MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR)
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
UNKNOWN = (0, 502, 504)  # no answer, or nginx's: the write may or may not have been applied
PSQL = shutil.which("psql") or "/usr/bin/psql"


@dataclass
class Record:
    """One HTTP exchange as the client saw it, with the app server(s) nginx says it used."""

    kind: str
    method: str
    path: str
    status: int
    upstream: str
    upstream_status: str
    t0: float
    t1: float
    error: str = ""
    replayed: bool = False  # answered with Idempotent-Replayed: true (the stored answer of an earlier attempt)
    retry_after: str = ""

    @property
    def answered_by(self) -> str:
        """The server that gave the final answer (nginx lists every server it tried)."""
        return self.upstream.split(",")[-1].strip() if self.upstream else ""


@dataclass
class Log:
    """All records, shared by the threads."""

    records: list[Record] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)


LOG = Log()


class Api:
    """A keep-alive HTTP/1.1 client for nginx, one per thread, optionally from another loopback address."""

    def __init__(self, port: int, *, token: str | None = None, source: str | None = None, kind: str = "story"):
        self.port = port
        self.token = token
        self.source = source
        self.kind = kind
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            source = (self.source, 0) if self.source else None
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=source)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        kind: str = "",
        key: str | None = None,
    ) -> tuple[int, Any, Record]:
        """Send one request; the status is 0 when nginx itself could not be reached.

        A signed-in write carries an Idempotency-Key: `key` (a writer that may send it again), or a new one.
        """
        sent = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
            if method in WRITES:
                sent["Idempotency-Key"] = key or str(uuid.uuid4())
        t0 = time.monotonic()
        # A keep-alive connection that nginx closed while idle fails before anything is sent: only
        # then is the request sent again, on a new connection, so a POST is never sent twice here.
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=payload, headers=sent)
            except (ConnectionError, OSError) as exc:
                self.close()
                if attempt == 2:
                    return self._record(kind, method, path, 0, None, t0, repr(exc))
                continue
            try:
                response = conn.getresponse()
                raw = response.read()
            except (ConnectionError, OSError, http.client.HTTPException) as exc:
                self.close()
                return self._record(kind, method, path, 0, None, t0, repr(exc))
            if response.will_close:
                self.close()
            break
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode(errors="replace")
        return self._record(kind, method, path, response.status, response, t0, "", data)

    def _record(self, kind, method, path, status, response, t0, error, data=None) -> tuple[int, Any, Record]:
        record = Record(
            kind=kind or self.kind,
            method=method,
            path=path,
            status=status,
            upstream=response.getheader("X-Upstream", "") if response else "",
            upstream_status=response.getheader("X-Upstream-Status", "") if response else "",
            t0=t0,
            t1=time.monotonic(),
            error=error,
            replayed=bool(response) and response.getheader("Idempotent-Replayed") == "true",
            retry_after=response.getheader("Retry-After", "") if response else "",
        )
        LOG.add(record)
        return status, data, record


class Failed(AssertionError):
    """A check of the run failed."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


def expect(api: Api, method: str, path: str, status: int, body: Any = None, **kwargs) -> Any:
    got, data, record = api.call(method, path, body, **kwargs)
    check(got == status, f"{method} {path}: expected {status}, got {got} {data!r} (upstream {record.upstream})")
    return data


# Phases --------------------------------------------------------------------------------------------------------


def throttle_phase(port: int, rate: int, servers: list[str]) -> dict[str, Any]:
    """Wrong passwords from one client address (127.0.0.2) until 429, through nginx, both servers up."""
    api = Api(port, source="127.0.0.2", kind="throttle")
    statuses, answered = [], []
    for i in range(rate + 1):
        # A forged X-Forwarded-For each time: nginx replaces it, so it cannot reset the count.
        status, _, record = api.call(
            "POST",
            "/auth/login/",
            {"username": "alice", "password": f"wrong-{i}"},
            headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
        )
        statuses.append(status)
        answered.append(record.answered_by)
    api.close()
    first_429 = statuses.index(429) + 1 if 429 in statuses else None
    check(statuses[:rate] == [401] * rate, f"login attempts 1-{rate} should be 401, got {statuses[:rate]}")
    check(first_429 == rate + 1, f"attempt {rate + 1} should be the first 429, got {statuses}")
    per_server = {server: answered.count(server) for server in servers}
    check(all(per_server.values()), f"both servers should have answered some attempts: {per_server}")
    # Another client address is not affected: the app sees the real client behind nginx.
    other = Api(port, source="127.0.0.3", kind="throttle")
    status, _, _ = other.call("POST", "/auth/login/", {"username": "alice", "password": PASSWORD})
    other.close()
    check(status == 200, f"a login from another address should pass, got {status}")
    burst = parallel_burst(port, rate)
    return {
        "rate": rate,
        "parallel_burst": burst,
        "statuses": statuses,
        "first_429_at": first_429,
        "answered_by": answered,
        "per_server": per_server,
        "other_address_status": status,
    }


def parallel_burst(port: int, rate: int) -> dict[str, int]:
    """2 x rate wrong passwords at once from 127.0.0.4: a figure, not a check (see docs/deploy.md)."""

    def attempt(i: int) -> int:
        api = Api(port, source="127.0.0.4", kind="throttle")
        status, _, _ = api.call("POST", "/auth/login/", {"username": "alice", "password": f"burst-{i}"})
        api.close()
        return status

    statuses = run_together(*(lambda i=i: attempt(i) for i in range(2 * rate)), timeout=120)
    return {"sent": len(statuses), "401": statuses.count(401), "429": statuses.count(429)}


def register_and_login(port: int, usernames: list[str]) -> dict[str, str]:
    api = Api(port, kind="setup")
    tokens = {}
    for name in usernames:
        expect(
            api,
            "POST",
            "/auth/register/",
            201,
            {"username": name, "email": f"{name}@example.com", "password": PASSWORD, "password2": PASSWORD},
        )
    for name in usernames:
        tokens[name] = expect(api, "POST", "/auth/login/", 200, {"username": name, "password": PASSWORD})["access"]
    api.close()
    return tokens


def slot_time(n: int) -> tuple[str, str]:
    start = n % SLOTS_PER_DAY * 30
    return f"{start // 60:02d}:{start % 60:02d}:00", f"{(start + 20) // 60:02d}:{(start + 20) % 60:02d}:00"


@dataclass
class WriterState:
    """What a writer believes it created, and how it learnt it."""

    sent: int = 0  # distinct items it meant to create
    acknowledged: int = 0  # answered 201 the first time
    failed_clearly: int = 0  # answered 502 or 504, or the connection was cut: the outcome was unknown
    resends: int = 0  # requests sent again with the same Idempotency-Key
    replayed: int = 0  # items whose resend was answered the stored answer: the first attempt had landed
    done_on_resend: int = 0  # items whose resend did the work: the first attempt had not landed
    in_progress: int = 0  # resends answered 409 (the first attempt still held its key): waited Retry-After
    conflicts: int = 0  # answered 400 overlap: a second copy would have been created
    items: dict[str, int] = field(default_factory=dict)  # name -> id the client knows


def keyed_write(api: Api, state: WriterState, path: str, body: dict, name: str) -> dict:
    """POST with an Idempotency-Key until a definite answer; after an unknown outcome, the same key again."""
    key, attempt = str(uuid.uuid4()), 0
    state.sent += 1
    while True:
        attempt += 1
        status, data, record = api.call("POST", path, body, kind="load-write", key=key)
        if status == 201:
            state.items[name] = data["id"]
            if attempt == 1:
                state.acknowledged += 1
            elif record.replayed:
                state.replayed += 1
            else:
                state.done_on_resend += 1
            return data
        if status == 400:
            state.conflicts += 1
        if status == 409 and record.retry_after and attempt > 1:
            state.in_progress += 1  # the dead server's transaction has not ended yet
            time.sleep(int(record.retry_after))
        else:
            check(status in UNKNOWN, f"POST {path} {name}: unexpected {status} {data!r}")
            if attempt == 1:
                state.failed_clearly += 1
        state.resends += 1
        check(attempt < 20, f"POST {path} {name}: no definite answer after {attempt} attempts")


# A person holds at most 500 calendars (MAX_CALENDARS_PER_USER); the loader already has its timeslot calendar.
# A fast machine reaches the cap within the story: the writer stops short of it and the other writers go on.
LOAD_CALENDARS = 490


def calendar_writer(api: Api, stop: threading.Event, state: WriterState) -> None:
    """The loader creates calendars with unique titles: no database constraint would stop a duplicate."""
    for n in range(LOAD_CALENDARS):
        if stop.is_set():
            return
        title = f"load-{n:05d}"
        keyed_write(api, state, "/calendars/", {"title": title, "days": [{"date": "2032-01-01", "ranking": 1}]}, title)


def slot_writer(api: Api, stop: threading.Event, state: WriterState, calendar_id: int, days: list[dict]) -> None:
    """The loader adds timeslots at distinct times; a second copy of one would overlap it (400)."""
    for n in range(LOAD_DAYS * SLOTS_PER_DAY):
        if stop.is_set():
            return
        day = days[n // SLOTS_PER_DAY]
        start, end = slot_time(n)
        path = f"/calendars/{calendar_id}/day/{day['id']}/timeslot/"
        keyed_write(api, state, path, {"start_time": start, "end_time": end}, f"{day['date']} {start}")


def reader(api: Api, stop: threading.Event, paths: list[str]) -> None:
    for path in itertools.cycle(paths):
        if stop.is_set():
            return
        status, _, _ = api.call("GET", path, kind="load-read")
        if status == 0 or status >= 500:
            # Only an answer already under way when its server died gets here (nginx retries the rest):
            # a GET is safe to send again.
            api.call("GET", path, kind="load-read")


# The story ------------------------------------------------------------------------------------------------------

STORY_DAYS = [("2030-06-03", 2), ("2030-06-04", 1), ("2030-06-05", 3)]
# (user, day index, start, end): distinct per user and day, so a second copy of any would overlap it.
STORY_SLOTS = [
    ("bob", 1, "14:00", "16:00"),
    ("bob", 0, "08:00", "10:00"),
    ("bob", 2, "10:00", "11:00"),
    ("carol", 1, "13:30", "15:30"),
    ("carol", 0, "11:00", "12:00"),
    ("carol", 2, "09:00", "10:00"),
    ("alice", 2, "09:00", "12:00"),
]
# alice's slots given with the calendar (day index, start, end)
ALICE_INITIAL = [(0, "09:00", "12:00"), (1, "13:00", "17:00")]
# Everyone is free 14:00-15:30 on the day ranked 1: the best hour starts at 14:00.
BEST = {"date": "2030-06-04", "start_time": "14:00:00", "end_time": "15:00:00"}


def story_before_kill(apis: dict[str, Api], steps: list[str]) -> dict[str, Any]:
    alice, bob, carol = apis["alice"], apis["bob"], apis["carol"]
    for friend in ("bob", "carol"):
        expect(alice, "POST", "/contacts/add/", 200, {"username": friend})
    for api in (bob, carol):
        expect(api, "POST", "/contacts/accept/", 200, {"username": "alice"})
    check(
        sorted(u["username"] for u in expect(alice, "GET", "/contacts/friends/", 200)["results"]) == ["bob", "carol"],
        "alice should have two friends",
    )
    steps.append("befriend")
    days = [
        {
            "date": date,
            "ranking": ranking,
            "timeslots": [{"start_time": s, "end_time": e} for i, s, e in ALICE_INITIAL if i == index],
        }
        for index, (date, ranking) in enumerate(STORY_DAYS)
    ]
    calendar = expect(
        alice, "POST", "/calendars/", 201, {"title": "Team sync", "description": "Scale-out story", "days": days}
    )
    steps.append("create calendar")
    for friend in ("bob", "carol"):
        expect(alice, "POST", f"/calendars/{calendar['id']}/invitations/", 201, {"invitee_username": friend})
    steps.append("invite")
    for api in (bob, carol):
        inbox = expect(api, "GET", "/invitations/?status=pending", 200)["results"]
        mine = [i for i in inbox if i["calendar_id"] == calendar["id"]]
        check(len(mine) == 1, f"one pending invitation expected in the inbox, got {inbox}")
        expect(api, "PUT", f"/calendars/{calendar['id']}/invitations/{mine[0]['id']}/", 204, {"status": "accepted"})
    steps.append("accept")
    detail = expect(bob, "GET", f"/calendars/{calendar['id']}/", 200)
    check(len(detail["participants"]) == 2, f"two participants expected: {detail['participants']}")
    day_ids = {d["date"]: d["id"] for d in detail["days"]}
    return {"id": calendar["id"], "day_ids": [day_ids[date] for date, _ in STORY_DAYS]}


def story_after_kill(
    apis: dict[str, Api], steps: list[str], calendar: dict, built: dict[str, bool], skipped: list[str]
) -> dict[str, Any]:
    cid = calendar["id"]
    created = []
    for user, index, start, end in STORY_SLOTS:
        day_id = calendar["day_ids"][index]
        slot = expect(
            apis[user], "POST", f"/calendars/{cid}/day/{day_id}/timeslot/", 201, {"start_time": start, "end_time": end}
        )
        created.append({"id": slot["id"], "owner": user, "date": STORY_DAYS[index][0], "start": slot["start_time"]})
    steps.append("availability")
    detail = expect(apis["carol"], "GET", f"/calendars/{cid}/", 200)
    seen = sum(len(d["timeslots"]) for d in detail["days"])
    check(seen == len(STORY_SLOTS) + len(ALICE_INITIAL), f"every timeslot once in the calendar, saw {seen}")
    result: dict[str, Any] = {"slots": created, "suggestion": None, "finalized": None}
    meeting = dict(BEST)
    if built["suggestions"]:
        body = expect(apis["alice"], "GET", f"/calendars/{cid}/suggestions/?duration=60", 200)
        top = body["suggestions"][0]
        check(
            {k: top[k] for k in BEST} == BEST and sorted(top["available"]) == sorted(STORY_USERS),
            f"best suggestion should be {BEST} with everyone, got {top}",
        )
        result["suggestion"] = {k: top[k] for k in ("date", "start_time", "end_time", "available")}
        meeting = {k: top[k] for k in BEST}
        steps.append("suggestions")
    else:
        skipped.append("suggestions: skipped: not built")
    if built["finalize"]:
        expect(apis["alice"], "POST", f"/calendars/{cid}/finalize/", 200, meeting)
        seen = expect(apis["bob"], "GET", f"/calendars/{cid}/", 200).get("finalized")
        check(seen is not None and seen["date"] == meeting["date"], f"bob should see the fixed meeting: {seen}")
        result["finalized"] = meeting
        steps.append("finalize")
    else:
        skipped.append("finalize: skipped: not built")
    return result


# Killing a server ----------------------------------------------------------------------------------------------


def refused(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return False
    except OSError:
        return True


def kill_server(pgid: int, address: str) -> tuple[float, float]:
    """SIGKILL the gunicorn master and its workers at once; return when its port refuses connections."""
    t0 = time.monotonic()
    os.killpg(pgid, signal.SIGKILL)
    deadline = t0 + 10
    while not refused(address):
        check(time.monotonic() < deadline, f"{address} still accepts connections 10 s after SIGKILL")
        time.sleep(0.02)
    return t0, time.monotonic()


# PostgreSQL ------------------------------------------------------------------------------------------------------


def psql(database_url: str, sql: str, **variables: int | str) -> list[list[str]]:
    """Rows of one query run by the psql client; `:name` in the SQL is a psql variable (-v name=value)."""
    command = [PSQL, database_url, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    # The SQL goes through standard input: psql substitutes variables there, not in -c.
    result = subprocess.run(  # noqa: S603 - a fixed command and our own queries
        [*command, "-f", "-"], input=sql, check=True, capture_output=True, text=True
    )
    return [line.split("\t") for line in result.stdout.splitlines() if line]


def differences(db: dict[str, int], client: dict[str, int]) -> str:
    """What only the database has, what only the client has, and what differs, shortly."""
    only_db = sorted(set(db) - set(client))[:5]
    only_client = sorted(set(client) - set(db))[:5]
    changed = sorted(k for k in set(db) & set(client) if db[k] != client[k])[:5]
    return f"only in the database {only_db}, only in the client {only_client}, other ids {changed}"


def database_checks(
    database_url: str, story: dict, calendar_state: WriterState, slot_state: WriterState, load_calendar: int
) -> dict[str, Any]:
    def one(sql: str, **variables: int | str) -> int:
        return int(psql(database_url, sql, **variables)[0][0])

    cid = story["calendar"]["id"]
    figures: dict[str, Any] = {}

    figures["users"] = one("SELECT count(*) FROM accounts_user")
    check(figures["users"] == len(STORY_USERS) + 1, f"users in the database: {figures['users']}")
    figures["friendships"] = one("SELECT count(*) FROM contacts_contact WHERE status = 1")
    check(figures["friendships"] == 2, f"friendships: {figures['friendships']}")
    figures["story_calendars"] = one("SELECT count(*) FROM calendars_calendar WHERE title = 'Team sync'")
    check(figures["story_calendars"] == 1, f"story calendars: {figures['story_calendars']}")
    figures["story_days"] = one("SELECT count(*) FROM calendars_day WHERE calendar_id = :cid", cid=cid)
    check(figures["story_days"] == len(STORY_DAYS), f"story days: {figures['story_days']}")
    invitations = dict(
        psql(
            database_url,
            "SELECT status, count(*) FROM invitations_invitation WHERE calendar_id = :cid GROUP BY 1",
            cid=cid,
        )
    )
    figures["story_invitations"] = invitations
    check(invitations == {"accepted": "2"}, f"story invitations: {invitations}")

    # Story timeslots: exactly the ones the clients were answered 201 for, each once.
    rows = psql(
        database_url,
        "SELECT t.id, u.username, d.date, t.start_time FROM calendars_timeslot t "
        "JOIN calendars_day d ON d.id = t.day_id JOIN accounts_user u ON u.id = t.owner_id "
        "WHERE d.calendar_id = :cid ORDER BY t.id",
        cid=cid,
    )
    db_slots = {(u, d, s) for _, u, d, s in rows}
    client_slots = {(s["owner"], s["date"], s["start"]) for s in story["after"]["slots"]} | {
        ("alice", STORY_DAYS[i][0], f"{start}:00") for i, start, _ in ALICE_INITIAL
    }
    figures["story_timeslots"] = len(rows)
    check(len(rows) == len(db_slots), f"a story timeslot is stored twice: {rows}")
    check(db_slots == client_slots, f"story timeslots differ: db {sorted(db_slots)} client {sorted(client_slots)}")
    check(
        {int(r[0]) for r in rows} >= {s["id"] for s in story["after"]["slots"]}, "a timeslot id answered 201 is missing"
    )
    if story["after"]["finalized"]:
        fixed = psql(
            database_url,
            "SELECT finalized_date, finalized_start_time, finalized_end_time FROM calendars_calendar WHERE id = :cid",
            cid=cid,
        )[0]
        meeting = story["after"]["finalized"]
        check(fixed == [meeting["date"], meeting["start_time"], meeting["end_time"]], f"finalized: {fixed}")
        figures["finalized"] = fixed

    # The loader's calendars: unique titles by construction, no constraint: a retried POST would show here.
    rows = psql(
        database_url,
        "SELECT c.title, count(*), min(c.id) FROM calendars_calendar c JOIN accounts_user u ON u.id = c.creator_id "
        "WHERE u.username = :'loader' AND c.title LIKE 'load-%' GROUP BY c.title",
        loader=LOADER,
    )
    db_titles = {title: int(n) for title, n, _ in rows}
    duplicates = sum(n - 1 for n in db_titles.values())
    figures["load_calendars"] = {"db_rows": sum(db_titles.values()), "client": len(calendar_state.items)}
    check(duplicates == 0, f"calendars created twice: {[t for t, n in db_titles.items() if n > 1]}")
    db_view = {title: int(first) for title, _, first in rows}
    check(
        db_view == calendar_state.items, "the loader's calendars differ: " + differences(db_view, calendar_state.items)
    )

    # The loader's timeslots on its big calendar.
    rows = psql(
        database_url,
        "SELECT d.date || ' ' || t.start_time, count(*), min(t.id) FROM calendars_timeslot t "
        "JOIN calendars_day d ON d.id = t.day_id WHERE d.calendar_id = :cid GROUP BY 1",
        cid=load_calendar,
    )
    db_keys = {key: int(n) for key, n, _ in rows}
    duplicates += sum(n - 1 for n in db_keys.values())
    figures["load_timeslots"] = {"db_rows": sum(db_keys.values()), "client": len(slot_state.items)}
    check(all(n == 1 for n in db_keys.values()), "a loader timeslot is stored twice")
    db_view = {key: int(first) for key, _, first in rows}
    check(db_view == slot_state.items, "the loader's timeslots differ: " + differences(db_view, slot_state.items))
    # Across the whole database: no owner has two slots starting at the same time on a day.
    duplicates += one(
        "SELECT count(*) FROM (SELECT day_id, owner_id, start_time FROM calendars_timeslot "
        "GROUP BY 1, 2, 3 HAVING count(*) > 1) AS twice"
    )
    figures["duplicates"] = duplicates
    check(duplicates == 0, f"duplicates in the database: {duplicates}")
    return figures


# Main -----------------------------------------------------------------------------------------------------------


def schema_paths(port: int) -> set[str]:
    api = Api(port, kind="setup")
    status, schema, _ = api.call("GET", "/schema/?format=json")
    api.close()
    check(status == 200, f"GET /schema/: {status}")
    return set(schema["paths"])


def phase_of(record: Record, kill: tuple[float, float]) -> str:
    if record.t1 < kill[0]:
        return "before"
    if record.t0 >= kill[1]:
        return "after"
    return "during"


def summarize(records: list[Record], kill: tuple[float, float], servers: list[str], survivor: str) -> dict:
    phases: dict[str, dict[str, Any]] = {}
    for name in ("before", "during", "after"):
        chosen = [r for r in records if phase_of(r, kill) == name and r.kind != "throttle"]
        errors = [r for r in chosen if r.status == 0 or r.status >= 500]
        phases[name] = {
            "requests": len(chosen),
            "errors": len(errors),
            "error_detail": [
                f"{r.method} {r.path} -> {r.status or 'connection cut: ' + r.error} (upstream {r.upstream_status})"
                for r in errors
            ][:20],
            "answered_by": {s: sum(r.answered_by == s for r in chosen) for s in servers},
            "retried_by_nginx": sum("," in r.upstream for r in chosen),
        }
    after = [r for r in records if phase_of(r, kill) == "after" and r.kind != "throttle"]
    phases["after"]["not_by_survivor"] = [
        f"{r.method} {r.path} -> {r.status} via {r.upstream!r}" for r in after if r.answered_by != survivor
    ][:20]
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="nginx port on 127.0.0.1")
    parser.add_argument("--servers", required=True, help="the two app servers as nginx names them: A,B")
    parser.add_argument("--kill-pgid", type=int, required=True, help="process group of the first server (A)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--auth-rate", type=int, required=True, help="login attempts a minute (AUTH_THROTTLE_RATE)")
    parser.add_argument("--readers", type=int, default=4, help="threads of GET requests")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before the story")
    parser.add_argument("--after-kill", type=float, default=12.0, help="seconds of load at least after the kill")
    parser.add_argument("--report", help="write the figures here as JSON")
    args = parser.parse_args()
    servers = args.servers.split(",")
    victim, survivor = servers
    started = time.monotonic()
    report: dict[str, Any] = {"servers": {"killed": victim, "survivor": survivor}}
    steps: list[str] = []
    skipped: list[str] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    calendar_state, slot_state = WriterState(), WriterState()
    thread_errors: list[str] = []
    kill = (float("inf"), float("inf"))

    def guarded(target, *a):
        def run():
            try:
                target(*a)
            except Exception as exc:  # reported, and the run fails, below
                thread_errors.append(f"{target.__name__}: {exc}")
                stop.set()

        return threading.Thread(target=run, name=target.__name__, daemon=True)

    try:
        paths = schema_paths(args.port)
        built = {
            "suggestions": "/calendars/{id}/suggestions/" in paths,
            "finalize": "/calendars/{id}/finalize/" in paths,
        }
        report["built"] = built
        tokens = register_and_login(args.port, [*STORY_USERS, LOADER])
        steps.append("register + login")
        report["throttle"] = throttle_phase(args.port, args.auth_rate, servers)
        steps.append("login throttle")

        loader = Api(args.port, token=tokens[LOADER], kind="setup")
        days = [
            {"date": (datetime.date(2031, 1, 1) + datetime.timedelta(days=i)).isoformat(), "ranking": i + 1}
            for i in range(LOAD_DAYS)
        ]
        load_calendar = expect(loader, "POST", "/calendars/", 201, {"title": "loader timeslots", "days": days})
        load_days = sorted(load_calendar["days"], key=lambda d: d["date"])
        loader.close()

        read_paths = {
            name: ["/calendars/", "/auth/me/", "/contacts/friends/", "/invitations/", "/calendars/?page=1&page_size=5"]
            for name in STORY_USERS
        }
        read_paths[LOADER] = ["/calendars/", f"/calendars/{load_calendar['id']}/", "/auth/me/"]
        users = itertools.cycle([*STORY_USERS, LOADER])
        for _ in range(args.readers):
            name = next(users)
            api = Api(args.port, token=tokens[name], kind="load-read")
            threads.append(guarded(reader, api, stop, read_paths[name]))
        threads.append(guarded(calendar_writer, Api(args.port, token=tokens[LOADER]), stop, calendar_state))
        threads.append(
            guarded(slot_writer, Api(args.port, token=tokens[LOADER]), stop, slot_state, load_calendar["id"], load_days)
        )
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)

        apis = {name: Api(args.port, token=tokens[name]) for name in STORY_USERS}
        story: dict[str, Any] = {"calendar": story_before_kill(apis, steps)}
        kill = kill_server(args.kill_pgid, victim)
        steps.append(f"kill -9 {victim}")
        # The throttle counter lives in Redis, not in the dead server: still 429 from the survivor.
        late = Api(args.port, source="127.0.0.2", kind="throttle")
        status, _, record = late.call("POST", "/auth/login/", {"username": "alice", "password": "wrong-late"})
        late.close()
        check(status == 429 and record.answered_by == survivor, f"login after the kill: {status} via {record.upstream}")
        report["throttle"]["after_kill"] = {"status": status, "answered_by": record.answered_by}
        story["after"] = story_after_kill(apis, steps, story["calendar"], built, skipped)
        for api in apis.values():
            api.close()
        remaining = kill[1] + args.after_kill - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    if thread_errors:
        raise Failed("; ".join(thread_errors))

    records = list(LOG.records)
    phases = summarize(records, kill, servers, survivor)
    report["phases"] = phases
    report["story"] = {"steps": steps, "skipped": skipped, **story}
    report["writers"] = {"calendars": asdict(calendar_state), "timeslots": asdict(slot_state)}
    for state in report["writers"].values():
        state["items"] = len(state["items"])
    report["database"] = database_checks(args.database_url, story, calendar_state, slot_state, load_calendar["id"])
    report["requests"] = len(records)
    report["seconds"] = round(time.monotonic() - started, 1)
    report["kill_at_second"] = round(kill[0] - started, 1)

    print_figures(report)
    if args.report:
        with open(args.report, "w") as out:
            json.dump(report, out, indent=2)
    check(phases["before"]["errors"] == 0, f"errors before the kill: {phases['before']['error_detail']}")
    check(phases["after"]["errors"] == 0, f"errors after the kill: {phases['after']['error_detail']}")
    unclear = [r for r in records if phase_of(r, kill) == "during" and r.status >= 500 and r.status not in (502, 504)]
    check(not unclear, f"a request in flight at the kill failed with an unexpected status: {unclear}")
    check(not phases["after"]["not_by_survivor"], f"answered by another server: {phases['after']['not_by_survivor']}")
    for name, state in report["writers"].items():
        check(state["conflicts"] == 0, f"{name}: a POST was applied twice (400 overlap)")
        answered = state["acknowledged"] + state["replayed"] + state["done_on_resend"]
        check(state["sent"] == answered == state["items"], f"{name}: a write without a definite answer: {state}")
    return 0


def print_figures(report: dict) -> None:
    p = report["phases"]
    t = report["throttle"]
    w = report["writers"]
    db = report["database"]
    lines = [
        f"story: {' -> '.join(report['story']['steps'])}",
        *[f"story: {s}" for s in report["story"]["skipped"]],
        f"login throttle (rate {t['rate']}/min, one client through nginx): attempts 1-{t['rate']} -> 401, "
        f"attempt {t['first_429_at']} -> 429; answered by {t['per_server']}; after the kill: "
        f"{t['after_kill']['status']} from {t['after_kill']['answered_by']}; another address: "
        f"{t['other_address_status']}; {t['parallel_burst']['sent']} attempts at once from one more address: "
        f"{t['parallel_burst']['401']} -> 401, {t['parallel_burst']['429']} -> 429",
        f"requests sent: {report['requests']} in {report['seconds']} s (kill at {report['kill_at_second']} s)",
        *[
            f"  {name:6} the kill: {p[name]['requests']:5} requests, {p[name]['errors']} errors, "
            f"answered by {p[name]['answered_by']}, retried by nginx on the other server: {p[name]['retried_by_nginx']}"
            for name in ("before", "during", "after")
        ],
        *[f"  in flight at the kill: {detail}" for detail in p["during"]["error_detail"]],
        *[
            f"writes ({name}): {s['sent']} sent, {s['acknowledged']} answered 201 at once, "
            f"{s['failed_clearly']} failed clearly (502 or cut) -> resent with the same key: "
            f"{s['replayed']} replayed (had landed), {s['done_on_resend']} done on the resend (had not), "
            f"{s['in_progress']} x 409 in progress on the way; applied twice: {s['conflicts']}"
            for name, s in w.items()
        ],
        f"PostgreSQL: {db['load_calendars']['db_rows']} load calendars, {db['load_timeslots']['db_rows']} load "
        f"timeslots, {db['story_timeslots']} story timeslots, invitations {db['story_invitations']}, "
        f"duplicates: {db['duplicates']}",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)

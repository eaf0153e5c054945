"""The HTTP benchmark: load the data set, serve it with gunicorn, drive every endpoint with wrk, print the table.

Started by bench/run.sh (which sets up the venv, wrk and a throwaway PostgreSQL). Settings by
environment variable, see `Config` and docs/performance.md.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
# Tokens are minted before the load and must outlive it; login is measured, not throttled away
# (the throttle still runs: its counter is kept for one second instead of a minute).
os.environ.setdefault("JWT_ACCESS_MINUTES", "600")
os.environ.setdefault("AUTH_THROTTLE_RATE", "1000000/s")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import get_hasher  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from bench.load_data import BENCH_PASSWORD, BENCH_USERNAME, Loaded, Loader, Scale  # noqa: E402
from calendars.models import TimeSlot  # noqa: E402
from idempotency.models import IdempotencyKey  # noqa: E402
from tests.support import NOT_ANSWERING, free_port, stop_process, wait_until_serving  # noqa: E402

LUA = ROOT / "bench" / "wrk" / "bench.lua"
SLOTS_PER_OWNER_DAY = 48
WRITE_MODES = {"slots", "slots-key"}


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def default_cpus() -> tuple[str, str, str]:
    """(server, load generator, PostgreSQL): one core each for server and wrk; PostgreSQL on the rest."""
    cpus = sorted(os.sched_getaffinity(0))
    server, client = str(cpus[0]), str(cpus[-1])
    rest = [str(c) for c in cpus[1:-1]] or [client]
    return server, client, ",".join(rest)


@dataclass
class Config:
    scale: float = field(default_factory=lambda: env_float("BENCH_SCALE", 1.0))
    runs: int = field(default_factory=lambda: env_int("BENCH_RUNS", 3))
    duration: int = field(default_factory=lambda: env_int("BENCH_DURATION", 10))
    warmup: int = field(default_factory=lambda: env_int("BENCH_WARMUP", 3))
    connections: int = field(default_factory=lambda: env_int("BENCH_CONNECTIONS", 64))
    # A login costs a whole password hash: 64 of them queue for tens of seconds on one core, and wrk
    # never records the requests still queued when it stops, so login runs with fewer connections.
    login_connections: int = field(default_factory=lambda: env_int("BENCH_LOGIN_CONNECTIONS", 8))
    timeout: int = field(default_factory=lambda: env_int("BENCH_TIMEOUT", 30))
    only: list[str] = field(default_factory=lambda: [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s])
    out: Path = field(default_factory=lambda: Path(os.environ.get("BENCH_OUT") or tempfile.mkdtemp(prefix="bench-")))
    server_cpus: str = field(default_factory=lambda: os.environ.get("BENCH_SERVER_CPUS") or default_cpus()[0])
    client_cpus: str = field(default_factory=lambda: os.environ.get("BENCH_CLIENT_CPUS") or default_cpus()[1])
    pg_cpus: str = field(default_factory=lambda: os.environ.get("BENCH_PG_CPUS") or default_cpus()[2])
    wrk_threads: int = field(default_factory=lambda: env_int("BENCH_WRK_THREADS", 1))


@dataclass
class Endpoint:
    name: str
    label: str
    path: str
    mode: str = "get"  # get | login | slots | slots-key (slots, each with a new Idempotency-Key)
    token: str = ""
    conditional: bool = False  # sends If-None-Match with the ETag of its own answer: a poll answered 304
    etag: str = ""
    optional: bool = False  # answers 404 until it is built: skipped as "not available"
    queries: int | None = None
    available: bool = True
    note: str = ""
    runs: list[dict] = field(default_factory=list)


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    hasher = get_hasher()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg,
        "hasher": hasher_summary(hasher),
    }


def hasher_summary(hasher) -> str:
    if hasattr(hasher, "memory_cost"):  # Argon2
        return (
            f"{hasher.algorithm} ({type(hasher).__name__}: memory {hasher.memory_cost} KiB,"
            f" {hasher.time_cost} passes, {hasher.parallelism} lane(s))"
        )
    return f"{hasher.algorithm}, {getattr(hasher, 'iterations', '?')} iterations"


TICKS = os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """CPU seconds the whole machine spent busy, and stolen by the hypervisor, since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / TICKS, steal / TICKS


def process_cpu(pid: int) -> float:
    """CPU seconds of a process and its children it has waited for (/proc/<pid>/stat), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / TICKS  # utime, stime, cutime, cstime


def postgres_cpu() -> float:
    """CPU seconds of the throwaway PostgreSQL: the postmaster, its ended backends, its live ones."""
    pid_file = Path(os.environ.get("PG_TMPDIR", "/nonexistent")) / "data" / "postmaster.pid"
    if not pid_file.exists():
        return 0.0
    postmaster = int(pid_file.read_text().split()[0])
    total = process_cpu(postmaster)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += sum(int(x) for x in fields[11:13]) / TICKS
    return total


class CpuAccount:
    """How much CPU the rest of the machine took while the benchmark ran.

    The load average cannot tell: the benchmark alone keeps it near 7 on 2 cores (gunicorn's
    workers, PostgreSQL, wrk). Here: the machine's busy time minus this process's, its waited-for
    children's (wrk; gunicorn and its workers once stopped) and PostgreSQL's.
    """

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.machine, self.steal = machine_cpu()
        self.ours = self.own() + postgres_cpu()

    @staticmethod
    def own() -> float:
        me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime

    def pg_checkpoint(self) -> None:
        """Call while PostgreSQL still runs: its CPU up to now (bench/run.sh stops it after us)."""
        self.pg_end = postgres_cpu()

    def summary(self) -> str:
        machine, steal = machine_cpu()
        wall = time.monotonic() - self.started
        cores = len(os.sched_getaffinity(0))
        ours = self.own() + getattr(self, "pg_end", postgres_cpu())
        other = max(0.0, (machine - self.machine) - (ours - self.ours))
        return (
            f"CPU taken by other processes during the run: {other:.0f} s of {wall * cores:.0f} core-seconds"
            f" ({other / (wall * cores):.0%}); stolen by the hypervisor: {(steal - self.steal) / (wall * cores):.0%}"
        )


def token_for(user_id: int) -> str:
    return str(AccessToken.for_user(get_user_model().objects.get(pk=user_id)))


def endpoints_for(loaded: Loaded, login_connections: int) -> list[Endpoint]:
    bench = token_for(loaded.bench_user_id)
    cal, day, big = loaded.detail_calendar_id, loaded.detail_day_id, loaded.big_calendar_id
    login = json.dumps({"username": BENCH_USERNAME, "password": BENCH_PASSWORD})
    return [
        Endpoint("floor", "reference: fixed JSON (plain Django view)", "/bench/floor/"),
        Endpoint("limit", "reference: calendar list in one SQL query", "/bench/calendars/", token=bench),
        Endpoint("calendars", "GET /calendars/ (page of 10)", "/calendars/", token=bench),
        Endpoint(
            "calendars-304",
            "GET /calendars/ with If-None-Match (304)",
            "/calendars/",
            token=bench,
            conditional=True,
        ),
        Endpoint("calendar", "GET /calendars/{id}/", f"/calendars/{cal}/", token=bench),
        Endpoint("slots", "GET .../day/{id}/timeslot/", f"/calendars/{cal}/day/{day}/timeslot/", token=bench),
        Endpoint("slot-create", "POST .../day/{id}/timeslot/", "", mode="slots"),
        Endpoint("slot-create-key", "POST .../day/{id}/timeslot/ with Idempotency-Key", "", mode="slots-key"),
        Endpoint("friends", "GET /contacts/friends/", "/contacts/friends/", token=bench),
        Endpoint("incoming", "GET /contacts/incoming/", "/contacts/incoming/", token=bench),
        Endpoint("outgoing", "GET /contacts/outgoing/", "/contacts/outgoing/", token=bench),
        # A contains-match that finds the same 10 users at every scale (user00040 to user00049).
        Endpoint("search", "GET /contacts/search/?search=ser0004", "/contacts/search/?search=ser0004", token=bench),
        Endpoint("inbox", "GET /invitations/", "/invitations/", token=bench),
        Endpoint(
            "suggestions",
            "GET /calendars/{id}/suggestions/?duration=60",
            f"/calendars/{big}/suggestions/?duration=60",
            token=bench,
            optional=True,
        ),
        Endpoint(
            "login", f"POST /auth/login/ ({login_connections} connections)", "/auth/login/", mode="login", token=login
        ),
    ]


def write_targets_file(loaded: Loaded, out: Path) -> Path:
    tokens: dict[int, str] = {}
    lines = []
    for owner, calendar_id, day_id in loaded.write_targets:
        if owner not in tokens:
            tokens[owner] = token_for(owner)
        lines.append(f"/calendars/{calendar_id}/day/{day_id}/timeslot/ {tokens[owner]}")
    path = out / "slot_targets.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def clear_write_slots(loaded: Loaded) -> None:
    TimeSlot.objects.filter(day_id__in={day for _, _, day in loaded.write_targets}).delete()
    IdempotencyKey.objects.filter(user_id__in={owner for owner, _, _ in loaded.write_targets}).delete()


def count_queries(endpoints: list[Endpoint], loaded: Loaded) -> str:
    """Queries per request for each endpoint, with Django's test client on the same database.

    Returns whether the one-query reference answered exactly GET /calendars/'s JSON.
    """
    client = Client()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the probe of a missing endpoint is expected
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    bodies = {}
    writer, calendar_id, day_id = loaded.write_targets[0]
    writer_token = token_for(writer)
    for ep in endpoints:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {ep.token}"} if ep.mode == "get" and ep.token else {}
        if ep.conditional:  # the tag of the test client's own answer (its host is part of the list's tag)
            headers["HTTP_IF_NONE_MATCH"] = client.get(ep.path, **headers)["ETag"]
        with CaptureQueriesContext(connection) as queries:
            if ep.mode == "login":
                response = client.post(ep.path, ep.token, content_type="application/json")
            elif ep.mode in WRITE_MODES:
                keyed = ep.mode == "slots-key"
                start, end = ("23:30", "23:50") if keyed else ("23:00", "23:20")
                response = client.post(
                    f"/calendars/{calendar_id}/day/{day_id}/timeslot/",
                    {"start_time": start, "end_time": end},
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {writer_token}",
                    **({"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())} if keyed else {}),
                )
            else:
                response = client.get(ep.path, **headers)
        if ep.optional and response.status_code == 404:
            ep.available, ep.note = False, "not available (404)"
            continue
        if not 200 <= response.status_code < 300 and not (ep.conditional and response.status_code == 304):
            ep.note = f"answered {response.status_code} in the test client"
        ep.queries = len(queries)
        bodies[ep.name] = response.content
    clear_write_slots(loaded)
    if "limit" in bodies and "calendars" in bodies:
        same = json.loads(bodies["limit"]) == json.loads(bodies["calendars"])
        return "yes" if same else "NO (the reference is wrong; see tests/test_bench_reference.py)"
    return "not checked"


def cpu_set(spec: str) -> set[int]:
    """Core numbers from a taskset list such as 0, 1,3 or 2-5."""
    cores: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        cores.update(range(int(first), int(last or first) + 1))
    return cores


def pin_postgres(cpus: str) -> None:
    """Pin the postmaster and its processes; backends forked later inherit the mask."""
    pid_file = Path(os.environ.get("PG_TMPDIR", "/nonexistent")) / "data" / "postmaster.pid"
    if not pid_file.exists():
        print(f"  (PostgreSQL not pinned: {pid_file} not found)")
        return
    postmaster = int(pid_file.read_text().split()[0])
    pids = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    pinned = 0
    for pid in pids:
        try:
            os.sched_setaffinity(pid, cpu_set(cpus))
            pinned += 1
        except OSError:
            pass
    print(f"-- PostgreSQL: {pinned} of {len(pids)} processes pinned to core(s) {cpus}", flush=True)


class Server:
    """gunicorn as in production (oneonone/gunicorn.conf.py), pinned to the server cores."""

    def __init__(self, config: Config, port: int) -> None:
        self.config, self.port = config, port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "DJANGO_SETTINGS_MODULE": "bench.settings"}
        env.pop("DJANGO_DEBUG", None)
        log = (self.config.out / "gunicorn.log").open("w")
        command = ["taskset", "-c", self.config.server_cpus, str(ROOT / ".venv" / "bin" / "gunicorn")]
        command += ["oneonone.wsgi", "-c", str(ROOT / "oneonone" / "gunicorn.conf.py")]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        wait_until_serving(
            f"http://127.0.0.1:{self.port}/healthz/",
            timeout=60,
            process=self.process,
            log=self.config.out / "gunicorn.log",
            interval=0.5,
        )

    def stop(self) -> None:
        if self.process:
            stop_process(self.process, timeout=30)

    def drain(self) -> None:
        """Wait until requests wrk left queued (it stops without waiting for them) are served."""
        for _ in range(300):  # each try waits behind the queue, so this ends within a few of them
            started = time.monotonic()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz/", timeout=120):
                    pass
            except NOT_ANSWERING:
                pass
            if time.monotonic() - started < 0.05:
                return
            time.sleep(0.2)

    def status(self, ep: Endpoint) -> int:
        """The endpoint's status through the server; a conditional one learns its ETag here (the host is in it)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{ep.path}")
        if ep.mode == "get" and ep.token:
            request.add_header("Authorization", f"Bearer {ep.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
                if not ep.conditional:
                    return r.status
                ep.etag = r.headers.get("ETag", "")
        except urllib.error.HTTPError as exc:
            return exc.code
        request.add_header("If-None-Match", ep.etag)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code


def wrk(config: Config, port: int, ep: Endpoint, seconds: int, targets: Path) -> dict:
    url = f"http://127.0.0.1:{port}{ep.path or '/'}"
    args = {"get": ["get", ep.token, ep.etag], "login": ["login", ep.token]}.get(ep.mode, ["slots", str(targets)])
    if ep.mode in WRITE_MODES:
        args.append(str(config.wrk_threads))
    if ep.mode == "slots-key":
        args.append(uuid.uuid4().hex)  # the keys' prefix: new for every run, so no request is a replay
    command = ["taskset", "-c", config.client_cpus, "wrk", "-t", str(config.wrk_threads)]
    connections = config.login_connections if ep.mode == "login" else config.connections
    command += ["-c", str(connections), "-d", f"{seconds}s", "--timeout", f"{config.timeout}s"]
    command += ["-s", str(LUA), url, "--", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + config.timeout + 60, check=False)  # noqa: S603
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed for {ep.name}: {done.stdout}\n{done.stderr}")
    result = json.loads(line.removeprefix("BENCHJSON "))
    (config.out / "wrk.log").open("a").write(f"$ {' '.join(command[:-2])} ...\n{done.stdout}\n")
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "timeout", "non2xx"))
    return result


def summary(ep: Endpoint) -> dict:
    runs = ep.runs
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
        "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "kb": sum(r["bytes"] for r in runs) / max(1, sum(r["requests"] for r in runs)) / 1024,
        "last_bad_status": max(r["last_bad_status"] for r in runs),
    }


def table(endpoints: list[Endpoint]) -> str:
    rows = [
        "| endpoint | req/s | p50 ms | p99 ms | errors | queries | KB/resp |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for ep in endpoints:
        if not ep.available or not ep.runs:
            rows.append(f"| {ep.label} | {ep.note or 'not run'} | | | | | |")
            continue
        s = summary(ep)
        errors = f"{s['errors']}" + (f" (last status {s['last_bad_status']})" if s["last_bad_status"] else "")
        queries = "?" if ep.queries is None else str(ep.queries)
        figures = f"{s['rps']:.1f} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f}"
        rows.append(f"| {ep.label} | {figures} | {errors} | {queries} | {s['kb']:.1f} |")
    return "\n".join(rows)


def ratios(endpoints: list[Endpoint]) -> list[str]:
    by_name = {ep.name: ep for ep in endpoints if ep.available and ep.runs}
    lines = []
    limit, floor = by_name.get("limit"), by_name.get("floor")
    for name in ("calendars", "calendar"):
        if name in by_name and limit:
            ours, ref = summary(by_name[name])["rps"], summary(limit)["rps"]
            lines.append(
                f"{by_name[name].label}: {ours / ref:.0%} of the one-query limit ({ours:.0f} / {ref:.0f} req/s)"
            )
    full, polled = by_name.get("calendars"), by_name.get("calendars-304")
    if full and polled:
        a, b = summary(full)["rps"], summary(polled)["rps"]
        lines.append(f"GET /calendars/ answered 304: {b / a:.1f} x the full list's req/s ({b:.0f} / {a:.0f})")
    if limit and floor:
        ref, top = summary(limit)["rps"], summary(floor)["rps"]
        lines.append(f"one-query limit: {ref / top:.0%} of the framework floor ({ref:.0f} / {top:.0f} req/s)")
    plain, keyed = by_name.get("slot-create"), by_name.get("slot-create-key")
    if plain and keyed:
        a, b = summary(plain), summary(keyed)
        lines.append(
            f"Idempotency-Key on the timeslot creation: {b['rps'] / a['rps'] - 1:+.1%} req/s"
            f" ({b['rps']:.1f} / {a['rps']:.1f}), {b['p50_ms'] / a['p50_ms'] - 1:+.1%} p50"
            f" ({b['p50_ms']:.1f} / {a['p50_ms']:.1f} ms), queries {keyed.queries} / {plain.queries}"
        )
    return lines


def main() -> None:
    config = Config()
    config.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    cpu = CpuAccount()
    scale = Scale.from_factor(config.scale)
    print(f"== OneOnOne benchmark (BENCH_SCALE={config.scale}; results in {config.out})", flush=True)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    print(f"-- loading {scale} ...", flush=True)
    loaded = Loader(scale).run()
    print(f"   loaded {loaded.counts}", flush=True)
    info = machine()
    endpoints = endpoints_for(loaded, config.login_connections)
    if config.only:
        endpoints = [ep for ep in endpoints if ep.name in config.only]
    targets = write_targets_file(loaded, config.out)
    capacity = len(loaded.write_targets) * SLOTS_PER_OWNER_DAY
    same = count_queries(endpoints, loaded)
    print(f"-- queries per request counted; reference JSON identical to GET /calendars/: {same}", flush=True)
    connections.close_all()

    port = free_port()
    server = Server(config, port)
    try:
        server.start()
        pin_postgres(config.pg_cpus)
        for ep in endpoints:
            if ep.available and ep.mode == "get":
                status = server.status(ep)
                if ep.optional and status == 404:
                    ep.available, ep.note = False, "not available (404)"
                elif not 200 <= status < 300 and not (ep.conditional and status == 304):
                    ep.note = f"answered {status}"
        live = [ep for ep in endpoints if ep.available]
        print(f"-- warm-up {config.warmup} s each; then {config.runs} rounds of {config.duration} s", flush=True)
        for ep in live:
            if ep.mode in WRITE_MODES:
                clear_write_slots(loaded)
            wrk(config, port, ep, config.warmup, targets)
            server.drain()
        for round_number in range(config.runs):
            for ep in live:  # round-robin, so drift over the run touches every endpoint alike
                if ep.mode in WRITE_MODES:
                    clear_write_slots(loaded)
                    connections.close_all()
                result = wrk(config, port, ep, config.duration, targets)
                server.drain()
                if ep.mode in WRITE_MODES and result["requests"] > capacity:
                    ep.note = f"over capacity ({result['requests']} > {capacity}): overlapping slots"
                ep.runs.append(result)
                print(
                    f"   round {round_number + 1} {ep.name}: {result['rps']:.1f} req/s,"
                    f" p50 {result['p50_us'] / 1000:.1f} ms, p99 {result['p99_us'] / 1000:.1f} ms,"
                    f" errors {result['errors']}",
                    flush=True,
                )
    finally:
        server.stop()
        clear_write_slots(loaded)
        connections.close_all()
        cpu.pg_checkpoint()

    workers = os.environ.get("GUNICORN_WORKERS") or f"{(os.cpu_count() or 1) * 2 + 1} (2 x nproc + 1)"
    header = [
        f"machine: {info['nproc']} cores, {info['cpu']}, {info['memory_gib']} GiB;"
        f" Python {info['python']}, Django {info['django']}, PostgreSQL {info['postgresql']}",
        f"server: gunicorn sync workers {workers} on core(s) {config.server_cpus}; wrk {config.wrk_threads} thread(s)"
        f" on core(s) {config.client_cpus}; PostgreSQL on core(s) {config.pg_cpus}",
        f"load: {config.connections} connections ({config.login_connections} for login),"
        f" {config.runs} x {config.duration} s per endpoint (median),"
        f" {config.warmup} s warm-up, wrk timeout {config.timeout} s",
        f"data: {loaded.counts}",
        f"password hasher: {info['hasher']}",
        f"reference JSON identical to GET /calendars/: {same}",
        f"loaded in {loaded.counts.get('seconds', '?')} s",
        f"load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}"
        " (the benchmark's own processes keep it near 7 on 2 cores)",
        cpu.summary() + " (anything else running on the machine skews the figures)",
    ]
    report = "\n".join([*header, "", table(endpoints), "", *ratios(endpoints)])
    report += f"\n\ntotal time {time.monotonic() - started:.0f} s"
    print("\n" + report)
    (config.out / "report.md").write_text(report + "\n")
    raw = {
        "config": {k: str(v) for k, v in vars(config).items()},
        "machine": info,
        "data": loaded.counts,
        "endpoints": [
            {"name": ep.name, "label": ep.label, "queries": ep.queries, "note": ep.note, "runs": ep.runs}
            for ep in endpoints
        ],
    }
    (config.out / "results.json").write_text(json.dumps(raw, indent=2) + "\n")
    print(f"(report and raw figures in {config.out})")


if __name__ == "__main__":
    main()

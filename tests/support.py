"""Helpers for tests, the benchmark and the stories that drive real processes: ports, servers, concurrent calls.

Standard library only, so any interpreter can import it (the generated-client story runs in a venv
without Django); Django is touched only when it is set up in the calling process.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# Everything a poll of a server that is not up yet can raise. A read timeout on a loaded machine is a
# bare TimeoutError (socket.timeout), not a URLError: missing it once failed a CI run.
NOT_ANSWERING = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException)


class NotServing(RuntimeError):
    """A server did not answer as expected in time, or exited while starting."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(log: Path | None, chars: int = 2000) -> str:
    if log is None or not log.exists():
        return ""
    return f"\n--- last lines of {log}:\n{log.read_text(errors='replace')[-chars:]}"


def wait_until_serving(
    url: str,
    *,
    timeout: float = 30.0,
    status: int | None = 200,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
    request_timeout: float = 2.0,
    interval: float = 0.2,
) -> None:
    """Poll `url` until it answers `status` (None: any HTTP answer); NotServing after `timeout` or if `process` exits.

    `log` (the server's output) is quoted in the error.
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        if process is not None and process.poll() is not None:
            raise NotServing(f"the server for {url} exited with {process.returncode} while starting{_log_tail(log)}")
        got = None
        try:
            with urllib.request.urlopen(url, timeout=request_timeout) as response:  # noqa: S310 - our own servers
                got = response.status
        except urllib.error.HTTPError as error:  # an answer, just not a 2xx (checked before URLError, its base)
            got = error.code
            error.close()
        except NOT_ANSWERING as error:
            last = repr(error)
        if got is not None:
            if status is None or got == status:
                return
            last = f"status {got}"
        if time.monotonic() >= deadline:
            raise NotServing(f"{url} did not answer {status or 'HTTP'} within {timeout:g} s ({last}){_log_tail(log)}")
        time.sleep(interval)


def stop_process(*processes: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM each process, then SIGKILL whichever has not exited `timeout` seconds later; never raises."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        try:
            process.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


def _close_django_connections() -> None:
    """Close this thread's database connections, when Django is set up in this process (the stories run without)."""
    apps = sys.modules.get("django.apps")
    if apps is not None and apps.apps.ready:
        from django.db import connections

        connections.close_all()


class Together:
    """Calls started in their own threads and released at once by a barrier; see `start_together`."""

    def __init__(self, calls: tuple[Callable[[], Any], ...], timeout: float) -> None:
        self.results: list[Any] = [None] * len(calls)
        self.errors: list[BaseException | None] = [None] * len(calls)
        barrier = threading.Barrier(len(calls))

        def worker(index: int, call: Callable[[], Any]) -> None:
            try:
                barrier.wait(timeout=timeout)
                self.results[index] = call()
            except BaseException as exc:  # pytest.fail raises a BaseException; join() hands it to the caller
                self.errors[index] = exc
            finally:
                # Each thread has its own database connection: close it, or the test database cannot be dropped.
                _close_django_connections()

        self.threads = [
            threading.Thread(target=worker, args=(i, call), name=f"together-{i}", daemon=True)
            for i, call in enumerate(calls)
        ]
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float = 60.0, *, return_exceptions: bool = False) -> list[Any]:
        """Wait for every call; their results in order. The first exception is raised, or put in its place."""
        deadline = time.monotonic() + timeout
        for index, thread in enumerate(self.threads):
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise AssertionError(f"call {index} of {len(self.threads)} still running after {timeout:g} s: it hung")
        if return_exceptions:
            return [error or result for result, error in zip(self.results, self.errors, strict=True)]
        for error in self.errors:
            if error is not None:
                raise error
        return list(self.results)


def start_together(*calls: Callable[[], Any], timeout: float = 60.0) -> Together:
    """Start each zero-argument call in its own thread (and database connection), all released at once.

    For a caller that must act while they run (hold a lock, wait for them to queue on it); then `.join()`.
    """
    return Together(calls, timeout)


def run_together(*calls: Callable[[], Any], timeout: float = 60.0, return_exceptions: bool = False) -> list[Any]:
    """Run each zero-argument call in its own thread (and database connection), released at once; results in order.

    An exception in a call is raised here once all have finished, or returned in its place with
    `return_exceptions=True` (as `asyncio.gather`). A call still running after `timeout` fails the run.
    """
    return start_together(*calls, timeout=timeout).join(timeout, return_exceptions=return_exceptions)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1, in a thread, that records every POST and answers from a script.

    Each answer is a status, or a callable `(request) -> status | (status, headers, body)` that may
    look at the request (verify its signature), sleep, or write its own answer through
    `request["handler"]` and return None. Once the script is used up it answers `then` (204).
    Use it in a `with` block; `url(path)` is where it listens.
    """

    def __init__(self, answers: Iterable[Any] = (), *, then: int = 204) -> None:
        self.answers = list(answers)
        self.then = then
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = {"path": self.path, "headers": dict(self.headers.items()), "body": body, "handler": self}
                receiver.requests.append(request)
                answer = receiver.answers.pop(0) if receiver.answers else receiver.then
                if callable(answer):
                    answer = answer(request)
                if answer is None:
                    return
                status, headers, content = answer if isinstance(answer, tuple) else (answer, {}, b"")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


# --- the stories' JSON client and step log --------------------------------------------------------------------


def expect(condition: object, detail: object = "") -> None:
    """An assertion that survives `python -O` (the stories are scripts, not pytest tests)."""
    if not condition:
        raise AssertionError(str(detail))


class StoryRun:
    """What every story against a live server needs: JSON calls as one of its users, and a log of steps.

    `call` answers (status, parsed JSON or text); `ok` insists on a status; `check` runs one step, prints
    `ok`/`FAIL` with its time and goes on; `finish` prints the figures and `<label>: N passed, M failed`.
    """

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.tokens: dict[str, str] = {}
        self.passed = 0
        self.failed: list[str] = []
        self.figures: dict[str, object] = {}

    def call(self, method: str, path: str, body=None, *, user: str | None = None, headers=None):
        import json

        request = urllib.request.Request(self.base + path, method=method)  # noqa: S310 (http://127.0.0.1 only)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if user:
            request.add_header("Authorization", f"Bearer {self.tokens[user]}")
        data = json.dumps(body).encode() if body is not None else None
        try:
            with urllib.request.urlopen(request, data=data, timeout=30) as response:  # noqa: S310 - 127.0.0.1 only
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw) if raw else None
            except json.JSONDecodeError:
                return error.code, raw.decode(errors="replace")

    def ok(self, expected: int, method: str, path: str, body=None, **kwargs):
        status, answer = self.call(method, path, body, **kwargs)
        if status != expected:
            raise AssertionError(f"{method} {path}: {status} {answer}, expected {expected}")
        return answer

    def check(self, name: str, step: Callable[[], Any]) -> None:
        started = time.monotonic()
        try:
            step()
        except Exception as error:  # each step reports and the story goes on where it can
            self.failed.append(f"{name}: {error}")
            print(f"FAIL {name} ({time.monotonic() - started:.1f} s): {error}", flush=True)
        else:
            self.passed += 1
            print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)

    def finish(self, label: str) -> int:
        for name, value in self.figures.items():
            print(f"figure  {name}: {value}")
        print(f"{label}: {self.passed} passed, {len(self.failed)} failed")
        return 1 if self.failed else 0

"""The helpers of tests/support.py that tests, the benchmark and the stories lean on."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.support import NotServing, free_port, run_together, start_together, stop_process, wait_until_serving


class FakeServer:
    """A raw HTTP server on 127.0.0.1 that answers connection n with `behaviour(n)`: a status, or None to hang."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.listener.settimeout(0.1)
        held = []
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            status = self.behaviour(self.connections)
            if status is None:
                held.append(conn)  # accepted, never answered: the client's read times out
                continue
            conn.recv(4096)
            conn.sendall(f"HTTP/1.0 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
            conn.close()
        for conn in held:
            conn.close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/healthz/"

    def close(self):
        self.stopped.set()
        self.thread.join()
        self.listener.close()


@pytest.fixture
def fake_server():
    servers = []

    def make(behaviour):
        servers.append(FakeServer(behaviour))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


class TestWaitUntilServing:
    def test_a_read_timeout_is_waited_out(self, fake_server):
        # The first connection is accepted and never answered, as by a server busy starting on a loaded machine.
        server = fake_server(lambda n: None if n == 1 else 200)
        wait_until_serving(server.url, timeout=10, request_timeout=0.3, interval=0.05)
        assert server.connections >= 2

    def test_waits_for_the_status_asked(self, fake_server):
        server = fake_server(lambda n: 503 if n < 3 else 200)
        wait_until_serving(server.url, timeout=10, interval=0.05)
        assert server.connections == 3

    def test_any_answer_when_no_status_is_asked(self, fake_server):
        server = fake_server(lambda n: 503)
        wait_until_serving(server.url, status=None, timeout=10, interval=0.05)
        assert server.connections == 1

    def test_gives_up_with_the_last_answer(self, fake_server):
        server = fake_server(lambda n: 503)
        with pytest.raises(NotServing, match=r"did not answer 200 within 0.5 s \(status 503\)"):
            wait_until_serving(server.url, timeout=0.5, interval=0.05)

    def test_nothing_listening(self):
        with pytest.raises(NotServing, match="Connection refused"):
            wait_until_serving(f"http://127.0.0.1:{free_port()}/", timeout=0.3, interval=0.05)

    def test_a_server_that_exits_fails_at_once_with_its_log(self, tmp_path):
        log = tmp_path / "server.log"
        log.write_text("Error: address already in use\n")
        process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        process.wait()
        started = time.monotonic()
        with pytest.raises(NotServing, match=r"exited with 3 while starting(.|\n)*address already in use"):
            wait_until_serving(f"http://127.0.0.1:{free_port()}/", process=process, log=log, timeout=30)
        assert time.monotonic() - started < 5


def python(code: str) -> subprocess.Popen:
    """A Python child that prints `ready` once it has run `code`'s setup."""
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert process.stdout.readline().strip() == "ready"
    return process


class TestStopProcess:
    def test_terminates(self):
        process = python("import time; print('ready', flush=True); time.sleep(60)")
        stop_process(process)
        assert process.returncode == -signal.SIGTERM

    def test_kills_what_ignores_terminate(self):
        process = python(
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
            "time.sleep(60)"
        )
        started = time.monotonic()
        stop_process(process, timeout=0.5)
        assert process.returncode == -signal.SIGKILL
        assert time.monotonic() - started < 5

    def test_several_and_already_ended(self):
        ended = subprocess.Popen([sys.executable, "-c", "pass"])
        ended.wait()
        running = python("import time; print('ready', flush=True); time.sleep(60)")
        stop_process(ended, running)
        assert (ended.returncode, running.returncode) == (0, -signal.SIGTERM)


class TestRunTogether:
    def test_calls_run_at_the_same_time(self):
        # Each call waits for the other to have started: run one after the other, both would time out.
        first, second = threading.Event(), threading.Event()

        def meet(mine, other):
            mine.set()
            return other.wait(timeout=5)

        assert run_together(lambda: meet(first, second), lambda: meet(second, first)) == [True, True]

    def test_results_in_order(self):
        calls = [(lambda n=n: (time.sleep(0.01 * (5 - n)), n)[1]) for n in range(5)]
        assert run_together(*calls) == [0, 1, 2, 3, 4]

    def test_an_exception_is_raised_after_every_call_finished(self):
        finished = []

        def fail():
            raise ValueError("boom")

        def slow():
            time.sleep(0.2)
            finished.append(True)

        with pytest.raises(ValueError, match="boom"):
            run_together(fail, slow)
        assert finished == [True]

    def test_exceptions_returned_in_place(self):
        def fail():
            raise ValueError("boom")

        ok, error = run_together(lambda: 1, fail, return_exceptions=True)
        assert ok == 1
        assert isinstance(error, ValueError)

    def test_a_hung_call_fails(self):
        release = threading.Event()
        with pytest.raises(AssertionError, match=r"call 1 of 2 still running after 0\.3 s"):
            run_together(lambda: 1, lambda: release.wait(10), timeout=0.3)
        release.set()

    def test_started_calls_run_while_the_caller_acts(self):
        gate = threading.Event()
        racers = start_together(lambda: gate.wait(5), lambda: gate.wait(5))
        time.sleep(0.05)
        assert all(thread.is_alive() for thread in racers.threads)
        gate.set()
        assert racers.join() == [True, True]

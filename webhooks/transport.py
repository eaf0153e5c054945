"""One POST of a webhook: to the address that was checked, within a deadline, reading a bounded answer.

Standard library only (http.client), because the connection must go to the address webhooks.safety
checked, not to whatever a second resolution of the name returns; TLS still verifies the
certificate against the host name (SNI), and the Host header is the URL's. No redirect is followed
(a 3xx is a failure: the owner should update the URL), at most MAX_RESPONSE_BYTES (64 KB) of the
answer are read, and the whole attempt, connecting included, gets WEBHOOK_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import datetime
import email.utils
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from webhooks import safety

USER_AGENT = "OneOnOne-Webhooks/1.0"
EXCERPT_CHARS = 300
# The most of an answer read: a receiver has nothing to tell but its status.
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to: the HTTP status (None without an answer), how long it took, why it failed."""

    status: int | None
    duration_ms: int
    error: str = ""
    retry_after: int | None = None  # seconds, from the answer's Retry-After

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def open_connection(address: str, port: int, timeout: float) -> socket.socket:
    """The one place a webhook's TCP connection is made (the tests hold it to loopback)."""
    return socket.create_connection((address, port), timeout=timeout)


class _Deadline:
    """Cuts the connection when the attempt's time is up, whatever it is waiting for (a slow drip included)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.passed = False
        self.sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        return max(self.ends - time.monotonic(), 0.001)

    def hold(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self.sock = sock
            if self.passed:
                sock.close()
                raise TimeoutError("the deadline passed while connecting")
        return sock

    def _cut(self) -> None:
        with self._lock:
            self.passed = True
            if self.sock is not None:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """http.client's connection, with the TCP connection made to the checked address."""

    def __init__(self, host: str, port: int, *, address: str, deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=deadline.seconds)
        self._address, self._deadline = address, deadline

    def _open(self) -> socket.socket:
        return self._deadline.hold(open_connection(self._address, self.port, self._deadline.remaining()))

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        # The certificate is checked against the URL's host name, while the socket goes to the checked address.
        context = ssl.create_default_context()
        self.sock = self._deadline.hold(context.wrap_socket(self._open(), server_hostname=self.host))


def _retry_after(value: str | None) -> int | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(int((when - datetime.datetime.now(datetime.UTC)).total_seconds()), 0)


def _excerpt(data: bytes) -> str:
    text = " ".join(data.decode("utf-8", errors="replace").split())
    return text[:EXCERPT_CHARS]


def _describe(exc: BaseException, deadline: _Deadline) -> str:
    if deadline.passed or isinstance(exc, TimeoutError):
        return f"no complete answer within {deadline.seconds:g} s"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}"


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to `url` once, to an address checked now (webhooks.safety); never raises."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        target = safety.parse(url)
        address = str(safety.checked_address(target))
    except safety.UnsafeURL as exc:
        return Outcome(status=None, duration_ms=elapsed(), error=f"refused: {exc}")
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    with _Deadline(settings.WEBHOOK_TIMEOUT_SECONDS) as deadline:
        connection = connection_class(target.host, target.port, address=address, deadline=deadline)
        try:
            connection.request(
                "POST",
                target.path,
                body=body,
                headers={
                    **headers,
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "Connection": "close",
                },
            )
            response = connection.getresponse()
            data = response.read(MAX_RESPONSE_BYTES)
            status = response.status
            retry_after = _retry_after(response.getheader("Retry-After"))
            location = response.getheader("Location")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return Outcome(status=None, duration_ms=elapsed(), error=_describe(exc, deadline))
        finally:
            connection.close()
    if deadline.passed:
        # Cut short, the answer may look whole (headers ended by the cut): it is not.
        return Outcome(status=None, duration_ms=elapsed(), error=_describe(TimeoutError(), deadline))
    if not 100 <= status <= 599:
        return Outcome(status=None, duration_ms=elapsed(), error=f"an invalid HTTP status {status}")
    outcome = Outcome(status=status, duration_ms=elapsed(), retry_after=retry_after)
    if outcome.succeeded:
        return outcome
    error = f"HTTP {status}"
    if 300 <= status < 400:
        error += f" (redirects are not followed{f'; Location: {location[:200]}' if location else ''})"
    if data:
        error += f": {_excerpt(data)}"
    return Outcome(status=status, duration_ms=outcome.duration_ms, error=error, retry_after=retry_after)

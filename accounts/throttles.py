"""Throttles for password checks and the token endpoints: an atomic count per client address and window.

DRF's SimpleRateThrottle reads a history list from the cache and writes it back, so parallel
attempts read the same list and all pass: 20 wrong passwords at once got 11-13 through at 10 a
minute. Here every attempt is one atomic increment, so N parallel attempts get exactly the rate:

- on the database cache (the default), one SQL statement (an UPSERT ... RETURNING) on the
  `ThrottleCounter` table; Django's `DatabaseCache.incr` is a read and a write, not atomic;
- on any other cache (Redis with REDIS_URL), the cache's `add` and `incr` (Redis SET NX and INCR).

A window opens with the first attempt from an address and lasts the rate's period; Retry-After is
the time left in it. Within one window the limit is exact; across two adjacent windows a client can
spend the rate twice in a short span, the usual price of a fixed window.
"""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router
from django.http import HttpRequest
from redis.exceptions import RedisError  # Redis is the shared cache when REDIS_URL is set
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.models import ThrottleCounter
from oneonone.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)

LIMITER_UNAVAILABLE = "The rate limiter is unavailable; try again shortly."
# Attribute of the Django request that remembers each scope's decision: a request is counted once
# per scope even when the view's throttle and the password check both ask.
_DECISIONS = "_oneonone_throttle_decisions"


class FixedWindowRateThrottle(SimpleRateThrottle):
    """Attempts per client address (DRF's `get_ident`, so `NUM_PROXIES`-aware) and scope, counted atomically.

    A request is DRF's in a view, Django's in a password check (accounts.backends), with no view.
    """

    # Set by SimpleRateThrottle.__init__ from the rate (both None without one); its stubs leave them out.
    num_requests: int | None
    duration: int | None
    _wait: int | None

    def get_cache_key(self, request: Request | HttpRequest, view: APIView | None) -> str:
        # DRF's stubs ask for its Request, but get_ident reads only META, which a Django request has too.
        ident = self.get_ident(request) or ""  # type: ignore[arg-type]
        if len(ident) > 100:  # from X-Forwarded-For behind a proxy: keep the key short for every backend
            ident = hashlib.sha256(ident.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request | HttpRequest, view: APIView | None) -> bool:
        if self.rate is None or self.num_requests is None or self.duration is None:  # all None without a rate
            return True
        decisions = getattr(request, "_request", request).__dict__.setdefault(_DECISIONS, {})
        if self.scope not in decisions:
            now = self.timer()
            # Without its counter the throttle cannot protect the login: refuse with 503, never 500 or fail-open.
            try:
                count, resets_at = count_attempt(self.get_cache_key(request, view), self.duration, now)
            except RedisError as exc:
                logger.warning("throttle cache unavailable: %s", exc)
                raise ServiceUnavailable(LIMITER_UNAVAILABLE) from exc
            # Whole seconds, rounded up: DRF's Retry-After drops the fraction, and a client must not retry too early.
            decisions[self.scope] = None if count <= self.num_requests else max(math.ceil(resets_at - now), 1)
        self._wait = decisions[self.scope]
        return self._wait is None

    def wait(self) -> int | None:
        return self._wait

    def check(self, request: Request | HttpRequest) -> None:
        """For password checks outside a DRF view's throttles: raise `Throttled` (429) past the rate."""
        if not self.allow_request(request, None):
            raise Throttled(wait=self.wait())


class AuthRateThrottle(FixedWindowRateThrottle):
    """Password checks (JWT, browsable-API and admin logins, admin password change), refresh and logout
    per client address (AUTH_THROTTLE_RATE): one counter for all of them."""

    scope = "auth"


class RegisterRateThrottle(FixedWindowRateThrottle):
    """Account creations per client address (REGISTER_THROTTLE_RATE)."""

    scope = "register"


class UserFixedWindowRateThrottle(FixedWindowRateThrottle):
    """Counted per signed-in user (per address for anyone else), atomically like the others."""

    def get_cache_key(self, request: Request | HttpRequest, view: APIView | None) -> str:
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}
        return super().get_cache_key(request, view)


class EmailResendThrottle(UserFixedWindowRateThrottle):
    """Confirmation emails asked for per user (EMAIL_RESEND_THROTTLE_RATE)."""

    scope = "email_resend"


def count_attempt(key: str, period: int, now: float) -> tuple[int, float]:
    """Count one attempt under `key`: the attempts in its current window, this one included, and when it ends."""
    cache = caches["default"]
    if isinstance(cache, DatabaseCache):
        return _count_in_database(key, period, now)
    return _count_in_cache(cache, key, period, now)


def _count_in_database(key: str, period: int, now: float) -> tuple[int, float]:
    # One statement: the row is inserted, or updated under its row lock (PostgreSQL) or the database's
    # write lock (SQLite), so concurrent attempts each see their own count. Every right-hand side of SET
    # reads the row as it was before this update.
    db = router.db_for_write(ThrottleCounter)
    connection = connections[db]
    quote = connection.ops.quote_name
    table, key_col, count_col, resets_col = (
        quote(name) for name in (ThrottleCounter._meta.db_table, "key", "count", "resets_at")
    )
    expired = f"{table}.{resets_col} <= %s"
    # Identifiers quoted by the backend; values passed as parameters.
    sql = (
        f"INSERT INTO {table} ({key_col}, {count_col}, {resets_col}) VALUES (%s, 1, %s) "  # noqa: S608
        f"ON CONFLICT ({key_col}) DO UPDATE SET "
        f"{count_col} = CASE WHEN {expired} THEN 1 ELSE {table}.{count_col} + 1 END, "
        f"{resets_col} = CASE WHEN {expired} THEN excluded.{resets_col} ELSE {table}.{resets_col} END "
        f"RETURNING {count_col}, {resets_col}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, now + period, now, now])
        count, resets_at = cursor.fetchone()
        if count == 1:
            # A window opened: sweep the windows that ended, so the table holds only live ones.
            cursor.execute(f"DELETE FROM {table} WHERE {resets_col} < %s", [now])  # noqa: S608 - names quoted above
    return count, resets_at


def _count_in_cache(cache: Any, key: str, period: int, now: float) -> tuple[int, float]:
    # The first attempt opens the window: `key` holds its start (add is SET NX on Redis). Each window
    # has its own counter, named after its start, that outlives the window by a minute so `incr` never
    # meets it gone.
    for _ in range(3):
        cache.add(key, now, period)
        start = cache.get(key)
        if start is None:  # the window ended between the two calls
            continue
        counter = f"{key}:{start!r}"
        cache.add(counter, 0, period + 60)
        try:
            return cache.incr(counter), start + period
        except ValueError:  # evicted meanwhile
            continue
    raise ServiceUnavailable(LIMITER_UNAVAILABLE)


class AccountExportThrottle(UserFixedWindowRateThrottle):
    """Exports of my account's data per user (ACCOUNT_EXPORT_THROTTLE_RATE): each one reads every table."""

    scope = "account_export"


class AccountDeleteThrottle(UserFixedWindowRateThrottle):
    """Attempts to delete my account per user (ACCOUNT_DELETE_THROTTLE_RATE): a stolen access token
    must not be a way to guess the password."""

    scope = "account_delete"

"""Throttles of the public iCalendar feed: per client address and per feed token, counted atomically.

The feed needs no login (the token in its URL is the secret), so these are its only bound on how often it
is built: the address one stops a client from hammering many feeds (or guessing tokens), the token one a
feed being polled from many addresses. Both reuse the fixed-window counter of the login throttle
(accounts.throttles), in the database cache or Redis.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.throttles import FixedWindowRateThrottle


class FeedAddressThrottle(FixedWindowRateThrottle):
    """Feed reads per client address, whatever the token (FEED_ADDRESS_THROTTLE_RATE)."""

    scope = "feed_address"


class FeedTokenThrottle(FixedWindowRateThrottle):
    """Feed reads per token, from any address (FEED_TOKEN_THROTTLE_RATE); keyed by its digest, not the secret."""

    scope = "feed_token"

    def get_cache_key(self, request: Request | HttpRequest, view: APIView | None) -> str:
        token = view.kwargs.get("token", "") if view is not None else ""
        return self.cache_format % {"scope": self.scope, "ident": hashlib.sha256(token.encode()).hexdigest()}

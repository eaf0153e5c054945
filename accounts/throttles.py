"""Throttles for the unauthenticated auth endpoints, counted in the shared cache."""

from __future__ import annotations

import logging

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from oneonone.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)

try:  # Redis is the shared cache when REDIS_URL is set.
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is pinned in requirements.txt
    RedisError = OSError


class AuthRateThrottle(AnonRateThrottle):
    """Login and refresh attempts per client address (AUTH_THROTTLE_RATE)."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        # Without its counter the throttle cannot protect the login: refuse with 503, never 500 or fail-open.
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            logger.warning("throttle cache unavailable: %s", exc)
            raise ServiceUnavailable("The rate limiter is unavailable; try again shortly.") from exc


class RegisterRateThrottle(AuthRateThrottle):
    """Account creations per client address (REGISTER_THROTTLE_RATE)."""

    scope = "register"


class EmailResendThrottle(UserRateThrottle):
    """Confirmation emails asked for per user (EMAIL_RESEND_THROTTLE_RATE)."""

    scope = "email_resend"


class AccountExportThrottle(UserRateThrottle):
    """Exports of my account's data per user (ACCOUNT_EXPORT_THROTTLE_RATE): each one reads every table."""

    scope = "account_export"


class AccountDeleteThrottle(UserRateThrottle):
    """Attempts to delete my account per user (ACCOUNT_DELETE_THROTTLE_RATE): a stolen access token
    must not be a way to guess the password."""

    scope = "account_delete"

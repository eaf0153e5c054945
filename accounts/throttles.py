"""Throttles for the unauthenticated auth endpoints, counted in the shared cache."""

from rest_framework.throttling import AnonRateThrottle


class AuthRateThrottle(AnonRateThrottle):
    """Login and refresh attempts per client address (AUTH_THROTTLE_RATE)."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RegisterRateThrottle(AuthRateThrottle):
    """Account creations per client address (REGISTER_THROTTLE_RATE)."""

    scope = "register"

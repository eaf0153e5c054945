"""The login throttle for Django's own views (admin, browsable-API login), answered as the API answers it."""

from __future__ import annotations

import math

from django.http import JsonResponse
from rest_framework.exceptions import APIException, Throttled

from accounts.throttles import AuthRateThrottle

# Django views that check a password without `authenticate()` (which accounts.backends throttles).
PASSWORD_FORM_VIEWS = frozenset({"admin:password_change"})


class PasswordThrottleMiddleware:
    """Count posts to PASSWORD_FORM_VIEWS; answer the throttle's refusals in Django views as DRF does (JSON 429,
    or 503 when the limiter's cache is lost)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method == "POST" and request.resolver_match.view_name in PASSWORD_FORM_VIEWS:
            try:
                AuthRateThrottle().check(request)
            except APIException as exc:
                return api_error_response(exc)
        return None

    def process_exception(self, request, exception):
        # accounts.backends raises them inside Django's login forms.
        return api_error_response(exception) if isinstance(exception, APIException) else None


def api_error_response(exc: APIException) -> JsonResponse:
    """What DRF's exception handler answers: `{"detail": ...}` and, for 429 and 503, Retry-After."""
    response = JsonResponse({"detail": str(exc.detail)}, status=exc.status_code)
    # djangorestframework-stubs leave out Throttled.wait (set in its __init__).
    wait: float | None = exc.wait if isinstance(exc, Throttled) else None  # type: ignore[attr-defined]
    if wait is not None:
        response["Retry-After"] = str(math.ceil(wait))
    elif exc.status_code == 503:
        response["Retry-After"] = "5"
    return response

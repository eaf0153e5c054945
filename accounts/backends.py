"""Authentication backends: Django's, with every password check counted by the login throttle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.throttles import AuthRateThrottle

if TYPE_CHECKING:
    from accounts.models import User


class ThrottledModelBackend(ModelBackend):
    """ModelBackend whose password checks count against the client address's login throttle.

    Every caller of `authenticate()` that passes the request is covered: the JWT login, the
    browsable API's and the admin's login forms, and any later one (HTTP Basic, say). Past the rate
    it raises DRF's `Throttled`: a 429 from DRF views, and from Django views through
    `accounts.middleware.PasswordThrottleMiddleware`. A request is counted once even when its view's
    throttle has already counted it.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if request is not None and username is not None and password is not None:
            AuthRateThrottle().check(request)
        return super().authenticate(request, username=username, password=password, **kwargs)

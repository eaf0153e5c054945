"""The signed-in user of a request, typed as the user model."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from accounts.models import User


def current_user(request: Request | HttpRequest) -> User:
    """`request.user` where a view lets only signed-in users in (IsAuthenticated, the default permission).

    The check is for the type: the permission refused anonymous users before the view ran. A view that lets
    them in must not call this; if one does, the answer is the same 401 the permission gives.
    """
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user

"""The view mixin that makes the API's writes honour an Idempotency-Key (idempotency.keys).

Put it first among the bases of every view with a write that needs a signed-in user; tests/test_idempotency.py
checks that none is missed. Views without a user (register, login, refresh, logout, email verification)
leave it out: keys belong to a user, and those are safe to repeat or must not be replayed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import DatabaseError

from idempotency import keys

if TYPE_CHECKING:
    from rest_framework.views import APIView

    _ViewBase = APIView  # the checker sees what the mixin is mixed into
else:
    _ViewBase = object


class IdempotentWrites(_ViewBase):
    _idempotent_attempt: keys.Attempt | None = None

    def dispatch(self, request, *args, **kwargs):
        self._idempotent_attempt = None
        try:
            response = super().dispatch(request, *args, **kwargs)
        except BaseException:
            if self._idempotent_attempt is not None:
                self._idempotent_attempt.abandon()
            raise
        if self._idempotent_attempt is not None:
            response = self._idempotent_attempt.finish(response)
        return response

    def check_permissions(self, request):
        super().check_permissions(request)
        # Signed in and allowed; before the throttles, so a replay, which does no work, spends no quota.
        self._idempotent_attempt = keys.begin(request)

    def handle_exception(self, exc):
        if isinstance(exc, keys.Replay):
            return exc.response
        if isinstance(exc, DatabaseError) and self._idempotent_attempt is not None:
            # Answered (400, 409, 503) but the transaction may be unusable: roll back, store nothing.
            self._idempotent_attempt.database_error = True
        return super().handle_exception(exc)

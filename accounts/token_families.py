"""Refresh token families: rotate on refresh (one successor; reuse revokes the family), revoke at logout.

A family is every refresh token descended from one login. It is named after the login's token (its
`jti`), and every successor carries that name in its `fam` claim; the family's row is written when the
login's token is first refreshed or logged out. The row holds the newest token's id, and rotation moves
it from the token presented to its successor in one conditional UPDATE, so of any number of concurrent
rotations of one token exactly one wins (PostgreSQL re-checks the condition under the row lock; SQLite
runs one write transaction at a time); two first uses of a login's token meet on the row's primary key.

A token that is not the family's newest, or is blacklisted, has been used before: a copy leaked, and the
family is revoked (OAuth 2.0 Security BCP, refresh token rotation for public clients), the thief's
tokens and the owner's alike. Each rotation blacklists the token it replaces, so blacklisting the newest
blacklists every outstanding token of the family, and `revoked_at` refuses the rest.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import RefreshTokenFamily
from accounts.tokens import RefreshToken

logger = logging.getLogger(__name__)

# simplejwt's words for a revoked token, kept so clients that match on them keep working.
REVOKED = "Token is blacklisted"


def refresh_token_rotate(*, token: RefreshToken) -> RefreshToken:
    """The successor of `token`, which is blacklisted. Raises TokenError (401) if `token` was already
    rotated, revoked or blacklisted, after revoking its family for good."""
    with transaction.atomic():
        successor = _rotate(token)
    if successor is None:  # raised outside the transaction, which keeps the revocation
        raise TokenError(REVOKED)
    return successor


@transaction.atomic
def refresh_token_revoke(*, token: RefreshToken) -> None:
    """Logout: revoke the family of `token`, whichever of its tokens it is, and blacklist `token`."""
    _family_of(token)
    _revoke_family(token.family_id, because=RefreshTokenFamily.Revoked.LOGOUT)
    token.blacklist()


def _rotate(token: RefreshToken) -> RefreshToken | None:
    _family_of(token)
    successor = token.successor()
    moved = not _blacklisted(token.jti) and (
        RefreshTokenFamily.objects.filter(id=token.family_id, current_jti=token.jti, revoked_at=None).update(
            current_jti=successor.jti, expires_at=datetime_from_epoch(successor["exp"])
        )
    )
    token.blacklist()
    if not moved:
        if _revoke_family(token.family_id, because=RefreshTokenFamily.Revoked.REUSE):
            logger.warning("refresh token %s used again: its family %s is revoked", token.jti, token.family_id)
        return None
    _record(successor, user_id=successor[api_settings.USER_ID_CLAIM])
    return successor


def _family_of(token: RefreshToken) -> None:
    """Write the family's row on the first use of a login's token (a no-op for its successors)."""
    if not token.opens_family:
        return
    user_id = token[api_settings.USER_ID_CLAIM]
    _, created = RefreshTokenFamily.objects.get_or_create(
        id=token.family_id,
        defaults={"user_id": user_id, "current_jti": token.jti, "expires_at": datetime_from_epoch(token["exp"])},
    )
    if created:  # keep the table to live families: sweep this user's expired ones
        RefreshTokenFamily.objects.filter(user_id=user_id, expires_at__lt=timezone.now()).delete()


def _revoke_family(family_id: str, *, because: str) -> bool:
    """Revoke the family and blacklist its newest token; True if it was live until now."""
    revoked = RefreshTokenFamily.objects.filter(id=family_id, revoked_at=None).update(
        revoked_at=timezone.now(), revoked_because=because
    )
    newest = RefreshTokenFamily.objects.filter(id=family_id).values_list("current_jti", flat=True).first()
    outstanding = OutstandingToken.objects.filter(jti=newest).first() if newest else None
    if outstanding is not None:
        BlacklistedToken.objects.get_or_create(token=outstanding)
    return bool(revoked)


def _blacklisted(jti: str) -> bool:
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


def _record(token: RefreshToken, *, user_id: int | str) -> None:
    """`user_id` as the token's claim holds it: an int, or its digits as a string (accounts.tokens.check_claims)."""
    OutstandingToken.objects.create(
        user_id=user_id,
        jti=token.jti,
        token=str(token),
        created_at=token.current_time,
        expires_at=datetime_from_epoch(token["exp"]),
    )

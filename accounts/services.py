"""Writes on accounts: registering, confirming an email address, deleting an account; each one transaction."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import EmailVerification, token_digest
from accounts.signals import user_deleting
from delivery.mail import queue_email
from oneonone.exceptions import Conflict

if TYPE_CHECKING:
    from accounts.models import User
else:
    User = get_user_model()

REFUSED_CONFIRMATION = "This token is unknown, used or expired; ask for a new one (POST /auth/email/resend/)."
WRONG_PASSWORD = "This is not your password; nothing was deleted."  # noqa: S105 (a message)


def _verify_url(token: str) -> str:
    return settings.EMAIL_VERIFY_URL.format(token=token)


@transaction.atomic
def email_verification_send(*, user: User) -> EmailVerification:
    """Mail `user` a fresh single-use secret that confirms their current address (409 without one, or if confirmed)."""
    if not user.email:
        raise Conflict("You have no email address to confirm; set one first.")
    if user.email_verified:
        raise Conflict(f"{user.email} is already confirmed.")
    token, digest = EmailVerification.new_secret()
    lifetime = datetime.timedelta(hours=settings.EMAIL_VERIFY_HOURS)
    verification = EmailVerification.objects.create(
        user=user, email=user.email, digest=digest, expires_at=timezone.now() + lifetime
    )
    body = (
        f"Hello {user.username},\n\n"
        f"Confirm that {user.email} is your address for OneOnOne, so that meeting notices can reach you:\n\n"
        f"    {_verify_url(token)}\n\n"
        f'or send POST /auth/email/verify/ {{"token": "{token}"}}.\n\n'
        f"The link works once, for {settings.EMAIL_VERIFY_HOURS} hours. If you did not register, ignore this email.\n"
    )
    queue_email(
        key=f"verify:{verification.pk}",
        kind="verify",
        recipient=user,
        subject="Confirm your email address for OneOnOne",
        body=body,
        needs_verified_address=False,
    )
    return verification


@transaction.atomic
def user_register(*, username: str, password: str, email: str = "") -> User:
    """Create the user; with an address, mail them its confirmation. 400 when the name is taken meanwhile."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as exc:
        # The same name (in any case) registered at the same moment: the unique constraint decides.
        raise ValidationError({"username": ["A user with that username already exists."]}) from exc
    if email:
        email_verification_send(user=user)
    return user


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Confirm the address a token was sent to; the token is used up. 400 for an unknown, used or expired one."""
    verification = (
        EmailVerification.objects.select_for_update().select_related("user").filter(digest=token_digest(token)).first()
    )
    now = timezone.now()
    if verification is None or verification.used_at is not None or verification.expires_at <= now:
        raise ValidationError({"token": [REFUSED_CONFIRMATION]})
    user = User.objects.select_for_update().get(pk=verification.user_id)
    if user.email.lower() != verification.email.lower():
        raise ValidationError({"token": ["This token confirms an address you no longer have."]})
    verification.used_at = now
    verification.save(update_fields=["used_at"])
    user.verified_email = user.email
    user.save(update_fields=["verified_email"])
    return user


@transaction.atomic
def user_update_profile(*, user: User, email: str | None = None, timezone: str | None = None) -> User:
    """Change my address (mailed a confirmation; notices stop until it is confirmed) or my time zone."""
    user = User.objects.select_for_update().get(pk=user.pk)
    fields = []
    if timezone is not None:
        user.timezone = timezone
        fields.append("timezone")
    changed_address = email is not None and email.lower() != user.email.lower()
    if email is not None and email != user.email:
        user.email = email
        fields.append("email")
    if fields:
        user.save(update_fields=fields)
    if changed_address and user.email and not user.email_verified:
        email_verification_send(user=user)
    return user


def tokens_revoke(*, user: User) -> int:
    """Blacklist every refresh token issued to `user` that is not blacklisted yet; returns how many."""
    outstanding = OutstandingToken.objects.filter(user_id=user.pk, blacklistedtoken__isnull=True)
    revoked = [BlacklistedToken(token_id=pk) for pk in outstanding.values_list("pk", flat=True)]
    # Another deletion of the same account may have blacklisted some meanwhile: once is enough.
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


@transaction.atomic
def user_delete(*, user: User, password: str) -> bool:
    """Delete `user`'s account and everything it owns, after checking `password` (400, nothing changes).

    One transaction: the user row is locked against a second deletion (FOR NO KEY UPDATE, which rows
    merely pointing at the user do not wait for); `accounts.signals.user_deleting` lets the apps above
    do what a cascade cannot (the calendars app tells the participants of the user's calendars, by
    email through the queue, and takes those calendars first, in its own lock order); every refresh
    token is blacklisted; then the row goes, and with it by cascade the user's calendars, slots,
    invitations, contacts, webhooks, feed token and queued emails. Access tokens stop working because
    their user is gone (401). Returns False when the account was deleted meanwhile (nothing to do).
    """
    if not user.check_password(password):
        raise ValidationError({"password": [WRONG_PASSWORD]})
    if User.objects.select_for_update(no_key=True).filter(pk=user.pk).first() is None:
        return False
    user_deleting.send(sender=User, user=user)
    tokens_revoke(user=user)
    # The instance itself, not a queryset: pre_delete receivers then see what the user_deleting receivers noted
    # on it (calendars.versions.count_user_leaving: the calendars were counted already, once).
    user.delete()
    return True

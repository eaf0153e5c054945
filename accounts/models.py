"""The user model (Django's, swappable from the first migration), the confirmations of email addresses,
refresh token families and throttle counters."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.validators import validate_email_address


class User(AbstractUser):
    """A OneOnOne user; username rules as Django's (150 chars, letters, digits and @/./+/-/_)."""

    # Django's 128 characters cannot hold an Argon2id-wrapped PBKDF2 hash (about 160; accounts/hashers.py).
    password = models.CharField("password", max_length=255)
    email = models.EmailField("email address", blank=True, validators=[validate_email_address])
    # The address its owner confirmed (POST /auth/email/verify/); notices go only to a confirmed address,
    # so changing `email` lapses the confirmation until the new one is confirmed too.
    verified_email = models.EmailField(blank=True, default="")
    # IANA zone the user reads times in (emails, `?tz=`); blank: each calendar's own zone.
    timezone = models.CharField(max_length=64, blank=True, default="")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["id"]
        constraints = [
            # "Alice" and "alice" would be indistinguishable to the people inviting them.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    @property
    def email_verified(self) -> bool:
        return bool(self.email) and self.verified_email.lower() == self.email.lower()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EmailVerification(models.Model):
    """A single-use, expiring secret mailed to an address; posting it back confirms that address."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_verifications")
    email = models.EmailField()
    # Only the SHA-256 of the secret is kept: a read of the table confirms nothing.
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="verification_expires_later"
            )
        ]

    def __str__(self) -> str:
        return f"confirmation of {self.email}"

    @staticmethod
    def new_secret() -> tuple[str, str]:
        """A fresh secret (256 random bits, URL-safe) and its digest."""
        token = secrets.token_urlsafe(32)
        return token, token_digest(token)


class ThrottleCounter(models.Model):
    """Attempts from one client address in the current window of a throttle scope (accounts/throttles.py).

    Used when the cache is the database cache, whose `incr` is not atomic; one UPSERT counts an attempt.
    """

    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField()
    # When the window ends, in seconds since the epoch: compared with the time of each attempt.
    resets_at = models.FloatField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class RefreshTokenFamily(models.Model):
    """The refresh tokens descended from one login, rotated one after the other (accounts/token_families.py).

    Only the newest, `current_jti`, may be refreshed. Presenting an older one means a copy leaked
    (OAuth 2.0 Security BCP, refresh token rotation): the family is revoked, and every token of it
    is refused from then on, the thief's and the owner's alike. Logout revokes it too.
    """

    class Revoked(models.TextChoices):
        LOGOUT = "logout"
        REUSE = "reuse"

    # The `fam` claim of its tokens; a token issued before families has its own jti here.
    id = models.CharField(max_length=255, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    current_jti = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its newest token expires: after that the family is dead, and swept at the user's next login.
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_because = models.CharField(max_length=6, choices=Revoked.choices, blank=True)

    def __str__(self) -> str:
        return f"refresh tokens {self.id} of user {self.user_id}"

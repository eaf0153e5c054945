"""The outbox: every email the API sends, one row per notice and recipient, and when periodic tasks run next.

A row is written in the same transaction as the change that causes it, with its send task (the
database task backend) or before its send task is enqueued on commit (Redis): a rolled-back change
sends nothing and a committed one is never lost, whatever happens to the worker (docs/deploy.md).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    # The plugin's name for AUTH_USER_MODEL's class: delivery sits below accounts and cannot import it.
    from django.contrib.auth.models import _User as User


def has_verified_address(user: User) -> bool:
    """True when `user` confirmed the address they have now (the user model's `email_verified`)."""
    return bool(user.email) and bool(getattr(user, "email_verified", False))


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "waiting for the worker (or for its next attempt)"
    SENDING = "sending", "handed to a worker"
    SENT = "sent", "accepted by the mail server"
    FAILED = "failed", "given up: permanent refusal, or every attempt failed"
    DROPPED = "dropped", "not sent: over a cap, or the address changed or is unverified"


class Email(models.Model):
    """One message to one address. `key` names the notice and the recipient, so it is queued at most once."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    # Whose action caused it (per-sender cap); None for the system's own (verification, deadlines).
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="caused_emails"
    )
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=998)
    body = models.TextField()
    # [{"filename", "content", "mimetype", "method"}]: text attachments (the .ics of a meeting).
    attachments = models.JSONField(default=list, blank=True)
    # Only sent while `to` is the recipient's verified address (everything but the verification itself).
    needs_verified_address = models.BooleanField(default=True)
    status = models.CharField(max_length=8, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=EmailStatus.values), name="email_status_valid"),
            models.CheckConstraint(
                condition=Q(status=EmailStatus.SENT, sent_at__isnull=False) | ~Q(status=EmailStatus.SENT),
                name="email_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="email_status_next"),
            models.Index(fields=["to", "created_at"], name="email_to_created"),
            models.Index(fields=["sender", "created_at"], name="email_sender_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}: {self.status}"

    @property
    def message_id(self) -> str:
        """The same `Message-ID` for every attempt, so a copy sent twice is one message to mail clients."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:40]
        return f"<{digest}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


class PeriodicRun(models.Model):
    """When a periodic task is due next; the worker that moves `next_run_at` forward enqueues it (delivery.periodic)."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.next_run_at}"

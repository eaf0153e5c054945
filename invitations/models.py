"""An invitation of a friend to a calendar; accepted invitees are the participants."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# A pending invitee is emailed at most one reminder per invitation in this time.
REMIND_INTERVAL = datetime.timedelta(hours=1)


class InvitationStatus(models.TextChoices):
    """`InvitationStatusEnum`: where an invitation stands."""

    PENDING = "pending", "waiting for the invitee's answer"
    ACCEPTED = "accepted", "the invitee is a participant"
    REJECTED = "rejected", "the invitee declined"


class InvitationAnswer(models.TextChoices):
    """`InvitationEditStatusEnum`: what an invitee may send; same values as InvitationStatus.

    The labels differ on purpose: drf-spectacular names one enum component per
    (value, label) set, and the spec wants two components.
    """

    PENDING = "pending", "refused: an answer cannot go back to pending"
    ACCEPTED = "accepted", "accept: become a participant"
    REJECTED = "rejected", "reject: decline, or leave the calendar if accepted before"


class Invitation(models.Model):
    """One per calendar and invitee; `inviter` is the calendar's creator."""

    calendar = models.ForeignKey("calendars.Calendar", on_delete=models.CASCADE, related_name="invitations")
    invitee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    inviter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_invitations")
    status = models.CharField(max_length=8, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    # Reset when a rejected invitee is invited again (same row), so the inbox sorts by the latest invite.
    invited_at = models.DateTimeField(default=timezone.now)
    # Last reminder email; at most one an hour (set by an atomic conditional UPDATE).
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "invitee"], name="invitation_unique_invitee"),
            models.CheckConstraint(condition=~Q(invitee=F("inviter")), name="invitation_not_self"),
            models.CheckConstraint(condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"),
        ]
        indexes = [
            models.Index(fields=["invitee", "status"], name="invitation_invitee_status"),
            models.Index(fields=["invitee", "-invited_at"], name="invitation_invitee_invited"),
        ]

    def __str__(self) -> str:
        return f"{self.invitee_id} to {self.calendar_id}: {self.status}"

"""An invitation of a friend to a calendar; accepted invitees are the participants."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "pending"
    ACCEPTED = "accepted", "accepted"
    REJECTED = "rejected", "rejected"


class Invitation(models.Model):
    """One per calendar and invitee; `inviter` is the calendar's creator."""

    calendar = models.ForeignKey("calendars.Calendar", on_delete=models.CASCADE, related_name="invitations")
    invitee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    inviter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_invitations")
    status = models.CharField(max_length=8, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "invitee"], name="invitation_unique_invitee"),
            models.CheckConstraint(condition=~Q(invitee=F("inviter")), name="invitation_not_self"),
            models.CheckConstraint(condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"),
        ]
        indexes = [models.Index(fields=["invitee", "status"], name="invitation_invitee_status")]

    def __str__(self) -> str:
        return f"{self.invitee_id} to {self.calendar_id}: {self.status}"

"""Reads on invitations, scoped to the user asking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from calendars.access import Role
from calendars.models import Invitation

if TYPE_CHECKING:
    from accounts.models import User
    from calendars.access import ViewedCalendar


def invitations_of_calendar(*, calendar: ViewedCalendar, user: User) -> QuerySet[Invitation]:
    """All invitations of a calendar (loaded by calendars.access) for its creator; only their own for anyone else."""
    invitations = Invitation.objects.filter(calendar=calendar).select_related("invitee", "inviter")
    if calendar.viewer_role < Role.CREATOR:
        invitations = invitations.filter(invitee=user)
    return invitations.order_by("id")


def invitation_inbox(*, user: User) -> QuerySet[Invitation]:
    """Invitations addressed to the user across calendars, the latest invited first."""
    return (
        Invitation.objects.filter(invitee=user)
        .select_related("calendar", "invitee", "inviter")
        .order_by("-invited_at", "-id")
    )

"""Reads on invitations, scoped to the user asking."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from calendars.models import Calendar
from invitations.models import Invitation


def calendar_for_invitations(*, user, calendar_id: int) -> Calendar:
    """The calendar in the URL if the user may see it (creator, participant, pending invitee), else 404."""
    return get_object_or_404(Calendar.objects.visible_to(user).select_related("creator"), pk=calendar_id)


def invitations_of_calendar(*, calendar: Calendar, user) -> QuerySet[Invitation]:
    """All invitations of the calendar for its creator; only their own for an invitee."""
    invitations = Invitation.objects.filter(calendar=calendar).select_related("invitee", "inviter")
    if calendar.creator_id != user.pk:
        invitations = invitations.filter(invitee=user)
    return invitations.order_by("id")


def invitation_inbox(*, user) -> QuerySet[Invitation]:
    """Invitations addressed to the user across calendars, the latest invited first."""
    return (
        Invitation.objects.filter(invitee=user)
        .select_related("calendar", "invitee", "inviter")
        .order_by("-invited_at", "-id")
    )

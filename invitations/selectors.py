"""Reads on invitations, scoped to the user asking."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from rest_framework.fields import DateTimeField

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


# The inbox's fields (InboxInvitationSerializer), in its order.
INBOX_FIELDS = (
    "id",
    "calendar_id",
    "invitee__username",
    "inviter__username",
    "status",
    "calendar__title",
    "invited_at",
)


def inbox_rows(invitations: QuerySet[Invitation]) -> list[tuple[Any, ...]]:
    """What the inbox shows of each invitation of `invitations` (the inbox, filtered), in its order; one query."""
    return list(invitations.values_list(*INBOX_FIELDS))


def inbox_bodies(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """`InboxInvitationSerializer(many=True).data` for rows of `inbox_rows`."""
    when = DateTimeField()
    return [
        {
            "id": pk,
            "calendar_id": calendar_id,
            "invitee_username": invitee,
            "inviter_username": inviter,
            "status": status,
            "calendar_title": title,
            "invited_at": when.to_representation(invited_at),
        }
        for pk, calendar_id, invitee, inviter, status, title, invited_at in rows
    ]

"""Writes on invitations that other areas call too."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from calendars.models import TimeSlot
from invitations.models import Invitation


@transaction.atomic
def invitations_end_between(*, user_a, user_b) -> int:
    """End every invitation between two users who stopped being friends or blocked each other.

    Invitations either way (a's calendars to b, b's calendars to a) are deleted, so an
    invitee who had accepted stops being a participant; their timeslots on those
    calendars go with them. Returns the number of invitations removed.
    """
    invitations = Invitation.objects.filter(
        Q(calendar__creator=user_a, invitee=user_b) | Q(calendar__creator=user_b, invitee=user_a)
    )
    pairs = list(invitations.values_list("calendar_id", "invitee_id"))
    for calendar_id, invitee_id in pairs:
        TimeSlot.objects.filter(day__calendar_id=calendar_id, owner_id=invitee_id).delete()
    deleted, _ = invitations.delete()
    return deleted

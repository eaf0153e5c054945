"""The events: what each payload's `data` holds and who receives it, from the lower apps' signals.

Connected in WebhooksConfig.ready to the signals the lower apps send inside the transaction of each
change (contacts.signals, calendars.signals, invitations.signals), so the deliveries are written
in that same transaction. Each `data` carries the ids and the fields a receiver needs without
another call; docs/webhooks.md shows every payload, tests/test_webhooks.py holds each one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from calendars.models import Calendar, Day, Invitation
from calendars.serializers import finalized_body
from contacts.models import Contact, ContactStatus
from webhooks.models import EventType
from webhooks.services import queue_event

if TYPE_CHECKING:
    from accounts.models import User


def _user(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username}


def _calendar(calendar: Calendar) -> dict[str, Any]:
    return {
        "id": calendar.pk,
        "title": calendar.title,
        "timezone": calendar.timezone,
        "creator": _user(calendar.creator),
    }


def _members(calendar: Calendar, participants: Iterable[User]) -> list[int]:
    return [calendar.creator_id, *(user.pk for user in participants)]


def invitation_created(sender: type[Invitation], *, invitation: Invitation, **kwargs: Any) -> None:
    """To the invitee: the invitation, the calendar with its candidate days, who invited them."""

    def build() -> dict[str, Any]:
        calendar = Calendar.objects.select_related("creator").get(pk=invitation.calendar_id)
        days = Day.objects.filter(calendar=calendar).order_by("ranking").values_list("date", "ranking")
        return {
            "invitation": {
                "id": invitation.pk,
                "status": invitation.status,
                "invited_at": serializers.DateTimeField().to_representation(invitation.invited_at),
            },
            "calendar": {
                **_calendar(calendar),
                "description": calendar.description,
                "days": [{"date": date.isoformat(), "ranking": ranking} for date, ranking in days],
            },
            "invitee": _user(invitation.invitee),
        }

    queue_event(EventType.INVITATION_CREATED, owners=[invitation.invitee_id], build=build)


def invitation_answered(sender: type[Invitation], *, invitation: Invitation, previous: str, **kwargs: Any) -> None:
    """To the creator: the new and the previous answer, and who gave it."""

    def build() -> dict[str, Any]:
        return {
            "invitation": {"id": invitation.pk, "status": invitation.status, "previous_status": previous},
            "calendar": _calendar(invitation.calendar),
            "invitee": _user(invitation.invitee),
        }

    queue_event(EventType.INVITATION_ANSWERED, owners=[invitation.calendar.creator_id], build=build)


def calendar_finalized(
    sender: type[Calendar], *, calendar: Calendar, participants: Iterable[User], **kwargs: Any
) -> None:
    """To every member (creator and participants): the fixed meeting and who takes part."""

    def build() -> dict[str, Any]:
        return {
            "calendar": _calendar(calendar),
            "meeting": finalized_body(calendar),
            "participants": [_user(user) for user in participants],
        }

    queue_event(EventType.CALENDAR_FINALIZED, owners=_members(calendar, participants), build=build)


def calendar_unfinalized(
    sender: type[Calendar], *, calendar: Calendar, participants: Iterable[User], deleted: bool, **kwargs: Any
) -> None:
    """To every member: the meeting that is off, and whether the calendar itself is gone."""

    def build() -> dict[str, Any]:
        return {
            "calendar": _calendar(calendar),
            "cancelled_meeting": finalized_body(calendar),
            "participants": [_user(user) for user in participants],
            "calendar_deleted": deleted,
        }

    queue_event(EventType.CALENDAR_UNFINALIZED, owners=_members(calendar, participants), build=build)


def contact_requested(
    sender: type[Contact], *, contact: Contact, requester: User, recipient: User, **kwargs: Any
) -> None:
    """To the one asked: who asks, and the relation to accept (POST /contacts/accept/)."""

    def build() -> dict[str, Any]:
        return {
            "contact": {"id": contact.pk, "status": ContactStatus(contact.status).label},
            "requester": _user(requester),
            "recipient": _user(recipient),
        }

    queue_event(EventType.CONTACT_REQUESTED, owners=[recipient.pk], build=build)


def contact_accepted(
    sender: type[Contact], *, contact: Contact, requester: User, accepter: User, **kwargs: Any
) -> None:
    """To the one who asked: who accepted; they are friends now."""

    def build() -> dict[str, Any]:
        return {
            "contact": {"id": contact.pk, "status": ContactStatus(contact.status).label},
            "requester": _user(requester),
            "accepter": _user(accepter),
        }

    queue_event(EventType.CONTACT_ACCEPTED, owners=[requester.pk], build=build)


def connect() -> None:
    """Connect every receiver to the signal it listens to (WebhooksConfig.ready)."""
    from calendars import signals as calendar_signals
    from contacts import signals as contact_signals
    from invitations import signals as invitation_signals

    for signal, receiver in (
        (invitation_signals.invitation_created, invitation_created),
        (invitation_signals.invitation_answered, invitation_answered),
        (calendar_signals.calendar_finalized, calendar_finalized),
        (calendar_signals.calendar_unfinalized, calendar_unfinalized),
        (contact_signals.contact_requested, contact_requested),
        (contact_signals.contact_accepted, contact_accepted),
    ):
        signal.connect(receiver, dispatch_uid=f"webhooks-{receiver.__name__}")

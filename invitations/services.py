"""Writes on invitations: invite, answer, revoke, remind, and ending invitations between two users."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework import exceptions as api_exceptions
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.settings import api_settings

from calendars import notices
from calendars.models import (
    MAX_INVITATIONS_PER_CALENDAR,
    REMIND_INTERVAL,
    Calendar,
    Invitation,
    InvitationStatus,
    TimeSlot,
)
from calendars.services import lock_calendar_unfinalized, refuse_after_deadline
from calendars.tasks import check_answers
from contacts.models import Contact, ContactStatus
from delivery import queue
from delivery.models import has_verified_address
from invitations import emails
from invitations.signals import invitation_answered, invitation_created
from oneonone.exceptions import Conflict

if TYPE_CHECKING:
    from accounts.models import User

ALREADY_INVITED = "{username} is already invited to this calendar."
INVITATIONS = "invitations"


def _remove_timeslots(*, calendar_id: int, owner_id: int) -> None:
    TimeSlot.objects.filter(day__calendar_id=calendar_id, owner_id=owner_id).delete()


@transaction.atomic
def invitation_create(*, calendar: Calendar, invitee: User) -> Invitation:
    """Invite a friend of the calendar's creator; a rejected invitation is sent again (same row).

    Raises ValidationError (keyed `invitee_username`) for myself or a non-friend, ValidationError (a
    non-field error) when a new invitation would pass MAX_INVITATIONS_PER_CALENDAR (counted under the
    calendar's row lock), and Conflict when the invitee is already pending or accepted.
    """
    creator = calendar.creator
    if invitee.pk == creator.pk:
        raise ValidationError({"invitee_username": "You cannot invite yourself."})
    # Locking the friendship row makes a concurrent unfriend or block wait for this
    # transaction, so its invitations_end_between sees (and removes) the new invitation.
    friendship = (
        Contact.objects.between(creator, invitee).filter(status=ContactStatus.FRIENDS).select_for_update().first()
    )
    if friendship is None:
        raise ValidationError({"invitee_username": "You can only invite your friends."})
    locked_calendar = lock_calendar_unfinalized(calendar_id=calendar.pk, what=INVITATIONS)
    existing = Invitation.objects.select_for_update().filter(calendar=calendar, invitee=invitee).first()
    if existing is None:
        _check_invitation_room(calendar.pk)
    # Someone new to answer: a new round for the "everyone has answered" notice (calendars.notices).
    Calendar.objects.filter(pk=calendar.pk).update(invitation_round=locked_calendar.invitation_round + 1)

    if existing is not None:
        if existing.status != InvitationStatus.REJECTED:
            raise Conflict(ALREADY_INVITED.format(username=invitee.username))
        existing.status = InvitationStatus.PENDING
        existing.inviter = creator
        existing.invited_at = timezone.now()
        existing.save(update_fields=["status", "inviter", "invited_at", "updated_at"])
        invitation_created.send(sender=Invitation, invitation=existing)
        return existing
    try:
        # A savepoint, so a concurrent invite of the same person loses cleanly to the unique constraint.
        with transaction.atomic():
            invitation = Invitation.objects.create(calendar=calendar, invitee=invitee, inviter=creator)
    except IntegrityError as exc:
        raise Conflict(ALREADY_INVITED.format(username=invitee.username)) from exc
    invitation_created.send(sender=Invitation, invitation=invitation)
    return invitation


def _check_invitation_room(calendar_id: int) -> None:
    """400 when the calendar (locked by the caller) already has MAX_INVITATIONS_PER_CALENDAR invitations.

    Every state counts (a rejected invitation is a row, and inviting that person again reuses it).
    """
    invited = Invitation.objects.filter(calendar_id=calendar_id).count()
    if invited >= MAX_INVITATIONS_PER_CALENDAR:
        raise api_exceptions.ValidationError(
            {
                api_settings.NON_FIELD_ERRORS_KEY: [
                    f"This calendar already has {invited} invitations, the most allowed; "
                    "revoke one to invite someone else."
                ]
            }
        )


@transaction.atomic
def invitation_answer(*, invitation: Invitation, status: str) -> Invitation:
    """The invitee accepts or rejects; rejecting after accepting removes their timeslots.

    The row is locked, so two answers at once apply one after the other. A change tells the
    creator by email; 409 while the calendar's meeting is finalized.
    """
    if status not in (InvitationStatus.ACCEPTED, InvitationStatus.REJECTED):
        raise ValidationError({"status": "Answer with accepted or rejected; an answer cannot go back to pending."})
    calendar = lock_calendar_unfinalized(calendar_id=invitation.calendar_id, what=INVITATIONS)
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if locked is None:  # revoked meanwhile
        raise NotFound()
    refuse_after_deadline(calendar, user_id=locked.invitee_id, what="answers")
    if locked.status == status:
        return locked
    if locked.status == InvitationStatus.REJECTED:
        # Only reachable by a concurrent answer: a rejected invitee no longer sees the calendar.
        raise Conflict("You rejected this invitation; the creator can invite you again.")
    if status == InvitationStatus.REJECTED:
        _remove_timeslots(calendar_id=locked.calendar_id, owner_id=locked.invitee_id)
    previous = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    told = Invitation.objects.select_related("invitee", "calendar__creator").get(pk=locked.pk)
    emails.queue_answer(told, previous=previous)
    invitation_answered.send(sender=Invitation, invitation=told, previous=previous)
    notices.check_everyone_answered(calendar)
    return locked


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    """The creator deletes an invitation; an accepted invitee stops being a participant (409 while finalized)."""
    calendar = lock_calendar_unfinalized(calendar_id=invitation.calendar_id, what=INVITATIONS)
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if locked is None:  # deleted meanwhile: the outcome the caller wanted
        return
    _remove_timeslots(calendar_id=locked.calendar_id, owner_id=locked.invitee_id)
    locked.delete()
    # The last one who had not answered may be gone.
    notices.check_everyone_answered(calendar)


@transaction.atomic
def invitation_remind(*, invitation: Invitation) -> Invitation:
    """Email a pending invitee to answer, at most once an hour per invitation.

    409 when the invitation is not pending, the invitee has no confirmed email address or the meeting is
    finalized; 429 (with the seconds to wait) within the hour. The conditional UPDATE only
    touches the invitation's own columns, so of two reminders at once exactly one sends mail.
    """
    lock_calendar_unfinalized(calendar_id=invitation.calendar_id, what=INVITATIONS)
    current = Invitation.objects.select_related("invitee", "calendar__creator").filter(pk=invitation.pk).first()
    if current is None:  # revoked meanwhile
        raise NotFound()
    username = current.invitee.username
    if current.status != InvitationStatus.PENDING:
        raise Conflict(f"{username} has already answered ({current.status}); only pending invitations are reminded.")
    if not current.invitee.email:
        raise Conflict(f"{username} has no email address; remind them another way.")
    if not has_verified_address(current.invitee):
        raise Conflict(f"{username} has not confirmed their email address; remind them another way.")
    now = timezone.now()
    sent = (
        Invitation.objects.filter(pk=current.pk, status=InvitationStatus.PENDING)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - REMIND_INTERVAL))
        .update(reminded_at=now)
    )
    if not sent:
        last = Invitation.objects.filter(pk=current.pk).values_list("reminded_at", flat=True).first() or now
        wait = max(math.ceil((last + REMIND_INTERVAL - now).total_seconds()), 1)
        raise Throttled(wait=wait, detail=f"{username} was reminded less than an hour ago.")
    current.reminded_at = now
    emails.queue_reminder(current)
    return current


@transaction.atomic
def invitations_end_between(*, user_a: User, user_b: User) -> int:
    """End every invitation between two users who stopped being friends or blocked each other.

    Invitations either way (a's calendars to b, b's calendars to a) are deleted, so an
    invitee who had accepted stops being a participant; their timeslots on those
    calendars go with them. Returns the number of invitations removed. This holds while a
    meeting is finalized too (a block is never refused); the feed and .ics then list one
    attendee fewer.
    """
    invitations = Invitation.objects.filter(
        Q(calendar__creator=user_a, invitee=user_b) | Q(calendar__creator=user_b, invitee=user_a)
    )
    # Invitation rows first, then timeslots: the same lock order as answering and revoking.
    pairs = list(invitations.select_for_update(of=("self",)).values_list("calendar_id", "invitee_id"))
    for calendar_id, invitee_id in pairs:
        _remove_timeslots(calendar_id=calendar_id, owner_id=invitee_id)
    deleted, _ = invitations.delete()
    for calendar_id in sorted({calendar_id for calendar_id, _ in pairs}):
        # The one who had not answered may be gone; checked by the worker, which locks the calendar first.
        queue.enqueue(check_answers, calendar_id)
    return deleted


def end_invitations_on_severed_relation(sender: type[Contact], *, user_a: User, user_b: User, **kwargs: Any) -> None:
    """Receiver of contacts.signals.relation_severed: unfriending or blocking ends the invitations between them."""
    invitations_end_between(user_a=user_a, user_b=user_b)

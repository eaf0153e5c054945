"""Emails about invitations: a reminder to a pending invitee, and an invitee's answer to the creator.

Queued through delivery.mail inside the write's transaction (only to confirmed addresses, once per key).
"""

from __future__ import annotations

from calendars.models import Day, Invitation
from delivery.mail import queue_email


def queue_reminder(invitation: Invitation) -> None:
    """Remind a pending invitee (loaded with invitee and calendar__creator) to answer."""
    calendar = invitation.calendar
    if invitation.reminded_at is None:  # never: invitations.services.invitation_remind sets it first
        raise ValueError("the invitation was never reminded")
    days = Day.objects.filter(calendar_id=calendar.pk).order_by("ranking")
    listed = "\n".join(f"    {day.date:%A} {day.date.day} {day.date:%B %Y} (choice {day.ranking})" for day in days)
    body = (
        f"Hello {invitation.invitee.username},\n\n"
        f"{calendar.creator.username} is waiting for your answer to their invitation to "
        f"\N{LEFT DOUBLE QUOTATION MARK}{calendar.title}\N{RIGHT DOUBLE QUOTATION MARK} "
        f"(times in {calendar.timezone}). The candidate days:\n\n{listed}\n\n"
        f"Answer with PUT /calendars/{calendar.pk}/invitations/{invitation.pk}/ "
        f'{{"status": "accepted"}} or {{"status": "rejected"}}; your open invitations are at GET /invitations/.\n'
    )
    queue_email(
        key=f"reminder:{invitation.pk}:{invitation.reminded_at.timestamp()}",
        kind="reminder",
        recipient=invitation.invitee,
        sender=calendar.creator,
        subject=f"Reminder: {calendar.creator.username} invited you to {calendar.title}",
        body=body,
    )


ANSWER_WORDS = {
    ("pending", "accepted"): "accepted your invitation to",
    ("pending", "rejected"): "declined your invitation to",
    ("accepted", "rejected"): "left",
}


def queue_answer(invitation: Invitation, *, previous: str) -> None:
    """Tell the creator that an invitee accepted, declined or left (loaded with invitee and calendar__creator)."""
    calendar = invitation.calendar
    creator = calendar.creator
    words = ANSWER_WORDS.get((previous, invitation.status), f"answered {invitation.status} to")
    title = f"\N{LEFT DOUBLE QUOTATION MARK}{calendar.title}\N{RIGHT DOUBLE QUOTATION MARK}"
    queue_email(
        key=f"answer:{invitation.pk}:{previous}:{invitation.status}:{invitation.updated_at.timestamp()}",
        kind="answer",
        recipient=creator,
        sender=invitation.invitee,
        subject=f"{invitation.invitee.username} {words} {calendar.title}",
        body=f"Hello {creator.username},\n\n{invitation.invitee.username} {words} {title}.\n",
    )

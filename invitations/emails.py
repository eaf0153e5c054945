"""Emails about invitations: a reminder to a pending invitee, and an invitee's answer to the creator.

Sent after the write commits, as every email is (calendars.emails.send_on_commit).
"""

from __future__ import annotations

from django.core.mail import EmailMessage

from calendars.emails import one_line
from calendars.models import Day


def reminder_message(invitation) -> EmailMessage | None:
    """Remind a pending invitee (loaded with invitee and calendar__creator) to answer."""
    calendar = invitation.calendar
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
    return EmailMessage(
        subject=one_line(f"Reminder: {calendar.creator.username} invited you to {calendar.title}"),
        body=body,
        to=[invitation.invitee.email],
    )


ANSWER_WORDS = {
    ("pending", "accepted"): "accepted your invitation to",
    ("pending", "rejected"): "declined your invitation to",
    ("accepted", "rejected"): "left",
}


def answer_message(invitation, *, previous: str) -> EmailMessage | None:
    """Tell the creator that an invitee accepted, declined or left (None if the creator has no email)."""
    calendar = invitation.calendar
    creator = calendar.creator
    if not creator.email:
        return None
    words = ANSWER_WORDS.get((previous, invitation.status), f"answered {invitation.status} to")
    title = f"\N{LEFT DOUBLE QUOTATION MARK}{calendar.title}\N{RIGHT DOUBLE QUOTATION MARK}"
    body = f"Hello {creator.username},\n\n{invitation.invitee.username} {words} {title}.\n"
    subject = one_line(f"{invitation.invitee.username} {words} {calendar.title}")
    return EmailMessage(subject=subject, body=body, to=[creator.email])

"""Emails about meetings: the finalized time (with its .ics), its cancellation, reminders and answers.

Messages are built inside the write's transaction and sent by `send_on_commit` once it commits,
so a rolled-back write sends nothing. The backend comes from settings (EMAIL_BACKEND).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from email.mime.text import MIMEText

from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from calendars import ics
from calendars.models import Calendar, Day

logger = logging.getLogger(__name__)

ICS_FILENAME = "invite.ics"


def _one_line(text: str) -> str:
    # A title may hold line breaks; a mail header may not (Django refuses the whole message).
    return " ".join(text.split())


def send_on_commit(messages: Sequence[EmailMessage]) -> None:
    """Send `messages` after the current transaction commits; a failing mail server is logged, not raised."""
    messages = [message for message in messages if message is not None]
    if messages:
        transaction.on_commit(lambda: _send(messages), robust=True)


def _send(messages: list[EmailMessage]) -> None:
    with get_connection() as connection:
        sent = connection.send_messages(messages)
    logger.info("sent %s of %s emails", sent, len(messages))


def _ics_part(content: bytes, *, method: str) -> MIMEText:
    # Calendar apps recognise an invitation by `method` on the part's content type (RFC 6047).
    part = MIMEText(content.decode(), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=ICS_FILENAME)
    return part


def describe_window(starts_at: datetime.datetime, ends_at: datetime.datetime, zone: str) -> str:
    """`Monday 6 May 2030, 10:45-11:45 (Europe/Berlin, UTC+02:00)` (with an en dash), as people read it."""
    offset = starts_at.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}"
    day = f"{starts_at:%A} {starts_at.day} {starts_at:%B %Y}"
    if ends_at.date() != starts_at.date():
        return f"{day}, {starts_at:%H:%M} to {ends_at:%A %H:%M} ({zone}, {offset})"
    return f"{day}, {starts_at:%H:%M}\N{EN DASH}{ends_at:%H:%M} ({zone}, {offset})"


def _recipients(calendar: Calendar, participants: Sequence) -> list:
    # The creator first; people without an email address cannot be written to.
    return [user for user in [calendar.creator, *participants] if user.email]


def finalized_messages(calendar: Calendar, *, participants: Sequence) -> list[EmailMessage]:
    """One message to the creator and to each participant, with the meeting as `invite.ics` (METHOD:REQUEST)."""
    starts_at, ends_at = calendar.finalized_window()
    when = describe_window(starts_at, ends_at, calendar.timezone)
    attachment = _ics_part(ics.calendar_ics(calendar, participants=participants, method="REQUEST"), method="REQUEST")
    names = ", ".join(user.username for user in [calendar.creator, *participants])
    messages = []
    for user in _recipients(calendar, participants):
        body = (
            f"Hello {user.username},\n\n"
            f"{calendar.creator.username} fixed the time of \N{LEFT DOUBLE QUOTATION MARK}{calendar.title}"
            f"\N{RIGHT DOUBLE QUOTATION MARK}:\n\n    {when}\n\n"
            f"Taking part: {names}.\n\n"
            f"The attached {ICS_FILENAME} adds it to your calendar.\n"
        )
        message = EmailMessage(
            subject=_one_line(f"Meeting fixed: {calendar.title}, {when}"), body=body, to=[user.email]
        )
        message.attach(attachment)
        messages.append(message)
    return messages


def cancellation_messages(calendar: Calendar, *, participants: Sequence) -> list[EmailMessage]:
    """The finalized time is undone (or the calendar deleted): METHOD:CANCEL for what was sent before.

    `calendar` must still hold the cancelled time, with the new `schedule_revision`.
    """
    starts_at, ends_at = calendar.finalized_window()
    when = describe_window(starts_at, ends_at, calendar.timezone)
    attachment = _ics_part(ics.cancellation_ics(calendar, participants=participants), method="CANCEL")
    messages = []
    for user in _recipients(calendar, participants):
        body = (
            f"Hello {user.username},\n\n"
            f"{calendar.creator.username} cancelled the time fixed for \N{LEFT DOUBLE QUOTATION MARK}"
            f"{calendar.title}\N{RIGHT DOUBLE QUOTATION MARK}:\n\n    {when}\n\n"
            f"The attached {ICS_FILENAME} removes it from your calendar.\n"
        )
        message = EmailMessage(
            subject=_one_line(f"Meeting cancelled: {calendar.title}, {when}"), body=body, to=[user.email]
        )
        message.attach(attachment)
        messages.append(message)
    return messages


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
        subject=_one_line(f"Reminder: {calendar.creator.username} invited you to {calendar.title}"),
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
    subject = _one_line(f"{invitation.invitee.username} {words} {calendar.title}")
    return EmailMessage(subject=subject, body=body, to=[creator.email])

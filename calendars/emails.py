"""Emails about meetings: the finalized time (with its .ics) and its cancellation; how every email is sent.

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
from calendars.models import Calendar

logger = logging.getLogger(__name__)

ICS_FILENAME = "invite.ics"


def one_line(text: str) -> str:
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


def _meeting_messages(
    calendar: Calendar,
    *,
    participants: Sequence,
    verb: str,
    subject: str,
    attachment: MIMEText,
    effect: str,
    name_everyone: bool = False,
) -> list[EmailMessage]:
    """One message about the calendar's finalized time to the creator and to each participant."""
    starts_at, ends_at = calendar.finalized_window()
    when = describe_window(starts_at, ends_at, calendar.timezone)
    taking_part = ""
    if name_everyone:
        names = ", ".join(user.username for user in [calendar.creator, *participants])
        taking_part = f"Taking part: {names}.\n\n"
    messages = []
    for user in _recipients(calendar, participants):
        body = (
            f"Hello {user.username},\n\n"
            f"{calendar.creator.username} {verb} \N{LEFT DOUBLE QUOTATION MARK}{calendar.title}"
            f"\N{RIGHT DOUBLE QUOTATION MARK}:\n\n    {when}\n\n"
            f"{taking_part}"
            f"The attached {ICS_FILENAME} {effect}\n"
        )
        message = EmailMessage(subject=one_line(f"{subject}: {calendar.title}, {when}"), body=body, to=[user.email])
        message.attach(attachment)
        messages.append(message)
    return messages


def finalized_messages(calendar: Calendar, *, participants: Sequence) -> list[EmailMessage]:
    """One message to the creator and to each participant, with the meeting as `invite.ics` (METHOD:REQUEST)."""
    return _meeting_messages(
        calendar,
        participants=participants,
        verb="fixed the time of",
        subject="Meeting fixed",
        attachment=_ics_part(ics.calendar_ics(calendar, participants=participants, method="REQUEST"), method="REQUEST"),
        effect="adds it to your calendar.",
        name_everyone=True,
    )


def cancellation_messages(calendar: Calendar, *, participants: Sequence) -> list[EmailMessage]:
    """The finalized time is undone (or the calendar deleted): METHOD:CANCEL for what was sent before.

    `calendar` must still hold the cancelled time, with the new `schedule_revision`.
    """
    return _meeting_messages(
        calendar,
        participants=participants,
        verb="cancelled the time fixed for",
        subject="Meeting cancelled",
        attachment=_ics_part(ics.cancellation_ics(calendar, participants=participants), method="CANCEL"),
        effect="removes it from your calendar.",
    )

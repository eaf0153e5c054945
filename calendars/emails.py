"""Emails about meetings: the finalized time (with its .ics), its cancellation, and a calendar gone with its creator.

Queued through delivery.mail inside the write's transaction, one message per recipient: a rolled-back
write queues nothing, a committed one is delivered by the worker (retried while the mail server is
away), and only to confirmed addresses.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from calendars import ics
from calendars.models import Calendar
from delivery.mail import Attachment, queue_email

ICS_FILENAME = "invite.ics"


def describe_window(starts_at: datetime.datetime, ends_at: datetime.datetime, zone: str) -> str:
    """`Monday 6 May 2030, 10:45-11:45 (Europe/Berlin, UTC+02:00)` (with an en dash), as people read it."""
    offset = starts_at.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}"
    day = f"{starts_at:%A} {starts_at.day} {starts_at:%B %Y}"
    if ends_at.date() != starts_at.date():
        return f"{day}, {starts_at:%H:%M} to {ends_at:%A %H:%M} ({zone}, {offset})"
    return f"{day}, {starts_at:%H:%M}\N{EN DASH}{ends_at:%H:%M} ({zone}, {offset})"


def _queue_meeting_notices(
    calendar: Calendar,
    *,
    participants: Sequence,
    kind: str,
    verb: str,
    subject: str,
    attachment: Attachment,
    effect: str,
    name_everyone: bool = False,
) -> None:
    """One message about the calendar's finalized time to the creator and to each participant."""
    starts_at, ends_at = calendar.finalized_window()
    when = describe_window(starts_at, ends_at, calendar.timezone)
    taking_part = ""
    if name_everyone:
        names = ", ".join(user.username for user in [calendar.creator, *participants])
        taking_part = f"Taking part: {names}.\n\n"
    for user in [calendar.creator, *participants]:
        body = (
            f"Hello {user.username},\n\n"
            f"{calendar.creator.username} {verb} \N{LEFT DOUBLE QUOTATION MARK}{calendar.title}"
            f"\N{RIGHT DOUBLE QUOTATION MARK}:\n\n    {when}\n\n"
            f"{taking_part}"
            f"The attached {ICS_FILENAME} {effect}\n"
        )
        queue_email(
            # The revision tells one finalize (or undo) from the next; the notice goes once per recipient.
            key=f"{kind}:{calendar.pk}:{calendar.schedule_revision}:{user.pk}",
            kind=kind,
            recipient=user,
            sender=calendar.creator,
            subject=f"{subject}: {calendar.title}, {when}",
            body=body,
            attachments=[attachment],
        )


def _ics_attachment(content: bytes, *, method: str) -> Attachment:
    # Calendar apps recognise an invitation by `method` on the part's content type (RFC 6047).
    return Attachment(filename=ICS_FILENAME, content=content.decode(), mimetype="text/calendar", method=method)


def queue_finalized(calendar: Calendar, *, participants: Sequence) -> None:
    """The fixed time to the creator and to each participant, with the meeting as `invite.ics` (METHOD:REQUEST)."""
    _queue_meeting_notices(
        calendar,
        participants=participants,
        kind="finalized",
        verb="fixed the time of",
        subject="Meeting fixed",
        attachment=_ics_attachment(
            ics.calendar_ics(calendar, participants=participants, method="REQUEST"), method="REQUEST"
        ),
        effect="adds it to your calendar.",
        name_everyone=True,
    )


def queue_cancellation(calendar: Calendar, *, participants: Sequence) -> None:
    """The finalized time is undone (or the calendar deleted): METHOD:CANCEL for what was sent before.

    `calendar` must still hold the cancelled time, with the new `schedule_revision`.
    """
    _queue_meeting_notices(
        calendar,
        participants=participants,
        kind="cancelled",
        verb="cancelled the time fixed for",
        subject="Meeting cancelled",
        attachment=_ics_attachment(ics.cancellation_ics(calendar, participants=participants), method="CANCEL"),
        effect="removes it from your calendar.",
    )


def queue_creator_gone(calendar: Calendar, *, participants: Sequence) -> None:
    """The creator deleted their account, and the calendar with it: one message to each participant.

    A fixed meeting comes with its cancellation as `invite.ics` (METHOD:CANCEL); `calendar` must hold
    the cancelled time and the new `schedule_revision`, as for `queue_cancellation`.
    """
    if not participants:
        return
    title = f"\N{LEFT DOUBLE QUOTATION MARK}{calendar.title}\N{RIGHT DOUBLE QUOTATION MARK}"
    attachments: list[Attachment] = []
    subject = f"Calendar removed: {calendar.title}"
    meeting = ""
    if calendar.is_finalized:
        starts_at, ends_at = calendar.finalized_window()
        when = describe_window(starts_at, ends_at, calendar.timezone)
        subject = f"Meeting cancelled: {calendar.title}, {when}"
        meeting = (
            f"The meeting fixed for it is cancelled:\n\n    {when}\n\n"
            f"The attached {ICS_FILENAME} removes it from your calendar.\n"
        )
        attachments.append(_ics_attachment(ics.cancellation_ics(calendar, participants=participants), method="CANCEL"))
    for user in participants:
        queue_email(
            key=f"creator_gone:{calendar.pk}:{user.pk}",
            kind="creator_gone",
            recipient=user,
            sender=calendar.creator,
            subject=subject,
            body=(
                f"Hello {user.username},\n\n"
                f"{calendar.creator.username} deleted their OneOnOne account, and with it {title}, "
                f"which you took part in.\n\n{meeting}"
            ),
            attachments=attachments,
        )

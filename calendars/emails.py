"""Emails about meetings: the finalized time (with its .ics), its cancellation, and a calendar gone with its creator.

Queued through delivery.mail inside the write's transaction, one message per recipient: a rolled-back
write queues nothing, a committed one is delivered by the worker (retried while the mail server is
away), and only to confirmed addresses.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from calendars import ics, selectors
from calendars.models import Calendar, Invitation, InvitationStatus
from delivery.mail import Attachment, queue_email
from oneonone.timezones import city

if TYPE_CHECKING:
    from accounts.models import User
    from calendars.scheduling import Suggestion

ICS_FILENAME = "invite.ics"


def _day(moment: datetime.datetime, *, year: bool = True) -> str:
    return f"{moment:%A} {moment.day} {moment:%B}" + (f" {moment:%Y}" if year else "")


def describe_window(
    starts_at: datetime.datetime, ends_at: datetime.datetime, zone: str, *, reader_zone: str = ""
) -> str:
    """`Monday 6 May 2030, 10:45-11:45 (Europe/Berlin, UTC+02:00)` (with an en dash), as people read it.

    For a reader in another zone (their `timezone`), their wall clock first and the calendar's beside it:
    `Monday 6 May 2030, 04:45-05:45 in New York (10:45-11:45 Berlin time)`.
    """
    if reader_zone and reader_zone != zone:
        try:
            return _describe_for_reader(starts_at, ends_at, zone, reader_zone)
        except OverflowError:  # the reader's clock would pass year 9999 (a date stored before the window)
            pass
    offset = starts_at.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}"
    day = f"{starts_at:%A} {starts_at.day} {starts_at:%B %Y}"
    if ends_at.date() != starts_at.date():
        return f"{day}, {starts_at:%H:%M} to {ends_at:%A %H:%M} ({zone}, {offset})"
    return f"{day}, {starts_at:%H:%M}\N{EN DASH}{ends_at:%H:%M} ({zone}, {offset})"


def _describe_for_reader(starts_at: datetime.datetime, ends_at: datetime.datetime, zone: str, reader_zone: str) -> str:
    reader = ZoneInfo(reader_zone)
    local_start, local_end = starts_at.astimezone(reader), ends_at.astimezone(reader)
    theirs = f"{starts_at:%H:%M}\N{EN DASH}{ends_at:%H:%M} {city(zone)} time"
    if starts_at.date() != local_start.date():
        theirs = f"{_day(starts_at, year=False)}, {theirs}"
    if local_end.date() != local_start.date():
        mine = f"{local_start:%H:%M} to {local_end:%A %H:%M}"
    else:
        mine = f"{local_start:%H:%M}\N{EN DASH}{local_end:%H:%M}"
    return f"{_day(local_start)}, {mine} in {city(reader_zone)} ({theirs})"


def _queue_meeting_notices(
    calendar: Calendar,
    *,
    participants: Sequence[User],
    kind: str,
    verb: str,
    subject: str,
    attachment: Attachment,
    effect: str,
    name_everyone: bool = False,
) -> None:
    """One message about the calendar's finalized time to the creator and to each participant."""
    starts_at, ends_at = calendar.meeting_window()
    taking_part = ""
    if name_everyone:
        names = ", ".join(user.username for user in [calendar.creator, *participants])
        taking_part = f"Taking part: {names}.\n\n"
    for user in [calendar.creator, *participants]:
        when = describe_window(starts_at, ends_at, calendar.timezone, reader_zone=user.timezone)
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


def queue_finalized(calendar: Calendar, *, participants: Sequence[User]) -> None:
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


def queue_cancellation(calendar: Calendar, *, participants: Sequence[User]) -> None:
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


# How each answer reads after one name, and after several.
ANSWER_LABELS = [
    (InvitationStatus.ACCEPTED, "accepted", "accepted"),
    (InvitationStatus.REJECTED, "declined", "declined"),
    (InvitationStatus.PENDING, "has not answered", "have not answered"),
]
# The meeting length the notices suggest windows for (a calendar has no length of its own).
NOTICE_DURATION = 60


def _quoted(title: str) -> str:
    return f"\N{LEFT DOUBLE QUOTATION MARK}{title}\N{RIGHT DOUBLE QUOTATION MARK}"


def _best_times(calendar: Calendar, *, limit: int) -> tuple[list[Suggestion], str | None]:
    """The best one-hour windows (as GET .../suggestions/ ranks them), or why there are none."""
    result = selectors.suggestions_for(calendar=calendar, duration=NOTICE_DURATION, limit=limit)
    return result.suggestions, (result.reason.message if result.reason else None)


def _describe_suggestion(suggestion: Suggestion, calendar: Calendar, reader_zone: str) -> str:
    when = describe_window(suggestion.starts_at, suggestion.ends_at, calendar.timezone, reader_zone=reader_zone)
    who = ", ".join(suggestion.available)
    maybe = f"; {', '.join(suggestion.if_need_be)} only if need be" if suggestion.if_need_be else ""
    missing = f"; missing {', '.join(suggestion.missing)}" if suggestion.missing else ""
    return f"{when}: {who}{maybe}{missing}"


def _answers_line(calendar: Calendar) -> str:
    names: dict[str, list[str]] = {status: [] for status in InvitationStatus.values}
    for username, status in (
        Invitation.objects.filter(calendar=calendar)
        .order_by("invitee__username")
        .values_list("invitee__username", "status")
    ):
        names[status].append(username)
    parts = [
        f"{', '.join(names[status])} {one if len(names[status]) == 1 else several}"
        for status, one, several in ANSWER_LABELS
        if names[status]
    ]
    return "; ".join(parts) + "."


def queue_everyone_answered(calendar: Calendar) -> None:
    """Tell the creator (loaded with the calendar) that everyone has answered, with the best time."""
    creator = calendar.creator
    suggestions, reason = _best_times(calendar, limit=1)
    if suggestions:
        best = f"The best one-hour time: {_describe_suggestion(suggestions[0], calendar, creator.timezone)}."
    else:
        best = f"There is no time that suits yet: {reason}"
    body = (
        f"Hello {creator.username},\n\n"
        f"Everyone invited to {_quoted(calendar.title)} has answered: {_answers_line(calendar)}\n\n"
        f"{best}\n\n"
        f"Fix it with POST /calendars/{calendar.pk}/finalize/ (GET /calendars/{calendar.pk}/suggestions/ has more).\n"
    )
    queue_email(
        key=f"everyone-answered:{calendar.pk}:{calendar.answered_notice_round}",
        kind="everyone_answered",
        recipient=creator,
        subject=f"Everyone has answered: {calendar.title}",
        body=body,
    )


def queue_deadline_passed(calendar: Calendar) -> None:
    """Tell the creator that the deadline passed: the top three times and who did not answer."""
    if calendar.respond_by is None:  # never: calendars.tasks.notify_deadline calls it for a deadline that passed
        raise ValueError(f"calendar {calendar.pk} has no deadline")
    creator = calendar.creator
    suggestions, reason = _best_times(calendar, limit=3)
    if suggestions:
        listed = "\n".join(
            f"    {i}. {_describe_suggestion(s, calendar, creator.timezone)}" for i, s in enumerate(suggestions, 1)
        )
        best = f"The best one-hour times:\n\n{listed}"
    else:
        best = f"There is no time that suits: {reason}"
    pending = list(
        Invitation.objects.filter(calendar=calendar, status=InvitationStatus.PENDING)
        .order_by("invitee__username")
        .values_list("invitee__username", flat=True)
    )
    silent = f"Did not answer: {', '.join(pending)}." if pending else "Everyone invited answered."
    reader_zone = creator.timezone or calendar.timezone
    try:
        deadline = calendar.respond_by.astimezone(ZoneInfo(reader_zone))
    except OverflowError:  # past year 9999 on that clock (a deadline stored before the window of dates)
        deadline, reader_zone = calendar.respond_by.astimezone(datetime.UTC), "UTC"
    body = (
        f"Hello {creator.username},\n\n"
        f"The deadline to answer {_quoted(calendar.title)} passed ({deadline:%A} {deadline.day} {deadline:%B %Y}, "
        f"{deadline:%H:%M} {city(reader_zone)} time).\n\n"
        f"{silent}\n\n{best}\n\n"
        f"Fix the meeting with POST /calendars/{calendar.pk}/finalize/, or move the deadline with PUT "
        f"/calendars/{calendar.pk}/.\n"
    )
    queue_email(
        key=f"deadline:{calendar.pk}:{calendar.respond_by.isoformat()}",
        kind="deadline",
        recipient=creator,
        subject=f"Deadline passed: {calendar.title}",
        body=body,
    )


def queue_creator_gone(calendar: Calendar, *, participants: Sequence[User]) -> None:
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
        starts_at, ends_at = calendar.meeting_window()
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

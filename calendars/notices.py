"""When the creator is told how the answers stand: everyone has answered, or the deadline passed.

Decided inside the write's transaction, under the calendar's row lock, and handed to a task
(calendars.tasks) that writes the email in the worker, so no request computes suggestions for it:

- **Everyone has answered**: the first time no invitation is pending and every participant has at
  least one timeslot. Once per round of invitations: `invitation_round` grows when someone new is
  invited, `answered_notice_round` records the round the notice went out for.
- **The deadline passed** (`respond_by`) while the meeting is not fixed: a task is scheduled for the
  moment itself when the deadline is set or moved; a periodic sweep (calendars.tasks.deadline_sweep)
  catches what the schedule missed. `deadline_notice_for` records the deadline notified, so a moved
  deadline notifies again when it passes, and none twice.
"""

from __future__ import annotations

from calendars.models import Calendar, Invitation, InvitationStatus, TimeSlot
from delivery import queue


def everyone_has_answered(calendar: Calendar) -> bool:
    """Invited people exist, none is pending, and every participant marked some availability (two queries)."""
    statuses = list(Invitation.objects.filter(calendar=calendar).values_list("invitee_id", "status"))
    if not statuses or any(status == InvitationStatus.PENDING for _, status in statuses):
        return False
    participants = {invitee for invitee, status in statuses if status == InvitationStatus.ACCEPTED}
    with_slots = set(
        TimeSlot.objects.filter(day__calendar=calendar, owner_id__in=participants)
        .values_list("owner_id", flat=True)
        .distinct()
    )
    return participants <= with_slots


def check_everyone_answered(calendar: Calendar) -> bool:
    """After a write that may complete the answers (the calendar locked by the caller): notify once a round."""
    if calendar.answered_notice_round == calendar.invitation_round or not everyone_has_answered(calendar):
        return False
    from calendars.tasks import notify_everyone_answered

    calendar.answered_notice_round = calendar.invitation_round
    Calendar.objects.filter(pk=calendar.pk).update(answered_notice_round=calendar.invitation_round)
    queue.enqueue(notify_everyone_answered, calendar.pk, calendar.invitation_round)
    return True


def schedule_deadline(calendar: Calendar) -> None:
    """A deadline was set or moved: tell the creator when it passes (the task checks it still stands)."""
    if calendar.respond_by is None:
        return
    from calendars.tasks import notify_deadline

    queue.enqueue(notify_deadline, calendar.pk, calendar.respond_by.isoformat(), run_after=calendar.respond_by)

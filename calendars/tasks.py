"""Background tasks of calendars: the notices to the creator (calendars.notices) and the deadline sweep."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from calendars import emails, notices
from calendars.models import Calendar
from delivery import queue


def _locked(calendar_id: int) -> Calendar | None:
    return Calendar.objects.select_for_update(of=("self",)).select_related("creator").filter(pk=calendar_id).first()


@task()
def notify_everyone_answered(calendar_id: int, invitation_round: int) -> str:
    """Email the creator that everyone has answered, unless someone new was invited since."""
    with transaction.atomic():
        calendar = _locked(calendar_id)
        if calendar is None or calendar.answered_notice_round != invitation_round:
            return "stale"
        emails.queue_everyone_answered(calendar)
    return "queued"


@task()
def check_answers(calendar_id: int) -> str:
    """Whether everyone has answered now, for a write that could not lock the calendar (an ended friendship)."""
    with transaction.atomic():
        calendar = Calendar.objects.select_for_update(no_key=True).filter(pk=calendar_id).first()
        if calendar is None:
            return "gone"
        return "notified" if notices.check_everyone_answered(calendar) else "not yet"


@task()
def notify_deadline(calendar_id: int, deadline: str) -> str:
    """Email the creator that the deadline passed, if it is still the calendar's and was not notified yet."""
    when = datetime.datetime.fromisoformat(deadline)
    with transaction.atomic():
        calendar = _locked(calendar_id)
        if calendar is None or calendar.respond_by != when:
            return "moved or gone"  # a moved deadline has its own task
        if calendar.respond_by > timezone.now():  # run early (a worker's clock ahead of ours)
            queue.enqueue(notify_deadline, calendar_id, deadline, run_after=calendar.respond_by)
            return "not yet"
        if calendar.deadline_notice_for == calendar.respond_by:
            return "told already"
        Calendar.objects.filter(pk=calendar.pk).update(deadline_notice_for=calendar.respond_by)
        if calendar.is_finalized:
            return "finalized"  # the meeting is fixed: nothing to chase
        emails.queue_deadline_passed(calendar)
    return "queued"


@task()
def deadline_sweep() -> str:
    """The safety net of the scheduled notices: every passed deadline not handled yet gets its task again."""
    due = Calendar.objects.filter(respond_by__lte=timezone.now()).filter(
        Q(deadline_notice_for__isnull=True) | ~Q(deadline_notice_for=F("respond_by"))
    )
    found = 0
    for calendar_id, respond_by in due.values_list("pk", "respond_by")[:500]:
        if respond_by is None:  # never: respond_by__lte leaves them out
            continue
        with transaction.atomic():
            queue.enqueue(notify_deadline, calendar_id, respond_by.isoformat())
        found += 1
    return f"{found} deadline(s) handed on"

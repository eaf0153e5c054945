"""A calendar's version: one more with every change of anything its answers show, in the change's transaction.

The ETags of the calendar's reads (the list, the calendar, a day's slots, the suggestions; docs/performance.md,
"Conditional requests") are made from it, so a poll that changed nothing costs the user's query and one
small query for the version, and answers 304 with no body.

How it is counted: by the services, at the lock they take anyway. Every write of a calendar, its days,
slots or invitations locks the calendar row first (the lock order of calendars.services); `lock_and_count`
is that lock, an `UPDATE ... SET version = version + 1 ... RETURNING` instead of a `SELECT ... FOR NO KEY
UPDATE`: the same row lock, the same one statement, and the count commits or rolls back with the change.
A write that is refused after it (a 400, a 409) rolls it back with everything else; a write that turns
out to change nothing (the same answer again) still counts one, which costs the pollers one full read.

Why not database triggers, which would also catch a write nobody wrote a count for: a trigger on the
timeslot and invitation tables locks the calendar row when the slot or invitation is written, after the
rows the services lock first (invitations, then slots, when a friendship ends), which is the opposite of
the services' order and deadlocks with them; SQLite has row triggers only, so a bulk insert of 1,000
slots (a day's PUT, the benchmark's loader) would update the calendar 1,000 times; and the trigger
bodies would be two SQL dialects in migrations, out of sight of the code that writes. The price of
counting in Python is that every write path must count: tests/test_etags.py performs every write the
API, the signals and the admin can make and checks that every tag that must change does.

Writes from outside the services: the admin (calendars/admin.py and invitations/admin.py count on save
and delete), a username change (`count_username_change`, on the user model's save), an account deleted
(`count_user_leaving`, before the user's rows go). A `QuerySet.update()` or raw SQL from a shell is not
seen: count with `count_changes` after such a repair.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, Q

from calendars.models import Calendar, Invitation

_LOCK_AND_COUNT = "UPDATE {table} SET version = version + 1 WHERE id = %s RETURNING *"


def lock_and_count(calendar_id: int) -> Calendar | None:
    """The calendar row, locked for a change (FOR NO KEY UPDATE on PostgreSQL) and its version counted; None if gone.

    One statement: what `select_for_update(no_key=True)` would cost.
    """
    sql = _LOCK_AND_COUNT.format(table=Calendar._meta.db_table)
    found = list(Calendar.objects.raw(sql, [calendar_id]))
    return found[0] if found else None


def count_changes(calendar_ids: Iterable[int]) -> None:
    """Lock the calendars in id order (the order every multi-calendar lock takes) and count one change on each."""
    ids = sorted(set(calendar_ids))
    if not ids:
        return
    locked = list(
        Calendar.objects.filter(pk__in=ids).order_by("pk").select_for_update(no_key=True).values_list("pk", flat=True)
    )
    if locked:
        Calendar.objects.filter(pk__in=locked).update(version=F("version") + 1)


def calendars_showing(user_id: int) -> list[int]:
    """The calendars whose answers can show the user: created by them, or with an invitation of theirs (any status)."""
    invited = Invitation.objects.filter(invitee_id=user_id).values("calendar_id")
    return list(Calendar.objects.filter(Q(creator_id=user_id) | Q(pk__in=invited)).values_list("pk", flat=True))


def remember_username(
    sender: type[Any], *, instance: Any, raw: bool = False, update_fields: Iterable[str] | None = None, **kwargs: Any
) -> None:
    """pre_save of the user model: note a username about to change (the count follows the save)."""
    instance._calendars_username_changed = False
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "username" not in update_fields:
        return
    before = get_user_model().objects.filter(pk=instance.pk).values_list("username", flat=True).first()
    instance._calendars_username_changed = before is not None and before != instance.username


def count_username_change(sender: type[Any], *, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """post_save of the user model: a new username shows in the calendars they created, joined or were invited to.

    Counted after the user row is written: a read between the two sees the new name with the old tag, and
    reads again when the tag changes; never the old name with the new tag.
    """
    if getattr(instance, "_calendars_username_changed", False):
        instance._calendars_username_changed = False
        count_changes(calendars_showing(instance.pk))


def count_user_leaving(sender: type[Any], *, instance: Any, **kwargs: Any) -> None:
    """pre_delete of the user model: their invitations and slots go by cascade from calendars others keep.

    An account deleted through the API was counted by `services.calendars_end_with_creator` already, with
    the lock of the calendars it deletes; this counts a deletion from the admin or a shell.
    """
    if getattr(instance, "_calendars_counted", False):
        return
    invited = Invitation.objects.filter(invitee_id=instance.pk).values_list("calendar_id", flat=True)
    count_changes(invited)

"""Writes on calendars, days and timeslots: each one transaction, constraints mapped to 400."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.settings import api_settings

from calendars.models import MAX_TIMESLOTS_PER_OWNER_PER_DAY, Calendar, Day, TimeSlot
from invitations.models import Invitation, InvitationStatus

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
NOT_MEMBER = "Only the calendar's creator and participants can add timeslots."


def format_slot(start: datetime.time, end: datetime.time) -> str:
    return f"{start:%H:%M:%S}-{end:%H:%M:%S}"


@contextmanager
def _constraints_as_400(errors: dict) -> Iterator[None]:
    # The serializers reject duplicates up front; this catches what a concurrent write slipped past them.
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise ValidationError(errors) from exc


DAYS_CLASH = {"days": {NON_FIELD: ["Two days of this calendar would share a date or a ranking."]}}
SLOT_ORDER = {"end_time": ["End time must be after start time."]}


def _new_slots(day: Day, owner_id: int, slots: list[dict[str, Any]]) -> list[TimeSlot]:
    return [TimeSlot(day=day, owner_id=owner_id, start_time=s["start_time"], end_time=s["end_time"]) for s in slots]


@transaction.atomic
def calendar_create(
    *, creator: AbstractBaseUser, title: str, days: list[dict[str, Any]], description: str = ""
) -> Calendar:
    """Create a calendar with its days and the creator's initial timeslots on them.

    `days` are validated dicts (date, ranking, optional timeslots); any `id` in them is ignored.
    """
    with _constraints_as_400(DAYS_CLASH):
        calendar = Calendar.objects.create(creator=creator, title=title, description=description)
        created = Day.objects.bulk_create([Day(calendar=calendar, date=d["date"], ranking=d["ranking"]) for d in days])
        TimeSlot.objects.bulk_create(
            [
                slot
                for day, d in zip(created, days, strict=True)
                for slot in _new_slots(day, creator.pk, d.get("timeslots", []))
            ]
        )
    return calendar


def _free_values(used: set, first, step) -> Iterator:
    value = first
    while True:
        if value not in used:
            yield value
        value = step(value)


@transaction.atomic
def calendar_update(
    *, calendar: Calendar, title: str, days: list[dict[str, Any]], description: str | None = None
) -> Calendar:
    """Replace the calendar's title, description and day list.

    Days sent with an `id` are kept with their timeslots (date and ranking may change),
    days left out are deleted with their timeslots, days without an `id` are added (with
    the creator's initial timeslots, if any). A day `id` of another calendar is a 400.
    """
    # Serialize edits of one calendar; timeslot writes lock the day rows they touch.
    calendar = get_object_or_404(Calendar.objects.select_for_update(), pk=calendar.pk)
    # Lock the days too (in a fixed order): a timeslot being added to a day we are about to
    # delete either commits first (and is deleted with it) or finds the day gone (404).
    current = {day.pk: day for day in Day.objects.filter(calendar=calendar).order_by("pk").select_for_update()}

    errors = {
        index: {"id": [f"Day {data['id']} is not a day of this calendar."]}
        for index, data in enumerate(days)
        if "id" in data and data["id"] not in current
    }
    if errors:
        raise ValidationError({"days": errors})

    kept = {data["id"]: data for data in days if "id" in data}
    Day.objects.filter(calendar=calendar).exclude(pk__in=kept).delete()

    changed = [
        current[pk]
        for pk, data in kept.items()
        if (current[pk].date, current[pk].ranking) != (data["date"], data["ranking"])
    ]
    with _constraints_as_400(DAYS_CLASH):
        if changed:
            # The unique constraints are checked row by row on SQLite and PostgreSQL alike, so a
            # swap of two rankings or dates would collide half-way: park the changed days on
            # values nobody holds or wants, then move them to their final values.
            used_rankings = {day.ranking for day in current.values()} | {data["ranking"] for data in days}
            used_dates = {day.date for day in current.values()} | {data["date"] for data in days}
            free_rankings = _free_values(used_rankings, 1, lambda r: r + 1)
            free_dates = _free_values(used_dates, datetime.date.min, lambda d: d + datetime.timedelta(days=1))
            for day in changed:
                day.ranking, day.date = next(free_rankings), next(free_dates)
            Day.objects.bulk_update(changed, ["ranking", "date"])
            for day in changed:
                day.ranking, day.date = kept[day.pk]["ranking"], kept[day.pk]["date"]
            Day.objects.bulk_update(changed, ["ranking", "date"])

        added = [data for data in days if "id" not in data]
        created = Day.objects.bulk_create(
            [Day(calendar=calendar, date=data["date"], ranking=data["ranking"]) for data in added]
        )
        TimeSlot.objects.bulk_create(
            [
                slot
                for day, data in zip(created, added, strict=True)
                for slot in _new_slots(day, calendar.creator_id, data.get("timeslots", []))
            ]
        )

    calendar.title = title
    fields = ["title", "updated_at"]
    if description is not None:
        calendar.description = description
        fields.append("description")
    calendar.save(update_fields=fields)
    return calendar


def _check_slot_fits(
    *, day_id: int, owner_id: int, start: datetime.time, end: datetime.time, exclude: int | None
) -> None:
    mine = TimeSlot.objects.filter(day_id=day_id, owner_id=owner_id)
    if exclude is not None:
        mine = mine.exclude(pk=exclude)
    clash = mine.filter(start_time__lt=end, end_time__gt=start).order_by("start_time").first()
    if clash is not None:
        clashing = format_slot(clash.start_time, clash.end_time)
        raise ValidationError({NON_FIELD: [f"Overlaps your timeslot {clashing} (id {clash.pk}) on this day."]})
    if exclude is None and mine.count() >= MAX_TIMESLOTS_PER_OWNER_PER_DAY:
        raise ValidationError(
            {
                NON_FIELD: [
                    f"You already have {MAX_TIMESLOTS_PER_OWNER_PER_DAY} timeslots on this day, the most allowed."
                ]
            }
        )


def _lock_day_for(*, day_id: int, user_id: int) -> Day:
    """Lock the day (404 if it is gone) and make sure `user_id` is still a member of its calendar (else 403).

    One writer at a time per day, so two overlapping slots of one owner cannot both pass the
    check; the accepted invitation is locked too, so a participant who is being removed cannot
    slip a slot in after their slots were cleared.
    """
    day = get_object_or_404(Day.objects.select_related("calendar").select_for_update(of=("self",)), pk=day_id)
    if day.calendar.creator_id != user_id:
        accepted = Invitation.objects.select_for_update().filter(
            calendar_id=day.calendar_id, invitee_id=user_id, status=InvitationStatus.ACCEPTED
        )
        if accepted.values_list("pk", flat=True).first() is None:
            raise PermissionDenied(NOT_MEMBER)
    return day


@transaction.atomic
def timeslot_create(
    *, day: Day, owner: AbstractBaseUser, start_time: datetime.time, end_time: datetime.time
) -> TimeSlot:
    """Add `owner`'s availability on `day`; 400 if it overlaps one of their slots or exceeds the cap."""
    day = _lock_day_for(day_id=day.pk, user_id=owner.pk)
    _check_slot_fits(day_id=day.pk, owner_id=owner.pk, start=start_time, end=end_time, exclude=None)
    with _constraints_as_400(SLOT_ORDER):
        return TimeSlot.objects.create(day=day, owner=owner, start_time=start_time, end_time=end_time)


@transaction.atomic
def timeslot_update(*, timeslot: TimeSlot, start_time: datetime.time, end_time: datetime.time) -> TimeSlot:
    """Move a slot to new times; 400 if it would overlap another slot of its owner."""
    _lock_day_for(day_id=timeslot.day_id, user_id=timeslot.owner_id)
    timeslot = get_object_or_404(TimeSlot.objects.select_related("owner"), pk=timeslot.pk)
    _check_slot_fits(
        day_id=timeslot.day_id, owner_id=timeslot.owner_id, start=start_time, end=end_time, exclude=timeslot.pk
    )
    timeslot.start_time, timeslot.end_time = start_time, end_time
    with _constraints_as_400(SLOT_ORDER):
        timeslot.save(update_fields=["start_time", "end_time"])
    return timeslot

"""Writes on calendars, days and timeslots: each one transaction, constraints mapped to 400."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone as django_timezone
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.settings import api_settings

from calendars import access, emails, notices, selectors
from calendars.models import (
    DEFAULT_TIME_ZONE,
    END_AFTER_START,
    MAX_CALENDARS_PER_USER,
    MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR,
    MAX_TIMESLOTS_PER_OWNER_PER_DAY,
    Calendar,
    Day,
    FeedToken,
    Preference,
    TimeSlot,
    check_time_order,
    format_slot,
)
from calendars.scheduling import NonexistentTimeError, place_meeting
from calendars.signals import calendar_finalized, calendar_unfinalized
from oneonone.exceptions import Conflict

if TYPE_CHECKING:
    from accounts.models import User

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


class _Unchanged(Enum):
    """The type of UNCHANGED alone, so that the checker tells it from a value."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = _Unchanged.UNCHANGED  # a PUT that leaves a field out
NOT_MEMBER = "Only the calendar's creator and participants can add timeslots."
# The fields finalizing and undoing write (undoing clears the first four).
FINALIZED_FIELDS = [
    "finalized_date",
    "finalized_start_time",
    "finalized_end_time",
    "finalized_at",
    "schedule_revision",
    "updated_at",
]


@contextmanager
def _constraints_as_400(errors: dict) -> Iterator[None]:
    # The serializers reject duplicates up front; this catches what a concurrent write slipped past them.
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise ValidationError(errors) from exc


DAYS_CLASH = {"days": {NON_FIELD: ["Two days of this calendar would share a date or a ranking."]}}
SLOT_ORDER = {"end_time": [END_AFTER_START]}


def _new_slots(day: Day, owner_id: int, slots: list[dict[str, Any]]) -> list[TimeSlot]:
    return [
        TimeSlot(
            day=day,
            owner_id=owner_id,
            start_time=s["start_time"],
            end_time=s["end_time"],
            preference=s.get("preference", Preference.YES),
        )
        for s in slots
    ]


def describe_finalized(calendar: Calendar) -> str:
    day, start, end = calendar.finalized_meeting()
    return f"{day.isoformat()} {format_slot(start, end)} {calendar.timezone}"


def finalized_conflict(calendar: Calendar, what: str) -> Conflict:
    return Conflict(
        f"The meeting is finalized ({describe_finalized(calendar)}): {what} cannot change until the creator "
        f"undoes it with DELETE /calendars/{calendar.pk}/finalize/."
    )


def lock_calendar_unfinalized(*, calendar_id: int, what: str) -> Calendar:
    """Lock the calendar row (404 if it is gone) and refuse with 409 while its meeting is finalized.

    Finalizing locks the same row, so a write that passes this check commits before the meeting
    is fixed, or waits and then sees it fixed. Lock order: the calendar before its days,
    invitations and timeslots.
    """
    calendar = _lock_calendar(calendar_id)
    if calendar.is_finalized:
        raise finalized_conflict(calendar, what)
    return calendar


def _lock_calendar(calendar_id: int) -> Calendar:
    return get_object_or_404(Calendar.objects.select_for_update(no_key=True), pk=calendar_id)


# The caps on what one user grows (calendars.models): counts, so no constraint holds them; each is counted
# under a row lock that every write adding to it takes first, so concurrent requests cannot pass it together.
TOO_MANY_CALENDAR_SLOTS = {
    "days": {NON_FIELD: [f"At most {MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR} timeslots per person per calendar."]}
}


def _lock_user(user_id: int) -> None:
    """Lock the user's row: one capped write of theirs at a time (FOR NO KEY UPDATE, so inserting rows that
    merely refer to the user, which take FOR KEY SHARE, never waits for it)."""
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user_id).values_list("pk").first()


def _check_calendar_room(creator_id: int) -> None:
    """400 when the user already created MAX_CALENDARS_PER_USER calendars (their row locked by the caller)."""
    owned = Calendar.objects.filter(creator_id=creator_id).count()
    if owned >= MAX_CALENDARS_PER_USER:
        raise ValidationError(
            {NON_FIELD: [f"You already have {owned} calendars, the most allowed; delete one to create another."]}
        )


def _check_slot_room(*, calendar_id: int, owner_id: int, adding: int, removing: int = 0) -> None:
    """400 when `owner` would pass MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR on the calendar (locked by the caller).

    A write that does not add to the count (a whole day saved with as many slots or fewer) always passes.
    """
    if adding <= removing:
        return
    have = TimeSlot.objects.filter(day__calendar_id=calendar_id, owner_id=owner_id).count()
    total = have - removing + adding
    if total <= MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR:
        return
    most = MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR
    if removing:
        message = f"These timeslots would give you {total} on this calendar; {most} is the most allowed."
    elif adding == 1:
        message = f"You already have {have} timeslots on this calendar, the most allowed."
    else:
        message = (
            f"You already have {have} timeslots on this calendar; {adding} more would pass {most}, the most allowed."
        )
    raise ValidationError({NON_FIELD: [message]})


@transaction.atomic
def calendar_create(
    *,
    creator: User,
    title: str,
    days: list[dict[str, Any]],
    description: str = "",
    timezone: str = DEFAULT_TIME_ZONE,
    respond_by: datetime.datetime | None = None,
) -> Calendar:
    """Create a calendar with its days and the creator's initial timeslots on them.

    `days` are validated dicts (date, ranking, optional timeslots); any `id` in them is ignored.
    A deadline (`respond_by`) schedules the notice to the creator for when it passes. 400 past the caps:
    MAX_CALENDARS_PER_USER (counted under the creator's row lock), MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR.
    """
    if sum(len(d.get("timeslots", [])) for d in days) > MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR:
        raise ValidationError(TOO_MANY_CALENDAR_SLOTS)
    _lock_user(creator.pk)
    _check_calendar_room(creator.pk)
    with _constraints_as_400(DAYS_CLASH):
        calendar = Calendar.objects.create(
            creator=creator, title=title, description=description, timezone=timezone, respond_by=respond_by
        )
        created = Day.objects.bulk_create([Day(calendar=calendar, date=d["date"], ranking=d["ranking"]) for d in days])
        TimeSlot.objects.bulk_create(
            [
                slot
                for day, d in zip(created, days, strict=True)
                for slot in _new_slots(day, creator.pk, d.get("timeslots", []))
            ]
        )
    notices.schedule_deadline(calendar)
    return calendar


def _check_creator_slots_after_edit(calendar: Calendar, *, kept: dict, days: list[dict[str, Any]]) -> None:
    """400 when the creator's slots on the days kept plus those sent with new days pass the per-calendar cap
    and grow the count (the calendar locked by the caller)."""
    adding = sum(len(data.get("timeslots", [])) for data in days if "id" not in data)
    if not adding:
        return
    mine = TimeSlot.objects.filter(day__calendar=calendar, owner_id=calendar.creator_id)
    have = mine.count()
    after = mine.filter(day_id__in=kept).count() + adding
    if after > MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR and after > have:
        raise ValidationError(TOO_MANY_CALENDAR_SLOTS)


_Value = TypeVar("_Value")


def _free_values(used: set[_Value], first: _Value, step: Callable[[_Value], _Value]) -> Iterator[_Value]:
    value = first
    while True:
        if value not in used:
            yield value
        value = step(value)


@transaction.atomic
def calendar_update(
    *,
    calendar: Calendar,
    title: str,
    days: list[dict[str, Any]],
    description: str | None = None,
    timezone: str | None = None,
    respond_by: datetime.datetime | Literal[_Unchanged.UNCHANGED] | None = UNCHANGED,
) -> Calendar:
    """Replace the calendar's title, description, time zone, deadline and day list.

    Days sent with an `id` are kept with their timeslots (date and ranking may change),
    days left out are deleted with their timeslots, days without an `id` are added (with
    the creator's initial timeslots, if any). A day `id` of another calendar is a 400.
    While the meeting is finalized only the title and description may change (else 409).
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
        # djangorestframework-stubs want string keys; DRF takes these item indexes as they are (JSON writes "0", "1").
        raise ValidationError({"days": errors})  # type: ignore[dict-item]
    if calendar.is_finalized:
        sent = {(data.get("id"), data["date"], data["ranking"]) for data in days}
        if sent != {(day.pk, day.date, day.ranking) for day in current.values()} or (
            timezone is not None and timezone != calendar.timezone
        ):
            raise finalized_conflict(calendar, "the days and the time zone")

    kept = {data["id"]: data for data in days if "id" in data}
    _check_creator_slots_after_edit(calendar, kept=kept, days=days)
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
    if timezone is not None:
        calendar.timezone = timezone
        fields.append("timezone")
    if respond_by is not UNCHANGED and respond_by != calendar.respond_by:
        calendar.respond_by = respond_by
        fields.append("respond_by")
        notices.schedule_deadline(calendar)
    calendar.save(update_fields=fields)
    return calendar


@transaction.atomic
def calendar_delete(*, calendar: Calendar) -> None:
    """Delete the calendar with its days, timeslots and invitations; a finalized meeting is cancelled by email."""
    found = Calendar.objects.select_for_update(of=("self",)).select_related("creator").filter(pk=calendar.pk).first()
    if found is None:  # deleted meanwhile: the outcome the caller wanted
        return
    calendar = found
    if calendar.is_finalized:
        calendar.schedule_revision += 1
        participants = selectors.participants(calendar)
        emails.queue_cancellation(calendar, participants=participants)
        calendar_unfinalized.send(sender=Calendar, calendar=calendar, participants=participants, deleted=True)
    calendar.delete()


def calendars_end_with_creator(sender: type[User], *, user: User, **kwargs: Any) -> None:
    """Receiver of accounts.signals.user_deleting: the calendars `user` created go with their account.

    Each calendar's participants are told by email (a fixed meeting with its cancellation .ics) and
    their webhooks get `calendar.unfinalized` for a fixed meeting. The calendar rows are locked first,
    in id order, before anything that points at the user is deleted: a write on one of them (an
    answer, a slot) either commits first and goes with the calendar, or waits and finds it gone (404).
    """
    calendars = list(
        Calendar.objects.select_for_update(of=("self",)).select_related("creator").filter(creator=user).order_by("pk")
    )
    participants = selectors.participants_by_calendar(calendar.pk for calendar in calendars)
    for calendar in calendars:
        if calendar.is_finalized:
            calendar.schedule_revision += 1  # the cancellation outranks the invitation calendar apps hold
        emails.queue_creator_gone(calendar, participants=participants[calendar.pk])
        if calendar.is_finalized:
            calendar_unfinalized.send(
                sender=Calendar, calendar=calendar, participants=participants[calendar.pk], deleted=True
            )
    Calendar.objects.filter(pk__in=[calendar.pk for calendar in calendars]).delete()


def _same_meeting(calendar: Calendar, date: datetime.date, start: datetime.time, end: datetime.time) -> bool:
    return (calendar.finalized_date, calendar.finalized_start_time, calendar.finalized_end_time) == (date, start, end)


@transaction.atomic
def calendar_finalize(
    *, calendar: Calendar, date: datetime.date, start_time: datetime.time, end_time: datetime.time
) -> Calendar:
    """Fix the meeting on one of the calendar's days; emails the creator and every participant.

    The same time again is a no-op (a retried request); another time while one is fixed is a 409.
    The calendar row is locked, so of two finalizations at once one wins and the other sees it.
    """
    calendar = get_object_or_404(
        Calendar.objects.select_for_update(of=("self",)).select_related("creator"), pk=calendar.pk
    )
    check_time_order(start_time, end_time)
    if not Day.objects.filter(calendar=calendar, date=date).exists():
        raise ValidationError({"date": [f"{date.isoformat()} is not a day of this calendar."]})
    try:
        place_meeting(time_zone=calendar.timezone, day=date, start=start_time, end=end_time)
    except NonexistentTimeError as exc:
        raise ValidationError({exc.which: [str(exc)]}) from exc
    if calendar.is_finalized:
        if _same_meeting(calendar, date, start_time, end_time):
            return calendar
        raise Conflict(
            f"The meeting is already finalized ({describe_finalized(calendar)}); undo it with "
            f"DELETE /calendars/{calendar.pk}/finalize/ before fixing another time."
        )
    calendar.finalized_date, calendar.finalized_start_time, calendar.finalized_end_time = date, start_time, end_time
    calendar.finalized_at = django_timezone.now()
    calendar.schedule_revision += 1
    calendar.save(update_fields=FINALIZED_FIELDS)
    participants = selectors.participants(calendar)
    emails.queue_finalized(calendar, participants=participants)
    calendar_finalized.send(sender=Calendar, calendar=calendar, participants=participants)
    return calendar


@transaction.atomic
def calendar_unfinalize(*, calendar: Calendar) -> Calendar:
    """Undo the finalized meeting (a no-op if none is); emails a cancellation to everyone told of it."""
    calendar = get_object_or_404(
        Calendar.objects.select_for_update(of=("self",)).select_related("creator"), pk=calendar.pk
    )
    if not calendar.is_finalized:
        return calendar
    calendar.schedule_revision += 1
    # Told before the fields are cleared: the cancellation names the time being cancelled.
    participants = selectors.participants(calendar)
    emails.queue_cancellation(calendar, participants=participants)
    calendar_unfinalized.send(sender=Calendar, calendar=calendar, participants=participants, deleted=False)
    calendar.finalized_date = calendar.finalized_start_time = calendar.finalized_end_time = None
    calendar.finalized_at = None
    calendar.save(update_fields=FINALIZED_FIELDS)
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


TIMESLOTS = "timeslots"


def refuse_after_deadline(calendar: Calendar, *, user_id: int, what: str) -> None:
    """409 once `respond_by` has passed, for everyone but the creator (who keeps every right)."""
    if (
        calendar.creator_id == user_id
        or calendar.respond_by is None
        or not calendar.deadline_passed(django_timezone.now())
    ):
        return
    creator = get_user_model().objects.filter(pk=calendar.creator_id).values_list("username", flat=True).first()
    raise Conflict(
        f"The deadline to respond passed ({calendar.respond_by.isoformat()}): {what} cannot change any more. "
        f"{creator} (the creator) can extend it with PUT /calendars/{calendar.pk}/."
    )


def _availability_added(calendar: Calendar, owner: User) -> None:
    # A participant's first slot may complete the answers (calendars.notices).
    if owner.pk != calendar.creator_id:
        notices.check_everyone_answered(calendar)


def _lock_day_for(*, day_id: int, user_id: int) -> Day:
    """Lock the day (404 if it is gone) and make sure `user_id` is still a member of its calendar (else 403).

    One writer at a time per day, so two overlapping slots of one owner cannot both pass the
    check; the accepted invitation is locked too, so a participant who is being removed cannot
    slip a slot in after their slots were cleared. The calendar is locked first (the lock order of
    `lock_calendar_unfinalized`): no slot changes while the meeting is finalized (409, after the 403
    for someone who is not a member at all).
    """
    calendar_id = Day.objects.filter(pk=day_id).values_list("calendar_id", flat=True).first()
    if calendar_id is None:
        raise NotFound()
    calendar = _lock_calendar(calendar_id)
    day = get_object_or_404(Day.objects.select_for_update(), pk=day_id)
    access.require_member_locked(calendar=calendar, user_id=user_id, message=NOT_MEMBER)
    if calendar.is_finalized:
        raise finalized_conflict(calendar, TIMESLOTS)
    refuse_after_deadline(calendar, user_id=user_id, what=TIMESLOTS)
    day.calendar = calendar
    return day


@transaction.atomic
def timeslot_create(
    *,
    day: Day,
    owner: User,
    start_time: datetime.time,
    end_time: datetime.time,
    preference: str = Preference.YES,
) -> TimeSlot:
    """Add `owner`'s availability on `day`; 400 if it overlaps one of their slots or exceeds the cap."""
    day = _lock_day_for(day_id=day.pk, user_id=owner.pk)
    _check_slot_fits(day_id=day.pk, owner_id=owner.pk, start=start_time, end=end_time, exclude=None)
    _check_slot_room(calendar_id=day.calendar_id, owner_id=owner.pk, adding=1)
    with _constraints_as_400(SLOT_ORDER):
        timeslot = TimeSlot.objects.create(
            day=day, owner=owner, start_time=start_time, end_time=end_time, preference=preference
        )
    _availability_added(day.calendar, owner)
    return timeslot


@transaction.atomic
def timeslot_update(
    *, timeslot: TimeSlot, start_time: datetime.time, end_time: datetime.time, preference: str | None = None
) -> TimeSlot:
    """Move a slot to new times (and change its preference, unless None); 400 if it would overlap another slot."""
    _lock_day_for(day_id=timeslot.day_id, user_id=timeslot.owner_id)
    timeslot = get_object_or_404(TimeSlot.objects.select_related("owner"), pk=timeslot.pk)
    _check_slot_fits(
        day_id=timeslot.day_id, owner_id=timeslot.owner_id, start=start_time, end=end_time, exclude=timeslot.pk
    )
    timeslot.start_time, timeslot.end_time = start_time, end_time
    if preference is not None:
        timeslot.preference = preference
    with _constraints_as_400(SLOT_ORDER):
        timeslot.save(update_fields=["start_time", "end_time", "preference"])
    return timeslot


def _owned_by(slots: list[TimeSlot], owner: User) -> list[TimeSlot]:
    for slot in slots:
        slot.owner = owner  # the answer names the owner; no query per slot
    return slots


@transaction.atomic
def timeslots_add(*, day: Day, owner: User, slots: list[dict[str, Any]]) -> list[TimeSlot]:
    """Add several of `owner`'s slots to `day`, all or nothing; answers them in the order given.

    `slots` are validated items that do not overlap one another. Under the day's lock: 400 keyed by the
    item's index when one overlaps a slot the owner has, 400 when the owner would pass the per-day cap.
    """
    day = _lock_day_for(day_id=day.pk, user_id=owner.pk)
    mine = list(TimeSlot.objects.filter(day=day, owner=owner).order_by("start_time", "end_time", "id"))
    errors = {}
    for index, item in enumerate(slots):
        for slot in mine:
            if slot.start_time < item["end_time"] and item["start_time"] < slot.end_time:
                clashing = format_slot(slot.start_time, slot.end_time)
                errors[index] = {NON_FIELD: [f"Overlaps your timeslot {clashing} (id {slot.pk}) on this day."]}
                break
    if errors:
        # djangorestframework-stubs want string keys; DRF takes these item indexes as they are (JSON writes "0", "1").
        raise ValidationError(errors)  # type: ignore[arg-type]
    if len(mine) + len(slots) > MAX_TIMESLOTS_PER_OWNER_PER_DAY:
        raise ValidationError(
            {
                NON_FIELD: [
                    f"You already have {len(mine)} timeslots on this day; {len(slots)} more would pass "
                    f"{MAX_TIMESLOTS_PER_OWNER_PER_DAY}, the most allowed."
                ]
            }
        )
    _check_slot_room(calendar_id=day.calendar_id, owner_id=owner.pk, adding=len(slots))
    with _constraints_as_400(SLOT_ORDER):
        created = _owned_by(TimeSlot.objects.bulk_create(_new_slots(day, owner.pk, slots)), owner)
    _availability_added(day.calendar, owner)
    return created


@transaction.atomic
def timeslots_replace(*, day: Day, owner: User, slots: list[dict[str, Any]]) -> list[TimeSlot]:
    """Make `owner`'s slots on `day` exactly `slots` (an empty list clears them); answers them earliest first.

    `slots` are validated items that do not overlap one another. A slot whose times are sent again is kept,
    with its id (its preference follows the body); the others are deleted and the new ones created. Under
    the day's lock, so two saves of one day end as one of the two bodies, never a mix. Others' slots are
    never touched.
    """
    day = _lock_day_for(day_id=day.pk, user_id=owner.pk)
    _check_slot_room(
        calendar_id=day.calendar_id,
        owner_id=owner.pk,
        adding=len(slots),
        removing=TimeSlot.objects.filter(day=day, owner=owner).count(),
    )
    wanted = {(item["start_time"], item["end_time"]): item for item in slots}
    kept: list[TimeSlot] = []
    changed: list[TimeSlot] = []
    gone: list[int] = []
    for slot in TimeSlot.objects.filter(day=day, owner=owner).order_by("id"):
        item = wanted.pop((slot.start_time, slot.end_time), None)
        if item is None:
            gone.append(slot.pk)
            continue
        if slot.preference != item["preference"]:
            slot.preference = item["preference"]
            changed.append(slot)
        kept.append(slot)
    TimeSlot.objects.filter(pk__in=gone).delete()
    TimeSlot.objects.bulk_update(changed, ["preference"])
    with _constraints_as_400(SLOT_ORDER):
        created = TimeSlot.objects.bulk_create(_new_slots(day, owner.pk, list(wanted.values())))
    if kept or created:
        _availability_added(day.calendar, owner)
    return _owned_by(sorted(kept + created, key=lambda s: (s.start_time, s.end_time, s.pk)), owner)


@transaction.atomic
def timeslot_delete(*, timeslot: TimeSlot) -> None:
    """Delete a slot; 409 while the meeting is finalized."""
    calendar_id = Day.objects.filter(pk=timeslot.day_id).values_list("calendar_id", flat=True).first()
    if calendar_id is None:  # the day went with its slots
        return
    calendar = lock_calendar_unfinalized(calendar_id=calendar_id, what=TIMESLOTS)
    refuse_after_deadline(calendar, user_id=timeslot.owner_id, what=TIMESLOTS)
    TimeSlot.objects.filter(pk=timeslot.pk).delete()


def _new_feed_token_fields() -> dict[str, Any]:
    token, digest = FeedToken.new_secret()
    return {"token": token, "digest": digest, "created_at": django_timezone.now()}


def feed_token_get(*, user: User) -> FeedToken:
    """The user's feed token, created on first use."""
    feed_token, _ = FeedToken.objects.get_or_create(user=user, defaults=_new_feed_token_fields())
    return feed_token


@transaction.atomic
def feed_token_rotate(*, user: User) -> FeedToken:
    """A new secret for the user's feed; the previous URL stops working at once."""
    feed_token, _ = FeedToken.objects.update_or_create(user=user, defaults=_new_feed_token_fields())
    return feed_token

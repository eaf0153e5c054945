"""Reads for calendars, days and timeslots, scoped to the user and prefetched flat (no N+1)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied

from calendars import read_models
from calendars.models import Calendar, Day, FeedToken, TimeSlot
from calendars.scheduling import CandidateDay, Slot
from invitations.models import Invitation, InvitationStatus

MEMBERS_ONLY = "Only the calendar's creator and participants can do this; answer your invitation first."


def with_days_and_participants(queryset: QuerySet[Calendar]) -> QuerySet[Calendar]:
    """Calendars with creator, days, every day's timeslots (with owners) and accepted invitee ids.

    A fixed number of queries whatever the number of calendars, days or slots; the
    participant ids land in `accepted_invitations` (read by the serializer).
    """
    return queryset.select_related("creator").prefetch_related(
        Prefetch("days", queryset=Day.objects.order_by("date", "id")),
        Prefetch("days__timeslots", queryset=TimeSlot.objects.select_related("owner").order_by("start_time", "id")),
        Prefetch(
            "invitations",
            queryset=Invitation.objects.filter(status=InvitationStatus.ACCEPTED)
            .only("id", "calendar_id", "invitee_id")
            .order_by("invitee_id"),
            to_attr="accepted_invitations",
        ),
    )


def calendar_list(*, user) -> QuerySet[Calendar]:
    """The calendars `user` created or takes part in, newest first (the list endpoint)."""
    return with_days_and_participants(Calendar.objects.member_of(user)).order_by("-created_at", "-id")


def calendars_visible(*, user) -> QuerySet[Calendar]:
    """Every calendar `user` may see: creator, participant or pending invitee (detail endpoints)."""
    return with_days_and_participants(Calendar.objects.visible_to(user))


def calendar_list_rows(*, user) -> QuerySet:
    """`calendar_list` as value rows for `read_models.calendar_bodies` (the list endpoint's lean path)."""
    return read_models.calendar_rows(Calendar.objects.member_of(user).order_by("-created_at", "-id"))


def calendar_body_visible(*, user, calendar_id: int) -> tuple[int, dict[str, Any]]:
    """The creator's id and the body of calendar `calendar_id` if `user` may see it, else 404."""
    queryset = Calendar.objects.visible_to(user).filter(pk=calendar_id)
    row = read_models.calendar_rows(queryset, "creator_id").first()
    if row is None:
        raise Http404
    return row[-1], read_models.calendar_bodies([row])[0]


def calendar_detail(*, calendar_id: int) -> Calendar:
    """One calendar, fully prefetched, for a response after a write."""
    return with_days_and_participants(Calendar.objects.filter(pk=calendar_id)).get()


def day_visible(*, user, calendar_id: int, day_id: int) -> Day:
    """The day `day_id` of calendar `calendar_id` if `user` may see that calendar, else 404."""
    queryset = Day.objects.select_related("calendar").filter(
        calendar_id=calendar_id, calendar__in=Calendar.objects.visible_to(user)
    )
    return get_object_or_404(queryset, pk=day_id)


def is_member(*, user, calendar: Calendar) -> bool:
    """True for the creator and every participant (accepted invitee) of `calendar`."""
    if calendar.creator_id == user.pk:
        return True
    return Invitation.objects.filter(calendar=calendar, invitee=user, status=InvitationStatus.ACCEPTED).exists()


def timeslots_of_day(*, day: Day) -> QuerySet[TimeSlot]:
    """All owners' slots of a day (already resolved for the user), earliest first."""
    return TimeSlot.objects.filter(day=day).select_related("owner").order_by("start_time", "end_time", "id")


def timeslot_rows_of_day(*, day: Day) -> QuerySet:
    """`timeslots_of_day` as value rows for `read_models.timeslot_bodies` (the list endpoint's lean path)."""
    return read_models.timeslot_rows(TimeSlot.objects.filter(day=day).order_by("start_time", "end_time", "id"))


def _with_participants(queryset: QuerySet[Calendar]) -> QuerySet[Calendar]:
    """Creator and accepted invitations with their invitees (in `participant_invitations`), in two queries."""
    return queryset.select_related("creator").prefetch_related(
        Prefetch(
            "invitations",
            queryset=Invitation.objects.filter(status=InvitationStatus.ACCEPTED)
            .select_related("invitee")
            .order_by("invitee__username", "id"),
            to_attr="participant_invitations",
        )
    )


def participants(calendar: Calendar) -> list:
    """Participants of a calendar loaded by `_with_participants`, by username (no query)."""
    return [invitation.invitee for invitation in calendar.participant_invitations]


def calendar_for_members(*, user, calendar_id: int) -> Calendar:
    """The calendar with its participants if `user` is its creator or a participant.

    404 if they may not see it, 403 if they see it only as a pending invitee.
    """
    calendar = get_object_or_404(_with_participants(Calendar.objects.visible_to(user)), pk=calendar_id)
    if calendar.creator_id != user.pk and all(i.invitee_id != user.pk for i in calendar.participant_invitations):
        raise PermissionDenied(MEMBERS_ONLY)
    return calendar


@dataclass(frozen=True, slots=True)
class SchedulingInputs:
    """What `calendars.scheduling.suggest_meeting_times` needs about one calendar."""

    calendar: Calendar
    days: list[CandidateDay]
    participants: list[str]
    pending: list[str]
    slots: list[Slot]


def scheduling_inputs(*, user, calendar_id: int) -> SchedulingInputs:
    """Days, members, pending invitees and every timeslot of a calendar `user` is a member of.

    Four queries whatever the size (calendar, invitations, days, slots): slots come as plain
    tuples keyed by ids, so 30,000 of them cost milliseconds, not model instances.
    """
    calendar = get_object_or_404(Calendar.objects.visible_to(user).select_related("creator"), pk=calendar_id)
    invitations = list(
        Invitation.objects.filter(
            calendar=calendar, status__in=[InvitationStatus.ACCEPTED, InvitationStatus.PENDING]
        ).values_list("invitee_id", "invitee__username", "status")
    )
    accepted = {pk: name for pk, name, status in invitations if status == InvitationStatus.ACCEPTED}
    if calendar.creator_id != user.pk and user.pk not in accepted:
        raise PermissionDenied(MEMBERS_ONLY)
    pending = [name for _, name, status in invitations if status == InvitationStatus.PENDING]
    days = list(Day.objects.filter(calendar=calendar).values_list("id", "date", "ranking"))
    dates = {pk: date for pk, date, _ in days}
    owners = {calendar.creator_id: calendar.creator.username, **accepted}
    slots = [
        Slot(owners[owner_id], dates[day_id], start, end)
        for owner_id, day_id, start, end in TimeSlot.objects.filter(
            day__calendar=calendar, owner_id__in=owners
        ).values_list("owner_id", "day_id", "start_time", "end_time")
    ]
    return SchedulingInputs(
        calendar=calendar,
        days=[CandidateDay(date, ranking) for _, date, ranking in days],
        participants=list(accepted.values()),
        pending=pending,
        slots=slots,
    )


def feed_owner(*, token: str):
    """The user whose feed secret is `token`, or None."""
    feed_token = FeedToken.objects.matching(token).select_related("user").first()
    if feed_token is None or not hmac.compare_digest(feed_token.token, token) or not feed_token.user.is_active:
        return None
    return feed_token.user


def finalized_meetings(*, user) -> QuerySet[Calendar]:
    """Finalized calendars `user` created or takes part in, with participants (two queries), soonest first."""
    return _with_participants(Calendar.objects.member_of(user).filter(finalized_date__isnull=False)).order_by(
        "finalized_date", "finalized_start_time", "id"
    )


def calendar_for_creator(*, user, calendar_id: int, message: str) -> Calendar:
    """The calendar if `user` created it; 403 (with `message`) if they only see it, 404 if they do not."""
    calendar = get_object_or_404(Calendar.objects.visible_to(user), pk=calendar_id)
    if calendar.creator_id != user.pk:
        raise PermissionDenied(message)
    return calendar

"""Reads for calendars, days and timeslots, scoped to the user and prefetched flat (no N+1)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from calendars.models import Calendar, Day, TimeSlot
from invitations.models import Invitation, InvitationStatus


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

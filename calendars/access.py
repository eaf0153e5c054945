"""Who may do what to a calendar: the one place that answers it (docs/security.md).

Three roles, each including the one before it:

- VIEWER: the creator, the participants and the pending invitees see the calendar, its days and slots;
- MEMBER: the creator and the participants add availability and read suggestions and the .ics;
- CREATOR: only the creator edits or deletes the calendar, invites, revokes, reminds and finalizes.

Everyone else gets 404, exactly as if the calendar did not exist; someone who sees it without the
role gets 403. Views load what they act on through `calendar_for` and `day_for`. A check that must
hold under a row lock (a participant removed at the same moment) is made by the service that takes
the lock, with `require_member_locked`; views do not repeat it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, TypeAlias, TypedDict, cast

from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.db.models.expressions import Expression
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied

from calendars.models import Calendar, Day, Invitation, InvitationStatus, TimeSlot

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from accounts.models import User


class Role(IntEnum):
    """What a user is to a calendar they can see; a higher role may do everything a lower one may."""

    VIEWER = 1
    MEMBER = 2
    CREATOR = 3


MEMBERS_ONLY = "Only the calendar's creator and participants can do this; answer your invitation first."
CREATOR_ONLY = "Only the calendar's creator can do this."
NOT_SLOT_OWNER = "Only the owner of a timeslot can change or delete it."
NOT_INVITEE = "Only the invitee can answer an invitation."
DEFAULT_REFUSAL = {Role.MEMBER: MEMBERS_ONLY, Role.CREATOR: CREATOR_ONLY}


if TYPE_CHECKING:

    class ViewerRole(TypedDict):
        """What this module adds to what it loads: the viewer's `Role`, as a number."""

        viewer_role: int

    # A calendar loaded through `calendar_for` (or a day's, through `day_for`): it carries `viewer_role`.
    ViewedCalendar: TypeAlias = WithAnnotations[Calendar, ViewerRole]


def role_of(user: User, *, calendar: str = "pk", creator: str = "creator_id") -> Expression:
    """The user's `Role` as a SQL expression over a queryset the user can see (`calendar`: its id column)."""
    accepted = Invitation.objects.filter(calendar=OuterRef(calendar), invitee=user.pk, status=InvitationStatus.ACCEPTED)
    return Case(
        When(**{creator: user.pk}, then=Value(Role.CREATOR)),
        When(Exists(accepted), then=Value(Role.MEMBER)),
        default=Value(Role.VIEWER),
        output_field=IntegerField(),
    )


def require(calendar: ViewedCalendar, role: Role, *, message: str | None = None) -> None:
    """403 (with `message`) unless the viewer's role on `calendar`, loaded by this module, is at least `role`."""
    if calendar.viewer_role < role:
        raise PermissionDenied(message or DEFAULT_REFUSAL[role])


def calendar_for(
    user: User, calendar_id: int, role: Role = Role.VIEWER, *, message: str | None = None
) -> ViewedCalendar:
    """The calendar (with its creator) if `user` may see it, else 404; 403 without `role`.

    One query. The calendar carries `viewer_role`, so later `require` calls cost nothing.
    """
    queryset = Calendar.objects.visible_to(user).select_related("creator").annotate(viewer_role=role_of(user))
    calendar = get_object_or_404(queryset, pk=calendar_id)
    require(calendar, role, message=message)
    return calendar


def day_for(user: User, calendar_id: int, day_id: int) -> Day:
    """The day `day_id` of calendar `calendar_id` if `user` may see that calendar, else 404 (one query)."""
    queryset = (
        Day.objects.select_related("calendar")
        .filter(calendar_id=calendar_id, calendar__in=Calendar.objects.visible_to(user))
        .annotate(viewer_role=role_of(user, calendar="calendar_id", creator="calendar__creator_id"))
    )
    day: WithAnnotations[Day, ViewerRole] = get_object_or_404(queryset, pk=day_id)
    # Its calendar carries the role from here on (the views' `require` calls read it there).
    cast("ViewedCalendar", day.calendar).viewer_role = day.viewer_role
    return day


def require_slot_owner(timeslot: TimeSlot, user: User) -> None:
    """Every member reads every slot of a day; only its owner changes or deletes it (403)."""
    if timeslot.owner_id != user.pk:
        raise PermissionDenied(NOT_SLOT_OWNER)


def require_invitee(invitation: Invitation, user: User) -> None:
    """The creator sees every invitation of their calendar; only the invitee answers one (403)."""
    if invitation.invitee_id != user.pk:
        raise PermissionDenied(NOT_INVITEE)


def require_member_locked(*, calendar: Calendar, user_id: int, message: str = MEMBERS_ONLY) -> None:
    """403 unless `user_id` is the creator or an accepted invitee, reading the invitation with a row lock.

    For services inside their transaction: a participant who is being removed at the same moment
    (rejecting, revoked, unfriended) either commits first, and this refuses, or waits for this
    transaction to end.
    """
    if calendar.creator_id == user_id:
        return
    accepted = Invitation.objects.select_for_update().filter(
        calendar_id=calendar.pk, invitee_id=user_id, status=InvitationStatus.ACCEPTED
    )
    if accepted.values_list("pk", flat=True).first() is None:
        raise PermissionDenied(message)

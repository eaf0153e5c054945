"""Who may change what: the creator edits a calendar, an owner edits their own timeslot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import permissions

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

    from calendars.models import Calendar, TimeSlot


class IsCalendarCreatorOrReadOnly(permissions.BasePermission):
    """Everyone who can see the calendar may read it; only its creator may change or delete it."""

    message = "Only the calendar's creator can change or delete it."

    def has_object_permission(self, request: Request, view: APIView, obj: Calendar) -> bool:
        return request.method in permissions.SAFE_METHODS or obj.creator_id == request.user.pk


class IsTimeSlotOwnerOrReadOnly(permissions.BasePermission):
    """Every member reads every slot of a day; only the slot's owner changes or deletes it."""

    message = "Only the owner of a timeslot can change or delete it."

    def has_object_permission(self, request: Request, view: APIView, obj: TimeSlot) -> bool:
        return request.method in permissions.SAFE_METHODS or obj.owner_id == request.user.pk

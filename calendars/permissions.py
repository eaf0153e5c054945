"""Who may change what: the creator edits a calendar, an owner edits their own timeslot."""

from __future__ import annotations

from rest_framework import permissions


class IsCalendarCreatorOrReadOnly(permissions.BasePermission):
    """Everyone who can see the calendar may read it; only its creator may change or delete it."""

    message = "Only the calendar's creator can change or delete it."

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or obj.creator_id == request.user.pk


class IsTimeSlotOwnerOrReadOnly(permissions.BasePermission):
    """Every member reads every slot of a day; only the slot's owner changes or deletes it."""

    message = "Only the owner of a timeslot can change or delete it."

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or obj.owner_id == request.user.pk

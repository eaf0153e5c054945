"""Invitations of a calendar (`/calendars/{calendar_id}/invitations/`) and my inbox (`/invitations/`).

Who may do what to the calendar is decided by calendars.access; the API documentation is in invitations.openapi.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.functional import cached_property
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from accounts.current import current_user
from calendars import access
from calendars.access import Role
from calendars.models import Invitation
from idempotency.views import IdempotentWrites
from invitations import openapi, selectors, services
from invitations.filters import InboxFilter
from invitations.serializers import (
    InboxInvitationSerializer,
    InvitationCreateSerializer,
    InvitationEditSerializer,
    InvitationReminderSerializer,
    InvitationSerializer,
)
from oneonone.pagination import tagged_rows

if TYPE_CHECKING:
    from calendars.access import ViewedCalendar


@openapi.calendar_invitations
@openapi.calendar_invitations_common
class CalendarInvitationViewSet(
    IdempotentWrites, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = InvitationSerializer
    lookup_url_kwarg = "id"

    @cached_property
    def calendar(self) -> ViewedCalendar:
        return access.calendar_for(current_user(self.request), self.kwargs["calendar_id"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return selectors.invitations_of_calendar(calendar=self.calendar, user=current_user(self.request))

    def create(self, request, *args, **kwargs):
        access.require(self.calendar, Role.CREATOR, message="Only the calendar's creator can invite.")
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = services.invitation_create(calendar=self.calendar, invitee=serializer.validated_data["invitee"])
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        invitation = self.get_object()
        access.require_invitee(invitation, request.user)
        serializer = InvitationEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.invitation_answer(invitation=invitation, status=serializer.validated_data["status"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    def destroy(self, request, *args, **kwargs):
        invitation = self.get_object()
        access.require(
            self.calendar,
            Role.CREATOR,
            message="Only the calendar's creator can revoke an invitation; answer `rejected` instead.",
        )
        services.invitation_revoke(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @openapi.remind
    def remind(self, request, *args, **kwargs):
        invitation = self.get_object()
        access.require(self.calendar, Role.CREATOR, message="Only the calendar's creator can send reminders.")
        invitation = services.invitation_remind(invitation=invitation)
        return Response(InvitationReminderSerializer(invitation).data)


@openapi.inbox
class InvitationInboxView(generics.ListAPIView):
    serializer_class = InboxInvitationSerializer
    filterset_class = InboxFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return selectors.invitation_inbox(user=current_user(self.request))

    def list(self, request, *args, **kwargs):
        # Every invitation of mine (after the `status` filter) in one query, with what the inbox shows of it:
        # the page, the count and the ETag come from the same rows (a poll: the user's query and this one).
        rows = selectors.inbox_rows(self.filter_queryset(self.get_queryset()))
        return tagged_rows(self, request, ("inbox",), rows, selectors.inbox_bodies)

"""Invitations of a calendar (`/calendars/{calendar_id}/invitations/`) and my inbox (`/invitations/`)."""

from __future__ import annotations

from django.utils.functional import cached_property
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from invitations import selectors, services
from invitations.filters import InboxFilter
from invitations.models import Invitation
from invitations.serializers import (
    InboxInvitationSerializer,
    InvitationCreateSerializer,
    InvitationEditSerializer,
    InvitationReminderSerializer,
    InvitationSerializer,
)
from oneonone.schema import ERROR_REF

IN_CALENDAR = OpenApiParameter("calendar_id", int, OpenApiParameter.PATH, description="The calendar's id.")
INVITATION_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The invitation's id.")
# The invitation's own status enum, so clients get one type for the filter and the field it filters.
INBOX_STATUS = OpenApiParameter(
    "status",
    {"$ref": "#/components/schemas/InvitationStatusEnum"},
    OpenApiParameter.QUERY,
    description="Only invitations in this state (`pending` for the ones awaiting an answer).",
)
NOT_FOUND = OpenApiResponse(ERROR_REF, description="No such calendar or invitation visible to you.")
FINALIZED = "The calendar's meeting is finalized: invitations do not change until the creator undoes it."


REMIND_SCHEMA = extend_schema(
    operation_id="calendars_invitations_remind",
    parameters=[INVITATION_ID],
    summary="Remind a pending invitee",
    description=(
        "The creator emails a pending invitee a reminder to answer; at most one an hour per invitation "
        "(429 with `Retry-After` in seconds otherwise). An invitation already answered, an invitee without "
        "an email address or a finalized meeting: 409. Only the creator reminds (the invitee: 403). "
        "No request body."
    ),
    request=None,
    responses={
        200: OpenApiResponse(InvitationReminderSerializer, description="Reminder sent."),
        403: OpenApiResponse(ERROR_REF, description="Only the calendar's creator can send reminders."),
        404: NOT_FOUND,
        409: OpenApiResponse(
            ERROR_REF,
            description=f"Not pending any more, or the invitee has no email address, or: {FINALIZED}",
        ),
        429: OpenApiResponse(
            ERROR_REF,
            description="Reminded less than an hour ago; the `Retry-After` header says how many seconds to wait.",
            examples=[
                OpenApiExample(
                    "Too soon",
                    value={"detail": "bob was reminded less than an hour ago. Expected available in 3541 seconds."},
                )
            ],
        ),
    },
    tags=["invitations"],
)


@extend_schema_view(
    list=extend_schema(
        operation_id="calendars_invitations_list",
        summary="List a calendar's invitations",
        description=(
            "Retrieve all invitations for a calendar. The creator sees every invitation; a participant "
            "or pending invitee sees only their own. A calendar you cannot see answers 404."
        ),
        responses={200: InvitationSerializer(many=True), 404: NOT_FOUND},
    ),
    create=extend_schema(
        operation_id="calendars_invitations_create",
        summary="Invite a friend",
        description=(
            "Create an invitation. Only the calendar's creator invites (others: 403), and only their "
            "friends (400 on `invitee_username` for an unknown user, yourself or a non-friend). "
            "Someone already pending or accepted: 409. Inviting again someone who rejected makes "
            "the same invitation pending again (201)."
        ),
        request=InvitationCreateSerializer,
        responses={
            201: OpenApiResponse(InvitationSerializer, description="The invitation, pending."),
            403: OpenApiResponse(ERROR_REF, description="You are not the calendar's creator."),
            404: NOT_FOUND,
            409: OpenApiResponse(
                ERROR_REF, description=f"This user is already invited (pending or accepted), or: {FINALIZED}"
            ),
        },
        examples=[OpenApiExample("Invite", value={"invitee_username": "bob"}, request_only=True)],
    ),
    retrieve=extend_schema(
        operation_id="calendars_invitations_retrieve",
        parameters=[INVITATION_ID],
        summary="Retrieve an invitation",
        description="Retrieve an invitation: the creator any of the calendar's, an invitee their own.",
        responses={200: InvitationSerializer, 404: NOT_FOUND},
    ),
    update=extend_schema(
        operation_id="calendars_invitations_answer",
        parameters=[INVITATION_ID],
        summary="Answer an invitation",
        description=(
            "Update an invitation: the invitee answers `accepted` (they become a participant) or "
            "`rejected` (declined; after accepting, they leave the calendar and their timeslots on it "
            "are deleted). `pending` is refused (400). Only the invitee answers (the creator: 403). "
            "No body in the answer. The creator is told by email."
        ),
        request=InvitationEditSerializer,
        responses={
            204: OpenApiResponse(description="Answer recorded."),
            403: OpenApiResponse(ERROR_REF, description="Only the invitee can answer their invitation."),
            404: NOT_FOUND,
            409: OpenApiResponse(
                ERROR_REF, description=f"The invitation was rejected meanwhile (concurrent answer), or: {FINALIZED}"
            ),
        },
        examples=[
            OpenApiExample("Accept", value={"status": "accepted"}, request_only=True),
            OpenApiExample("Reject", value={"status": "rejected"}, request_only=True),
        ],
    ),
    destroy=extend_schema(
        operation_id="calendars_invitations_revoke",
        parameters=[INVITATION_ID],
        summary="Revoke an invitation",
        description=(
            "Delete an invitation (the creator revokes it). An invitee who had accepted stops being a "
            "participant and their timeslots on the calendar are deleted. An invitee cannot delete "
            "(403): they answer `rejected` instead."
        ),
        responses={
            204: OpenApiResponse(description="Revoked."),
            403: OpenApiResponse(ERROR_REF, description="Only the calendar's creator can revoke an invitation."),
            404: NOT_FOUND,
            409: OpenApiResponse(ERROR_REF, description=FINALIZED),
        },
    ),
)
@extend_schema(tags=["invitations"], parameters=[IN_CALENDAR])
class CalendarInvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InvitationSerializer
    lookup_url_kwarg = "id"

    @cached_property
    def calendar(self):
        return selectors.calendar_for_invitations(user=self.request.user, calendar_id=self.kwargs["calendar_id"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return selectors.invitations_of_calendar(calendar=self.calendar, user=self.request.user)

    def create(self, request, *args, **kwargs):
        calendar = self.calendar
        if calendar.creator_id != request.user.pk:
            raise PermissionDenied("Only the calendar's creator can invite.")
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = services.invitation_create(calendar=calendar, invitee=serializer.validated_data["invitee"])
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        invitation = self.get_object()
        if invitation.invitee_id != request.user.pk:
            raise PermissionDenied("Only the invitee can answer an invitation.")
        serializer = InvitationEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.invitation_answer(invitation=invitation, status=serializer.validated_data["status"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    def destroy(self, request, *args, **kwargs):
        invitation = self.get_object()
        if self.calendar.creator_id != request.user.pk:
            raise PermissionDenied("Only the calendar's creator can revoke an invitation; answer `rejected` instead.")
        services.invitation_revoke(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @REMIND_SCHEMA
    def remind(self, request, *args, **kwargs):
        invitation = self.get_object()
        if self.calendar.creator_id != request.user.pk:
            raise PermissionDenied("Only the calendar's creator can send reminders.")
        invitation = services.invitation_remind(invitation=invitation)
        return Response(InvitationReminderSerializer(invitation).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="invitations_inbox",
        summary="My invitations",
        description=(
            "The invitations addressed to me across calendars, the latest invited first, each with its "
            "calendar's id and title. Filter with `?status=pending` for the ones awaiting an answer. "
            "Answer one with `PUT /calendars/{calendar_id}/invitations/{id}/`."
        ),
        parameters=[INBOX_STATUS],
        tags=["invitations"],
    )
)
class InvitationInboxView(generics.ListAPIView):
    serializer_class = InboxInvitationSerializer
    filterset_class = InboxFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return selectors.invitation_inbox(user=self.request.user)

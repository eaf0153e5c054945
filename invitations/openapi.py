"""The OpenAPI documentation of the invitation endpoints, applied to the views in invitations/views.py by name."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from calendars.models import MAX_INVITATIONS_PER_CALENDAR
from invitations.serializers import (
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


remind = extend_schema(
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


calendar_invitations = extend_schema_view(
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
            "the same invitation pending again (201). A calendar holds at most "
            f"{MAX_INVITATIONS_PER_CALENDAR} invitations, whatever their state (400 past it; revoke one)."
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
calendar_invitations_common = extend_schema(tags=["invitations"], parameters=[IN_CALENDAR])


inbox = extend_schema_view(
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

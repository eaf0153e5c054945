"""The OpenAPI documentation of the contact endpoints, applied to the views in contacts/views.py by name."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from accounts.serializers import UserSummarySerializer
from contacts.models import MAX_PENDING_REQUESTS_PER_USER, ContactStatus
from contacts.serializers import ContactActionSerializer, ContactSerializer
from oneonone.schema import ERROR_REF

TAGS = ["contacts"]
CONTACT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The relation's id.")
CONFLICT = OpenApiResponse(ERROR_REF, description="The relation is in a state where this move does not apply.")
NO_SUCH_USER = OpenApiResponse(ERROR_REF, description="No user has that username, or there is nothing to act on.")
BLOCK_IS_THEIRS = OpenApiResponse(ERROR_REF, description="The other user blocked you; only they can lift it.")
USERNAME_EXAMPLE = OpenApiExample("Username", value={"username": "bob"}, request_only=True)
PAGE_OF_USERS = UserSummarySerializer(many=True)


def _action_schema(operation_id: str, summary: str, description: str, *, forbidden: bool = False):
    responses = {
        200: OpenApiResponse(ContactSerializer, description="The relation after the move."),
        404: NO_SUCH_USER,
        409: CONFLICT,
    }
    if forbidden:
        responses[403] = BLOCK_IS_THEIRS
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        request=ContactActionSerializer,
        responses=responses,
        examples=[USERNAME_EXAMPLE],
        tags=TAGS,
    )


def _list_schema(operation_id: str, summary: str, description: str, parameters: list | None = None):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description + " Users as `{id, username}`, ordered by username; paginated.",
        parameters=parameters or [],
        responses={200: PAGE_OF_USERS},
        tags=TAGS,
    )


contact_viewset = extend_schema_view(
    list=extend_schema(
        operation_id="contacts_list",
        summary="List my relations",
        description="Every relation I am part of, on either side, oldest first.",
        tags=TAGS,
    ),
    create=extend_schema(
        operation_id="contacts_create",
        summary="Send a friend request (by user id)",
        description=(
            "The same move as `POST /contacts/add/`, naming the user by id in `userB`. "
            "`status` may only be 2 (pending), the default. Answers 201 with the relation."
        ),
        responses={201: ContactSerializer, 409: CONFLICT},
        examples=[OpenApiExample("Request", value={"userB": 2}, request_only=True)],
        tags=TAGS,
    ),
    retrieve=extend_schema(
        operation_id="contacts_retrieve",
        parameters=[CONTACT_ID],
        summary="Show one of my relations",
        description="Relations I am not part of answer 404.",
        tags=TAGS,
    ),
    update=extend_schema(
        operation_id="contacts_update",
        parameters=[CONTACT_ID],
        summary="Change a relation's status",
        description=(
            "Makes the same move as the action endpoints: `status` 1 accepts and 3 rejects a request "
            "made to me, 4 blocks, 2 sends a request back to someone whose request I declined. "
            "The same status changes nothing. `userB` must stay as it is (400 otherwise)."
        ),
        responses={200: ContactSerializer, 409: CONFLICT},
        examples=[OpenApiExample("Accept", value={"userB": 1, "status": 1}, request_only=True)],
        tags=TAGS,
    ),
    partial_update=extend_schema(
        operation_id="contacts_partial_update",
        parameters=[CONTACT_ID],
        summary="Change a relation's status (partial)",
        description="As PUT, with every field optional.",
        responses={200: ContactSerializer, 409: CONFLICT},
        examples=[OpenApiExample("Block", value={"status": 4}, request_only=True)],
        tags=TAGS,
    ),
    destroy=extend_schema(
        operation_id="contacts_destroy",
        parameters=[CONTACT_ID],
        summary="Remove a relation",
        description=(
            "The same move as `unadd` (end a friendship, cancel my request, clear a rejection I made), "
            "or `unblock` for a block I made. A block made by the other user answers 403."
        ),
        responses={
            204: OpenApiResponse(description="Removed."),
            403: BLOCK_IS_THEIRS,
            409: CONFLICT,
        },
        tags=TAGS,
    ),
)


add = _action_schema(
    "contacts_add",
    "Send a friend request",
    "Creates a pending request from me to the user. Refused (409) when any relation exists either way "
    "(a request, a friendship, a rejection of my request, a block); the one who declined a request "
    "may send one back. Unknown user: 404. Myself: 400. At most "
    f"{MAX_PENDING_REQUESTS_PER_USER} of my requests wait for an answer at a time (400 past it).",
)

accept = _action_schema(
    "contacts_accept",
    "Accept a friend request",
    "Accepts the user's pending request to me: we become friends. Anything else answers 409 "
    "(404 when there is no relation at all).",
)

reject = _action_schema(
    "contacts_reject",
    "Decline a friend request",
    "Declines the user's pending request to me; they cannot ask again until I clear it (unadd) "
    "or send a request myself. Anything else answers 409 (404 when there is no relation at all).",
)

block = _action_schema(
    "contacts_block",
    "Block a user",
    "Makes or rewrites the relation as blocked, with me as `userA`. Ends every invitation between us "
    "(neither stays a participant of the other's calendars). 409 if I blocked them already or they "
    "blocked me.",
)

unblock = _action_schema(
    "contacts_unblock",
    "Lift my block",
    "Removes a block I made and answers the relation as it was removed. The blocked user cannot "
    "lift it (403); any other relation answers 409, no relation 404.",
    forbidden=True,
)

unadd = _action_schema(
    "contacts_unadd",
    "Unfriend, cancel my request, or clear a rejection I made",
    "Removes the relation and answers it as it was removed. Ending a friendship ends every invitation "
    "between us. Never lifts a block (409 for mine, 403 for theirs); a request to me (accept or "
    "reject it) and a rejection of my request (only they can clear it) answer 409.",
    forbidden=True,
)

friends = _list_schema("contacts_friends_list", "My friends", "Users I am friends with.")

incoming = _list_schema("contacts_incoming_list", "Requests to me", "Users whose friend request waits for my answer.")

outgoing = _list_schema("contacts_outgoing_list", "My requests", "Users who have not yet answered my friend request.")

blocked = _list_schema("contacts_blocked_list", "Users I blocked", "Users I blocked (to lift a block by username).")

search = _list_schema(
    "contacts_search_list",
    "Find users",
    "Every other user whose username contains `search` (any letter case); a user who blocked me, "
    "or whom I blocked, is never listed.",
    parameters=[
        OpenApiParameter(
            "search",
            str,
            description="Part of a username, any letter case. Empty or left out: everyone.",
            required=False,
        )
    ],
)


def name_status_values(result, generator, request, public):
    """Post-processing hook (SPECTACULAR_SETTINGS): generated clients name ContactStatusEnum's integers.

    FRIENDS, PENDING, ... instead of VALUE_1, VALUE_2, ...
    """
    schemas = result.get("components", {}).get("schemas", {})
    if "ContactStatusEnum" in schemas:
        schemas["ContactStatusEnum"]["x-enum-varnames"] = [member.name for member in ContactStatus]
    return result

"""Contacts: the action endpoints, the user lists, and `/contacts/` over my own relations."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.serializers import UserSummarySerializer
from contacts import selectors, services
from contacts.models import Contact
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


@extend_schema_view(
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
class ContactViewSet(viewsets.ModelViewSet):
    serializer_class = ContactSerializer
    queryset = Contact.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contact.objects.none()
        return selectors.contacts_of(user=self.request.user)

    def get_serializer_class(self):
        if self.action in {"friends", "incoming", "outgoing", "blocked", "search"}:
            return UserSummarySerializer
        if self.action in {"add", "accept", "reject", "block", "unblock", "unadd"}:
            return ContactActionSerializer
        return ContactSerializer

    # /contacts/ and /contacts/{id}/: the same moves, through the services.

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_add(actor=request.user, other=serializer.validated_data["userB"])
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        contact = self.get_object()
        serializer = self.get_serializer(contact, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        new_status = serializer.validated_data.get("status")
        if new_status is not None:
            contact = services.contact_change_status(
                actor=request.user, other=contact.other(request.user), status=new_status
            )
        return Response(ContactSerializer(contact).data)

    def destroy(self, request, *args, **kwargs):
        contact = self.get_object()
        services.contact_remove(actor=request.user, other=contact.other(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # The action endpoints: `{username}` in, the relation out.

    def _act(self, request, verb: str, move: Callable) -> Response:
        serializer = ContactActionSerializer(data=request.data, context={"request": request, "verb": verb})
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        other = selectors.user_by_username(username=username)
        if other is None:
            raise NotFound(f"There is no user named {username}.")
        contact = move(actor=request.user, other=other)
        return Response(ContactSerializer(contact).data)

    @_action_schema(
        "contacts_add",
        "Send a friend request",
        "Creates a pending request from me to the user. Refused (409) when any relation exists either way "
        "(a request, a friendship, a rejection of my request, a block); the one who declined a request "
        "may send one back. Unknown user: 404. Myself: 400.",
    )
    @action(detail=False, methods=["post"])
    def add(self, request):
        return self._act(request, "add", services.contact_add)

    @_action_schema(
        "contacts_accept",
        "Accept a friend request",
        "Accepts the user's pending request to me: we become friends. Anything else answers 409 "
        "(404 when there is no relation at all).",
    )
    @action(detail=False, methods=["post"])
    def accept(self, request):
        return self._act(request, "accept", services.contact_accept)

    @_action_schema(
        "contacts_reject",
        "Decline a friend request",
        "Declines the user's pending request to me; they cannot ask again until I clear it (unadd) "
        "or send a request myself. Anything else answers 409 (404 when there is no relation at all).",
    )
    @action(detail=False, methods=["post"])
    def reject(self, request):
        return self._act(request, "reject", services.contact_reject)

    @_action_schema(
        "contacts_block",
        "Block a user",
        "Makes or rewrites the relation as blocked, with me as `userA`. Ends every invitation between us "
        "(neither stays a participant of the other's calendars). 409 if I blocked them already or they "
        "blocked me.",
    )
    @action(detail=False, methods=["post"])
    def block(self, request):
        return self._act(request, "block", services.contact_block)

    @_action_schema(
        "contacts_unblock",
        "Lift my block",
        "Removes a block I made and answers the relation as it was removed. The blocked user cannot "
        "lift it (403); any other relation answers 409, no relation 404.",
        forbidden=True,
    )
    @action(detail=False, methods=["post"])
    def unblock(self, request):
        return self._act(request, "unblock", services.contact_unblock)

    @_action_schema(
        "contacts_unadd",
        "Unfriend, cancel my request, or clear a rejection I made",
        "Removes the relation and answers it as it was removed. Ending a friendship ends every invitation "
        "between us. Never lifts a block (409 for mine, 403 for theirs); a request to me (accept or "
        "reject it) and a rejection of my request (only they can clear it) answer 409.",
        forbidden=True,
    )
    @action(detail=False, methods=["post"])
    def unadd(self, request):
        return self._act(request, "unadd", services.contact_unadd)

    # The user lists: a count and a page, whatever the size.

    def _users(self, queryset) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(UserSummarySerializer(page, many=True).data)

    @_list_schema("contacts_friends_list", "My friends", "Users I am friends with.")
    @action(detail=False, methods=["get"])
    def friends(self, request):
        return self._users(selectors.friends_of(user=request.user))

    @_list_schema("contacts_incoming_list", "Requests to me", "Users whose friend request waits for my answer.")
    @action(detail=False, methods=["get"])
    def incoming(self, request):
        return self._users(selectors.incoming_requests_of(user=request.user))

    @_list_schema("contacts_outgoing_list", "My requests", "Users who have not yet answered my friend request.")
    @action(detail=False, methods=["get"])
    def outgoing(self, request):
        return self._users(selectors.outgoing_requests_of(user=request.user))

    @_list_schema("contacts_blocked_list", "Users I blocked", "Users I blocked (to lift a block by username).")
    @action(detail=False, methods=["get"])
    def blocked(self, request):
        return self._users(selectors.blocked_by(user=request.user))

    @_list_schema(
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
    @action(detail=False, methods=["get"])
    def search(self, request):
        text = request.query_params.get("search", "").strip()
        return self._users(selectors.user_search(user=request.user, text=text))

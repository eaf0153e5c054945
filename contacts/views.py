"""Contacts: the action endpoints, the user lists, and `/contacts/` over my own relations."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponseBase
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.current import current_user
from accounts.serializers import UserSummarySerializer
from contacts import openapi, selectors, services
from contacts.models import Contact
from contacts.serializers import ContactActionSerializer, ContactSerializer
from idempotency.views import IdempotentWrites
from oneonone.pagination import tagged_rows


@openapi.contact_viewset
class ContactViewSet(IdempotentWrites, viewsets.ModelViewSet):
    serializer_class = ContactSerializer
    queryset = Contact.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contact.objects.none()
        return selectors.contacts_of(user=current_user(self.request))

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

    @openapi.add
    @action(detail=False, methods=["post"])
    def add(self, request):
        return self._act(request, "add", services.contact_add)

    @openapi.accept
    @action(detail=False, methods=["post"])
    def accept(self, request):
        return self._act(request, "accept", services.contact_accept)

    @openapi.reject
    @action(detail=False, methods=["post"])
    def reject(self, request):
        return self._act(request, "reject", services.contact_reject)

    @openapi.block
    @action(detail=False, methods=["post"])
    def block(self, request):
        return self._act(request, "block", services.contact_block)

    @openapi.unblock
    @action(detail=False, methods=["post"])
    def unblock(self, request):
        return self._act(request, "unblock", services.contact_unblock)

    @openapi.unadd
    @action(detail=False, methods=["post"])
    def unadd(self, request):
        return self._act(request, "unadd", services.contact_unadd)

    # The user lists: a count and a page, whatever the size.

    def _users(self, queryset) -> Response:
        page = self.paginate_queryset(queryset.only("id", "username"))  # what the page shows, not the password hash
        return self.get_paginated_response(UserSummarySerializer(page, many=True).data)

    def _tagged_users(self, kind: str, queryset) -> HttpResponseBase:
        """One of my lists of users, polled: every `(id, username)` of it in one query is its body and its ETag.

        A list of my relations is short (a count of them was a query too): the page, the count and the tag all
        come from the same rows, in the selector's order, so a poll that changed nothing is a 304 from the
        user's query and this one (oneonone.etags).
        """
        rows = list(queryset.values_list("id", "username"))
        return tagged_rows(
            self, self.request, ("contacts", kind), rows, lambda shown: [{"id": pk, "username": n} for pk, n in shown]
        )

    @openapi.friends
    @action(detail=False, methods=["get"])
    def friends(self, request):
        return self._tagged_users("friends", selectors.friends_of(user=request.user))

    @openapi.incoming
    @action(detail=False, methods=["get"])
    def incoming(self, request):
        return self._tagged_users("incoming", selectors.incoming_requests_of(user=request.user))

    @openapi.outgoing
    @action(detail=False, methods=["get"])
    def outgoing(self, request):
        return self._tagged_users("outgoing", selectors.outgoing_requests_of(user=request.user))

    @openapi.blocked
    @action(detail=False, methods=["get"])
    def blocked(self, request):
        return self._tagged_users("blocked", selectors.blocked_by(user=request.user))

    @openapi.search
    @action(detail=False, methods=["get"])
    def search(self, request):
        text = request.query_params.get("search", "").strip()
        return self._users(selectors.user_search(user=request.user, text=text))

"""The contacts' section of an account's export (accounts.export): every relation I am part of, with usernames."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from contacts.models import Contact
from contacts.selectors import contacts_of

if TYPE_CHECKING:
    from accounts.models import User


class ExportContactSerializer(serializers.ModelSerializer):
    """A relation of mine: the other user, its status, and whether I made the move that set it."""

    user = serializers.SerializerMethodField(help_text="The other user.")
    initiated_by_me = serializers.SerializerMethodField(
        help_text="Whether I sent the request (pending, friends, rejected) or made the block."
    )

    class Meta:
        model = Contact
        fields = ["id", "user", "status", "initiated_by_me", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(UserSummarySerializer)
    def get_user(self, contact: Contact) -> dict[str, Any]:
        return UserSummarySerializer(contact.other(self.context["user"])).data

    def get_initiated_by_me(self, contact: Contact) -> bool:
        return contact.userA_id == self.context["user"].pk


def contacts(user: User) -> list[dict[str, Any]]:
    relations = contacts_of(user=user).select_related("userA", "userB").order_by("id")
    # djangorestframework-stubs gap: many=True makes a ListSerializer, whose .data is a list, not a ReturnDict.
    return ExportContactSerializer(relations, many=True, context={"user": user}).data  # type: ignore[return-value]


def register_sections() -> None:
    from accounts import export

    export.register("contacts", build=contacts, schema=lambda: ExportContactSerializer(many=True))

"""The spec's `Contact` (and `PatchedContact`), and the `{username}` body of the action endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from rest_framework import serializers

from contacts.models import Contact, ContactStatus

if TYPE_CHECKING:
    from accounts.models import User
else:
    User = get_user_model()


class ContactSerializer(serializers.ModelSerializer):
    """A relation between the current user and another user."""

    userA: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(
        read_only=True,
        help_text=(
            "The user who acted: the requester of a pending, accepted (friends) or rejected request, "
            "or the blocker. Set by the server."
        ),
    )
    userB = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        help_text=(
            "The other user's id. POST /contacts/ sends a friend request to this user; "
            "it cannot be changed afterwards (send the current value or leave it out of a PATCH)."
        ),
    )
    status = serializers.ChoiceField(
        choices=ContactStatus.choices,
        required=False,
        help_text=(
            "1 friends, 2 pending, 3 rejected, 4 blocked. On POST only 2 (the default). On PUT/PATCH: "
            "1 accepts and 3 rejects a request made to you, 4 blocks, 2 sends a request back to someone "
            "whose request you declined; the same value changes nothing."
        ),
    )

    class Meta:
        model = Contact
        fields = ["id", "userA", "userB", "status"]
        read_only_fields = ["id", "userA"]

    def validate_userB(self, value):
        if self.instance is not None:
            if value.pk != self.instance.userB_id:
                raise serializers.ValidationError("The users of a relation cannot be changed.")
        elif value.pk == self.context["request"].user.pk:
            raise serializers.ValidationError("You cannot add yourself.")
        return value

    def validate_status(self, value: int) -> int:
        if self.instance is None and value != ContactStatus.PENDING:
            raise serializers.ValidationError(
                "A new relation is always a pending request (2); use POST /contacts/block/ to block."
            )
        return value


class ContactActionSerializer(serializers.Serializer):
    """The body of the action endpoints: who the move is about."""

    username = serializers.CharField(
        max_length=150,
        help_text="The other user's username (any letter case).",
    )

    def validate_username(self, value: str) -> str:
        user = self.context["request"].user
        if value.lower() == user.username.lower():
            raise serializers.ValidationError(f"You cannot {self.context['verb']} yourself.")
        return value

"""Shapes of invitations: the spec's Invitation, InvitationCreate and InvitationEdit, and the inbox."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calendars.models import REMIND_INTERVAL, Invitation

User = get_user_model()


class InvitationAnswer(models.TextChoices):
    """`InvitationEditStatusEnum`: what an invitee may send; same values as InvitationStatus.

    The labels differ on purpose: drf-spectacular names one enum component per
    (value, label) set, and the spec wants two components.
    """

    PENDING = "pending", "refused: an answer cannot go back to pending"
    ACCEPTED = "accepted", "accept: become a participant"
    REJECTED = "rejected", "reject: decline, or leave the calendar if accepted before"


class InvitationSerializer(serializers.ModelSerializer):
    """The spec's `Invitation`."""

    calendar_id = serializers.IntegerField(read_only=True)
    invitee_username = serializers.CharField(source="invitee.username", read_only=True)
    inviter_username = serializers.CharField(source="inviter.username", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "calendar_id", "invitee_username", "inviter_username", "status"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    """The spec's `InvitationCreate`: who to invite, by username (any letter case)."""

    id = serializers.IntegerField(read_only=True)
    invitee_username = serializers.CharField(
        max_length=150, help_text="Username of a friend of yours (letter case does not matter)."
    )

    def validate(self, attrs: dict) -> dict:
        invitee = User.objects.filter(username__iexact=attrs["invitee_username"], is_active=True).first()
        if invitee is None:
            raise serializers.ValidationError({"invitee_username": ["No user with this username."]})
        return {"invitee": invitee}


class InvitationEditSerializer(serializers.Serializer):
    """The spec's `InvitationEdit`: the invitee's answer."""

    id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(
        choices=InvitationAnswer.choices,
        help_text="`accepted` or `rejected`; `pending` is refused (400).",
    )


class InboxInvitationSerializer(InvitationSerializer):
    """An invitation addressed to me, with the calendar's title and when I was invited."""

    calendar_title = serializers.CharField(source="calendar.title", read_only=True)

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "calendar_title", "invited_at"]
        read_only_fields = fields


class InvitationReminderSerializer(serializers.ModelSerializer):
    """A reminder just emailed to a pending invitee, and when the next one may be sent."""

    invitee_username = serializers.CharField(source="invitee.username", read_only=True)
    next_reminder_at = serializers.SerializerMethodField(help_text="The earliest time another reminder can be sent.")

    class Meta:
        model = Invitation
        fields = ["id", "invitee_username", "reminded_at", "next_reminder_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_next_reminder_at(self, invitation: Invitation) -> str:
        if invitation.reminded_at is None:  # never: this answers a reminder just sent (invitation_remind sets it)
            raise ValueError("the invitation was never reminded")
        return serializers.DateTimeField().to_representation(invitation.reminded_at + REMIND_INTERVAL)

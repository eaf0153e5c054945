"""The calendars' sections of an account's export (accounts.export).

- `calendars_created`: the calendars I created, in full: as their members see them (days with every
  member's timeslots, participants, the fixed meeting), with every invitation and when each was made;
- `calendars_joined`: the calendars I take part in, only as a participant sees them, with my own timeslots;
- `feed_token`: whether I have a feed address (never the secret itself).

A fixed number of queries whatever the size (calendars.read_models for the full bodies).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calendars import read_models
from calendars.models import Calendar, Day, FeedToken, Invitation, InvitationStatus, TimeSlot
from calendars.serializers import CalendarSerializer, ClockTimeField, FinalizedMeetingSerializer, finalized_body

if TYPE_CHECKING:
    from accounts.models import User


class ExportCalendarInvitationSerializer(serializers.ModelSerializer):
    """An invitation to a calendar I created."""

    invitee_id = serializers.IntegerField(read_only=True)
    invitee_username = serializers.CharField(source="invitee.username", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "invitee_id", "invitee_username", "status", "invited_at"]
        read_only_fields = fields


class ExportCreatedCalendarSerializer(CalendarSerializer):
    """A calendar I created, in full: as its members see it, with every invitation and when it was made."""

    invitations = ExportCalendarInvitationSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta(CalendarSerializer.Meta):
        fields = [*CalendarSerializer.Meta.fields, "invitations", "created_at"]
        read_only_fields = fields


class ExportDaySerializer(serializers.ModelSerializer):
    """A candidate day of a calendar I take part in."""

    class Meta:
        model = Day
        fields = ["id", "date", "ranking"]
        read_only_fields = fields


class ExportMyTimeSlotSerializer(serializers.ModelSerializer):
    """One of my own timeslots, with its day."""

    date = serializers.DateField(source="day.date", read_only=True)
    start_time = ClockTimeField(read_only=True)
    end_time = ClockTimeField(read_only=True)

    class Meta:
        model = TimeSlot
        fields = ["id", "date", "start_time", "end_time"]
        read_only_fields = fields


class ExportJoinedCalendarSerializer(serializers.ModelSerializer):
    """A calendar I take part in, as a participant sees it, with my own timeslots only."""

    creator_username = serializers.CharField(source="creator.username", read_only=True)
    days = ExportDaySerializer(many=True, read_only=True)
    finalized = serializers.SerializerMethodField(help_text="The fixed meeting, or null.")
    my_timeslots = ExportMyTimeSlotSerializer(many=True, read_only=True, help_text="My availability in it.")

    class Meta:
        model = Calendar
        fields = ["id", "creator_username", "title", "description", "timezone", "days", "finalized", "my_timeslots"]
        read_only_fields = fields

    @extend_schema_field(FinalizedMeetingSerializer(allow_null=True))
    def get_finalized(self, calendar: Calendar) -> dict[str, Any] | None:
        return finalized_body(calendar)


class ExportFeedTokenSerializer(serializers.Serializer):
    """Whether I have a secret feed address (`GET /calendars/feed-token/` shows it); never the secret."""

    exists = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)


def created_calendars(user: User) -> list[dict[str, Any]]:
    rows = list(read_models.calendar_rows(Calendar.objects.created_by(user).order_by("created_at", "id"), "created_at"))
    bodies = read_models.calendar_bodies(rows)
    invitations: dict[int, list] = defaultdict(list)
    for invitation in (
        Invitation.objects.filter(calendar__creator=user).select_related("invitee").order_by("calendar_id", "id")
    ):
        invitations[invitation.calendar_id].append(ExportCalendarInvitationSerializer(invitation).data)
    when = serializers.DateTimeField()
    for body, row in zip(bodies, rows, strict=True):
        body["invitations"] = invitations[body["id"]]
        body["created_at"] = when.to_representation(row[-1])
    return bodies


def joined_calendars(user: User) -> list[dict[str, Any]]:
    calendars = list(
        Calendar.objects.filter(invitations__invitee=user, invitations__status=InvitationStatus.ACCEPTED)
        .select_related("creator")
        .prefetch_related(
            Prefetch("days", queryset=Day.objects.order_by("date", "id")),
        )
        .order_by("created_at", "id")
    )
    mine: dict[int, list[TimeSlot]] = defaultdict(list)
    slots = TimeSlot.objects.filter(owner=user, day__calendar__in=[c.pk for c in calendars]).select_related("day")
    for slot in slots.order_by("day__date", "start_time", "id"):
        mine[slot.day.calendar_id].append(slot)
    for calendar in calendars:
        # What the serializer's `my_timeslots` reads, set here as a Prefetch's to_attr would be; not a model
        # attribute, so the checker does not know it.
        calendar.my_timeslots = mine[calendar.pk]  # type: ignore[attr-defined]
    # djangorestframework-stubs gap: many=True makes a ListSerializer, whose .data is a list, not a ReturnDict.
    return ExportJoinedCalendarSerializer(calendars, many=True).data  # type: ignore[return-value]


def feed_token(user: User) -> dict[str, Any]:
    token = FeedToken.objects.filter(user=user).first()
    return ExportFeedTokenSerializer({"exists": token is not None, "created_at": token and token.created_at}).data


def register_sections() -> None:
    from accounts import export

    export.register(
        "calendars_created", build=created_calendars, schema=lambda: ExportCreatedCalendarSerializer(many=True)
    )
    export.register(
        "calendars_joined", build=joined_calendars, schema=lambda: ExportJoinedCalendarSerializer(many=True)
    )
    export.register("feed_token", build=feed_token, schema=ExportFeedTokenSerializer)

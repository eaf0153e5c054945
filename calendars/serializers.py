"""Calendar, Day and TimeSlot shapes; one `Day` component serves every parent."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from calendars.models import (
    MAX_DAYS_PER_CALENDAR,
    MAX_RANKING,
    MAX_TIMESLOTS_PER_OWNER_PER_DAY,
    Calendar,
    Day,
    TimeSlot,
)
from calendars.services import format_slot

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": TIME_PATTERN,
        "example": "09:30:00",
        "description": "Time of day, `HH:MM` or `HH:MM:SS` (24-hour); answered as `HH:MM:SS`.",
    }
)
class ClockTimeField(serializers.TimeField):
    """A wall-clock time: accepts `HH:MM` and `HH:MM:SS`, renders `HH:MM:SS`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%H:%M:%S")
        kwargs.setdefault("input_formats", ["%H:%M:%S", "%H:%M"])
        super().__init__(**kwargs)


class TimeSlotSerializer(serializers.ModelSerializer):
    """One person's availability on a day; the owner is always the user who created it."""

    owner_username = serializers.CharField(source="owner.username", read_only=True)
    start_time = ClockTimeField()
    end_time = ClockTimeField(help_text="Must be after `start_time` (a slot cannot cross midnight).")

    class Meta:
        model = TimeSlot
        fields = ["id", "owner_username", "start_time", "end_time"]
        read_only_fields = ["id"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["start_time"] >= attrs["end_time"]:
            raise serializers.ValidationError({"end_time": ["End time must be after start time."]})
        return attrs


class DaySerializer(serializers.ModelSerializer):
    """A candidate day with its timeslots (every member's, on output)."""

    id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=(
            "Set by the server. In `PUT /calendars/{id}/` send it to keep an existing day "
            "(with its timeslots); leave it out to add a day. Ignored on create."
        ),
    )
    ranking = serializers.IntegerField(
        min_value=1, max_value=MAX_RANKING, help_text="Preference, 1 = most preferred; unique in the calendar."
    )
    timeslots = TimeSlotSerializer(
        many=True,
        required=False,
        help_text=(
            "On output, every member's slots of this day. On input, the creator's initial slots of a "
            "new day; ignored for days that already exist (use the timeslot endpoints)."
        ),
    )

    class Meta:
        model = Day
        fields = ["id", "date", "ranking", "timeslots"]
        validators: list = []  # uniqueness within the calendar is checked by the parent


def _days_field(**kwargs) -> DaySerializer:
    return DaySerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_DAYS_PER_CALENDAR,
        error_messages={
            "empty": "A calendar needs at least one day.",
            "max_length": f"A calendar has at most {MAX_DAYS_PER_CALENDAR} days.",
        },
        **kwargs,
    )


def _new_slot_errors(slots: list[dict[str, Any]]) -> dict:
    """Errors for one person's new slots of one day (too many, or overlapping), keyed like DRF's list errors."""
    if len(slots) > MAX_TIMESLOTS_PER_OWNER_PER_DAY:
        return {NON_FIELD: [f"At most {MAX_TIMESLOTS_PER_OWNER_PER_DAY} timeslots per person per day."]}
    errors: dict = {}
    for index, slot in enumerate(slots):
        for earlier in slots[:index]:
            if slot["start_time"] < earlier["end_time"] and earlier["start_time"] < slot["end_time"]:
                clash = format_slot(earlier["start_time"], earlier["end_time"])
                errors[index] = {NON_FIELD: [f"Overlaps your timeslot {clash} on this day."]}
                break
    return errors


class CalendarWriteMixin:
    """Day-list checks shared by create and edit: duplicates, duplicate ids, new slots."""

    def slots_are_created(self, day: dict[str, Any]) -> bool:
        return True

    def validate_days(self, days: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Keyed by the index of the offending day, like DRF's own errors for items of a list.
        errors: dict[int, dict] = {}
        seen_dates: set = set()
        seen_rankings: set = set()
        seen_ids: set = set()
        for index, day in enumerate(days):
            problems: dict[str, Any] = {}
            if day["date"] in seen_dates:
                problems["date"] = [f"Duplicate date {day['date'].isoformat()} in this calendar."]
            if day["ranking"] in seen_rankings:
                problems["ranking"] = [f"Duplicate ranking {day['ranking']} in this calendar."]
            if "id" in day:
                if day["id"] in seen_ids:
                    problems["id"] = [f"Day {day['id']} is listed more than once."]
                seen_ids.add(day["id"])
            if self.slots_are_created(day):
                slot_errors = _new_slot_errors(day.get("timeslots", []))
                if slot_errors:
                    problems["timeslots"] = slot_errors
            seen_dates.add(day["date"])
            seen_rankings.add(day["ranking"])
            if problems:
                errors[index] = problems
        if errors:
            raise serializers.ValidationError(errors)
        return days


class CalendarCreateSerializer(CalendarWriteMixin, serializers.ModelSerializer):
    """A new calendar with its days and, optionally, the creator's timeslots on them."""

    days = _days_field()

    class Meta:
        model = Calendar
        fields = ["id", "title", "description", "days"]
        read_only_fields = ["id"]

    def validate_days(self, days: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for day in days:
            day.pop("id", None)  # a new calendar has no existing days to keep
        return super().validate_days(days)


class CalendarEditSerializer(CalendarWriteMixin, serializers.ModelSerializer):
    """Title, description and the full day list of an existing calendar (PUT)."""

    days = _days_field()

    class Meta:
        model = Calendar
        fields = ["id", "title", "description", "days"]
        read_only_fields = ["id"]

    def slots_are_created(self, day: dict[str, Any]) -> bool:
        return "id" not in day


class CalendarSerializer(serializers.ModelSerializer):
    """A calendar as its members see it: days with everyone's timeslots, and the participants."""

    creator_username = serializers.CharField(source="creator.username", read_only=True)
    days = DaySerializer(many=True, read_only=True)
    participants = serializers.SerializerMethodField(
        help_text="User ids of the invitees who accepted (the creator is not listed)."
    )

    class Meta:
        model = Calendar
        fields = ["id", "creator_username", "title", "description", "days", "participants"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_participants(self, calendar: Calendar) -> list[int]:
        # Filled by calendars.selectors.with_days_and_participants; never queried here.
        return [invitation.invitee_id for invitation in calendar.accepted_invitations]

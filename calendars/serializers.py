"""Calendar, Day and TimeSlot shapes.

A day comes in two shapes: `Day` (answers, and new days on create, where its `id` is read-only and always
answered) and `DayEdit` (the day list of `PUT /calendars/{id}/`, where a client sends `id` to keep a day).
One component cannot say "optional when sent, always answered", so the edit shape has its own.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone as django_timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.settings import api_settings

from calendars.ics import FORBIDDEN_IN_TEXT
from calendars.models import (
    DEFAULT_TIME_ZONE,
    MAX_DAYS_PER_CALENDAR,
    MAX_RANKING,
    MAX_TIMESLOTS_PER_OWNER_PER_DAY,
    Calendar,
    Day,
    FeedToken,
    InvitationStatus,
    Preference,
    TimeSlot,
    check_time_order,
    date_window,
    format_slot,
    outside_date_window,
)
from calendars.scheduling import MAX_DURATION, MAX_LIMIT, STEPS, ReasonCode
from oneonone import timezones

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
TOO_MANY_SLOTS = f"At most {MAX_TIMESLOTS_PER_OWNER_PER_DAY} timeslots per person per day."
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
DATE_WINDOW_HELP = "From a year before today to ten years after (today in UTC); 400 outside."


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


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 64,
        "example": "Europe/Berlin",
        "description": (
            "IANA time zone name (`Europe/Berlin`, `America/New_York`, `UTC`; any letter case, answered "
            "in the canonical one). The days' dates and every timeslot are wall-clock times in this zone."
        ),
    }
)
class TimeZoneField(timezones.TimeZoneField):
    """A calendar's IANA zone (oneonone.timezones): the zone of its days and timeslots."""


class OffsetDateTimeField(serializers.DateTimeField):
    """An aware datetime rendered with its own UTC offset (DRF would convert it to the server's zone)."""

    def to_representation(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else value


PREFERENCE_VALUES = ", ".join(f'"{value}"' for value in Preference.values)


class PreferenceField(serializers.ChoiceField):
    """`yes` or `if_need_be`; an unknown value is a 400 that names the allowed ones."""

    default_error_messages = {
        "invalid_choice": f'"{{input}}" is not a valid preference; use one of {PREFERENCE_VALUES}.'
    }

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            '`yes`: available; `if_need_be`: available, but would rather not. Left out: `"yes"` on a new slot.',
        )
        super().__init__(choices=Preference.choices, **kwargs)


class TimeSlotSerializer(serializers.ModelSerializer):
    """One person's availability on a day; the owner is always the user who created it."""

    owner_username = serializers.CharField(source="owner.username", read_only=True)
    start_time = ClockTimeField()
    end_time = ClockTimeField(help_text="Must be after `start_time` (a slot cannot cross midnight).")
    preference = PreferenceField(
        required=False,
        help_text=(
            '`yes`: available; `if_need_be`: available, but would rather not. Left out: `"yes"` on a new slot, '
            "unchanged when a slot is moved."
        ),
    )

    class Meta:
        model = TimeSlot
        fields = ["id", "owner_username", "start_time", "end_time", "preference"]
        read_only_fields = ["id"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_time_order(attrs["start_time"], attrs["end_time"])
        return attrs


class TimeSlotBulkItemSerializer(serializers.Serializer):
    """One of my slots in a whole day saved at once (`PUT .../timeslot/`)."""

    start_time = ClockTimeField()
    end_time = ClockTimeField(help_text="Must be after `start_time` (a slot cannot cross midnight).")
    preference = PreferenceField(
        required=False,
        default=Preference.YES,
        help_text="`yes` (the default): available; `if_need_be`: available, but would rather not.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_time_order(attrs["start_time"], attrs["end_time"])
        return attrs


# `many=False`: the schema shows the array itself, and its examples as given (not wrapped in another list).
@extend_schema_serializer(many=False)
class TimeSlotBatchSerializer(serializers.ListSerializer):
    """Several of my slots of one day in one body: each valid, none overlapping another, at most 48.

    Errors are keyed by the index of the item (from 0), as for every list in this API.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", MAX_TIMESLOTS_PER_OWNER_PER_DAY)
        super().__init__(*args, **kwargs)
        self.error_messages["max_length"] = TOO_MANY_SLOTS
        self.error_messages["empty"] = "Send at least one timeslot."

    def validate(self, attrs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        errors = _new_slot_errors(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class DaySerializer(serializers.ModelSerializer):
    """A candidate day with its timeslots (every member's, on output)."""

    id = serializers.IntegerField(
        read_only=True,
        help_text="Set by the server: the `day_id` of the day's timeslot endpoints. Not sent on create.",
    )
    date = serializers.DateField(
        help_text=f"Unique in the calendar. {DATE_WINDOW_HELP} A day kept by an edit may keep its date."
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


class DayEditSerializer(DaySerializer):
    """A day of the list that replaces a calendar's days: with `id` an existing day is kept, without it one is added."""

    id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Send it to keep an existing day (with its timeslots); leave it out to add a day. Always answered.",
    )


def _days_field(day: type[DaySerializer] = DaySerializer, **kwargs) -> DaySerializer:
    # djangorestframework-stubs gap: with many=True the ListSerializer takes max_length (and allow_empty).
    return day(  # type: ignore[call-arg]
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
        return {NON_FIELD: [TOO_MANY_SLOTS]}
    errors: dict = {}
    for index, slot in enumerate(slots):
        for earlier in slots[:index]:
            if slot["start_time"] < earlier["end_time"] and earlier["start_time"] < slot["end_time"]:
                clash = format_slot(earlier["start_time"], earlier["end_time"])
                errors[index] = {NON_FIELD: [f"Overlaps your timeslot {clash} on this day."]}
                break
    return errors


def _no_control_characters(value: str) -> str:
    """400 for the control characters RFC 5545 forbids in iCalendar text (tab and line breaks are fine)."""
    found = FORBIDDEN_IN_TEXT.search(value)
    if found:
        raise serializers.ValidationError(
            f"Control character U+{ord(found.group()):04X} is not allowed; only tabs and line breaks are."
        )
    return value


class CalendarWriteMixin:
    """Checks shared by create and edit: text fit for iCalendar and email, and the day list (duplicates,
    duplicate ids, dates in the window, new slots)."""

    def validate_title(self, value: str) -> str:
        return _no_control_characters(value)

    def validate_description(self, value: str) -> str:
        return _no_control_characters(value)

    def slots_are_created(self, day: dict[str, Any]) -> bool:
        return True

    def date_is_new(self, day: dict[str, Any]) -> bool:
        """Whether the day's date enters now (checked against the window of dates) or is kept as stored."""
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
            elif self.date_is_new(day) and (outside := outside_date_window(day["date"])):
                problems["date"] = [outside]
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
            # djangorestframework-stubs want string keys; DRF takes these day indexes as they are (JSON writes "0").
            raise serializers.ValidationError(errors)  # type: ignore[arg-type]
        return days


class FinalizedMeetingSerializer(serializers.Serializer):
    """The meeting the creator fixed: wall-clock date and times, and the absolute start and end."""

    date = serializers.DateField()
    start_time = ClockTimeField()
    end_time = ClockTimeField()
    starts_at = OffsetDateTimeField(help_text="ISO 8601 with the UTC offset in force at that moment.")
    ends_at = OffsetDateTimeField(help_text="ISO 8601 with the UTC offset in force at that moment.")


def finalized_body(calendar: Calendar) -> dict[str, Any] | None:
    window = calendar.finalized_window()
    if window is None:
        return None
    meeting = {
        "date": calendar.finalized_date,
        "start_time": calendar.finalized_start_time,
        "end_time": calendar.finalized_end_time,
        "starts_at": window[0],
        "ends_at": window[1],
    }
    return FinalizedMeetingSerializer(meeting).data


FINALIZED_HELP = "The finalized meeting, or null while the time is open (POST /calendars/{id}/finalize/ fixes it)."


class DeadlineField(serializers.DateTimeField):
    """`respond_by`: an instant with its UTC offset (a time without one is ambiguous), or null for none."""

    default_error_messages = {"naive": "Give the deadline with its UTC offset, e.g. 2030-01-01T12:00:00+01:00."}

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault(
            "help_text",
            "When answers close (ISO 8601 with an offset), or null for no deadline. After it, invitees cannot "
            "answer and participants cannot change their timeslots; the creator can still do everything, "
            "move the deadline or clear it. Must lie in the future when set or moved, and within ten years.",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(value.strip()) if isinstance(value, str) else None
        except ValueError:
            parsed = None  # well formed but impossible (February 30th): DRF's own message
        if parsed is not None and parsed.tzinfo is None:
            self.fail("naive")
        return super().to_internal_value(value)


def _future_deadline(value, current=None):
    """The deadline, if it is null, unchanged, or in the future and within the window of dates; else 400."""
    if value is None or value == current:
        return value
    if value <= django_timezone.now():
        raise serializers.ValidationError("The deadline must lie in the future.")
    last = date_window()[1]
    if value.astimezone(datetime.UTC).date() > last:
        raise serializers.ValidationError(
            f"The deadline must lie within ten years: on {last.isoformat()} (UTC) at the latest."
        )
    return value


class CalendarResponsesSerializer(serializers.Serializer):
    """How far the answers are: invitations by state, and who marked availability."""

    invited = serializers.IntegerField(
        help_text="Everyone ever invited and not revoked: accepted + pending + rejected."
    )
    accepted = serializers.IntegerField(help_text="Participants.")
    pending = serializers.IntegerField(help_text="Invitees who have not answered.")
    rejected = serializers.IntegerField(help_text="Invitees who declined.")
    with_availability = serializers.IntegerField(
        help_text="The creator and the participants who have at least one timeslot on the calendar."
    )


class CalendarCreateSerializer(CalendarWriteMixin, serializers.ModelSerializer):
    """A new calendar with its days and, optionally, the creator's timeslots on them."""

    days = _days_field()
    timezone = TimeZoneField(required=False, default=DEFAULT_TIME_ZONE)
    respond_by = DeadlineField(required=False, default=None)

    class Meta:
        model = Calendar
        fields = ["id", "title", "description", "timezone", "respond_by", "days"]
        read_only_fields = ["id"]

    def validate_respond_by(self, value):
        return _future_deadline(value)


class CalendarEditSerializer(CalendarWriteMixin, serializers.ModelSerializer):
    """Title, description, time zone and the full day list of an existing calendar (PUT)."""

    days = _days_field(DayEditSerializer)
    timezone = TimeZoneField(required=False, help_text="Left out: unchanged. 409 while the meeting is finalized.")
    respond_by = DeadlineField(required=False)
    finalized = serializers.SerializerMethodField(help_text=FINALIZED_HELP)

    class Meta:
        model = Calendar
        fields = ["id", "title", "description", "timezone", "respond_by", "days", "finalized"]
        read_only_fields = ["id"]

    def validate_respond_by(self, value):
        # The creator may move or clear it at any time; a deadline sent unchanged may already have passed.
        return _future_deadline(value, current=self.instance.respond_by if self.instance else None)

    @extend_schema_field(FinalizedMeetingSerializer(allow_null=True))
    def get_finalized(self, calendar: Calendar) -> dict[str, Any] | None:
        return finalized_body(calendar)

    def slots_are_created(self, day: dict[str, Any]) -> bool:
        return "id" not in day

    def date_is_new(self, day: dict[str, Any]) -> bool:
        # A day kept with the date it has may have left the window since (a calendar edited a year on).
        if "id" not in day or self.instance is None:
            return True
        if not hasattr(self, "_stored_dates"):
            self._stored_dates = dict(Day.objects.filter(calendar=self.instance).values_list("id", "date"))
        return self._stored_dates.get(day["id"]) != day["date"]


class CalendarSerializer(serializers.ModelSerializer):
    """A calendar as its members see it: days with everyone's timeslots, and the participants."""

    creator_username = serializers.CharField(source="creator.username", read_only=True)
    days = DaySerializer(many=True, read_only=True)
    participants = serializers.SerializerMethodField(
        help_text="User ids of the invitees who accepted (the creator is not listed)."
    )
    timezone = serializers.CharField(read_only=True, help_text="IANA time zone of the days and timeslots.")
    respond_by = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When answers close, or null; see `CalendarCreate.respond_by`."
    )
    responses = serializers.SerializerMethodField(help_text="How far the answers are.")
    finalized = serializers.SerializerMethodField(help_text=FINALIZED_HELP)

    class Meta:
        model = Calendar
        fields = [
            "id",
            "creator_username",
            "title",
            "description",
            "timezone",
            "respond_by",
            "responses",
            "days",
            "participants",
            "finalized",
        ]
        read_only_fields = fields

    @extend_schema_field(CalendarResponsesSerializer)
    def get_responses(self, calendar: Calendar) -> dict[str, int]:
        # As calendars.read_models counts them; this runs only where a test holds the two equal.
        invitations = list(calendar.invitations.all())
        statuses = [i.status for i in invitations]
        members = {calendar.creator_id} | {i.invitee_id for i in invitations if i.status == InvitationStatus.ACCEPTED}
        owners = {slot.owner_id for day in calendar.days.all() for slot in day.timeslots.all()}
        return {
            "invited": len(statuses),
            "accepted": statuses.count(InvitationStatus.ACCEPTED),
            "pending": statuses.count(InvitationStatus.PENDING),
            "rejected": statuses.count(InvitationStatus.REJECTED),
            "with_availability": len(members & owners),
        }

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_participants(self, calendar: Calendar) -> list[int]:
        # The API's bodies come from calendars.read_models; this runs only where a test holds the two equal.
        return sorted(i.invitee_id for i in calendar.invitations.all() if i.status == InvitationStatus.ACCEPTED)

    @extend_schema_field(FinalizedMeetingSerializer(allow_null=True))
    def get_finalized(self, calendar: Calendar) -> dict[str, Any] | None:
        return finalized_body(calendar)


class FinalizeSerializer(serializers.Serializer):
    """The meeting to fix: one of the calendar's days, and wall-clock times in the calendar's zone."""

    date = serializers.DateField(help_text=f"One of the calendar's days. {DATE_WINDOW_HELP}")
    start_time = ClockTimeField()
    end_time = ClockTimeField(help_text="Must be after `start_time` (a meeting cannot cross midnight).")

    def validate_date(self, value):
        outside = outside_date_window(value)
        if outside:
            raise serializers.ValidationError(outside)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_time_order(attrs["start_time"], attrs["end_time"])
        return attrs


# Suggestions ------------------------------------------------------------------------------------------------


class LocalZoneField(timezones.TimeZoneField):
    """`?tz=`: a reader's IANA zone, to see each window's start and end on their own clock too."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "An IANA zone (`America/New_York`): each window also gets `local_start` and `local_end` in it, "
            "with their date (it may be another date there).",
        )
        super().__init__(**kwargs)


class AvailabilityQuerySerializer(serializers.Serializer):
    """Query parameters of `GET /calendars/{id}/availability/`."""

    tz = LocalZoneField()


class SuggestionQuerySerializer(serializers.Serializer):
    """Query parameters of `GET /calendars/{id}/suggestions/`."""

    duration = serializers.IntegerField(
        min_value=1, max_value=MAX_DURATION, default=60, help_text="Meeting length in minutes (1 to 1440)."
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=10, help_text=f"How many windows at most (1 to {MAX_LIMIT})."
    )
    step = serializers.ChoiceField(
        choices=STEPS, default=15, help_text="Minutes between candidate starts, counted from midnight; divides 60."
    )
    tz = LocalZoneField()


class SuggestionScoreSerializer(serializers.Serializer):
    """The parts that decided a suggestion's place: more people, more of them "yes", the day's ranking, the start."""

    available_count = serializers.IntegerField(
        help_text="People available for the whole window, creator included (`yes_count + if_need_be_count`)."
    )
    yes_count = serializers.IntegerField(help_text='Of them, those whose "yes" slots cover the whole window.')
    if_need_be_count = serializers.IntegerField(
        help_text='Of them, those available only "if need be" somewhere in the window.'
    )
    participant_total = serializers.IntegerField(help_text="Creator + participants + pending invitees.")
    day_ranking = serializers.IntegerField(help_text="The day's ranking (1 = most preferred).")
    start = ClockTimeField(help_text="Wall-clock start (earlier first among equals).")


class SuggestionSerializer(serializers.Serializer):
    """A candidate meeting window and who can make it."""

    date = serializers.DateField()
    start_time = ClockTimeField()
    end_time = ClockTimeField()
    starts_at = OffsetDateTimeField(help_text="Absolute start, ISO 8601 with the calendar zone's UTC offset.")
    ends_at = OffsetDateTimeField(help_text="Absolute end, ISO 8601 with the calendar zone's UTC offset.")
    available = serializers.ListField(
        child=serializers.CharField(),
        help_text="Usernames available for the whole window, with any preference (the creator always is).",
    )
    if_need_be = serializers.ListField(
        child=serializers.CharField(),
        help_text='Those of `available` who are available only "if need be" somewhere in the window.',
    )
    missing = serializers.ListField(child=serializers.CharField(), help_text="Participants not available.")
    pending = serializers.ListField(
        child=serializers.CharField(), help_text="Invitees who have not answered yet (counted as missing)."
    )
    score = SuggestionScoreSerializer()
    local_start = OffsetDateTimeField(
        allow_null=True,
        help_text="With `?tz=`: the start as a wall time in that zone (ISO 8601, its offset); else null.",
    )
    local_end = OffsetDateTimeField(
        allow_null=True, help_text="With `?tz=`: the end as a wall time in that zone (ISO 8601, its offset); else null."
    )


# A module constant so SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] can name its enum (SuggestionReasonCodeEnum).
SUGGESTION_REASON_CODES = [(code.value, code.description) for code in ReasonCode]


class SuggestionReasonSerializer(serializers.Serializer):
    """Why there is no suggestion."""

    code = serializers.ChoiceField(choices=SUGGESTION_REASON_CODES)
    message = serializers.CharField()


class SuggestionListSerializer(serializers.Serializer):
    """The best meeting windows, best first; `reason` says why the list is empty (null otherwise)."""

    duration = serializers.IntegerField()
    step = serializers.IntegerField()
    limit = serializers.IntegerField()
    timezone = serializers.CharField(help_text="The calendar's IANA time zone; all wall-clock times are in it.")
    local_timezone = serializers.CharField(
        allow_null=True, help_text="The zone of `?tz=` (`local_start`, `local_end`), or null."
    )
    suggestions = SuggestionSerializer(many=True)
    reason = SuggestionReasonSerializer(allow_null=True)


# The availability grid ----------------------------------------------------------------------------------------


class AvailabilityIntervalSerializer(serializers.Serializer):
    """A maximal stretch of a day where the same people are available with the same preferences."""

    start_time = ClockTimeField()
    end_time = ClockTimeField()
    yes = serializers.ListField(child=serializers.CharField(), help_text="Usernames available, sorted.")
    if_need_be = serializers.ListField(
        child=serializers.CharField(), help_text='Usernames available only "if need be", sorted.'
    )
    count = serializers.IntegerField(help_text="How many are available: `yes` + `if_need_be`.")
    local_start = OffsetDateTimeField(
        allow_null=True,
        help_text="With `?tz=`: the start as a wall time in that zone (ISO 8601, its offset); else null.",
    )
    local_end = OffsetDateTimeField(
        allow_null=True, help_text="With `?tz=`: the end as a wall time in that zone (ISO 8601, its offset); else null."
    )


class AvailabilityDaySerializer(serializers.Serializer):
    """One candidate day of the grid; `intervals` is empty when nobody marked a slot on it."""

    day = serializers.IntegerField(help_text="The day's id (`days[].id` of the calendar).")
    date = serializers.DateField()
    ranking = serializers.IntegerField(help_text="The day's ranking (1 = most preferred).")
    intervals = AvailabilityIntervalSerializer(
        many=True, help_text="In order; stretches where nobody is available are left out."
    )


class AvailabilitySerializer(serializers.Serializer):
    """Who is available when on each day: the heat map of a calendar (wall-clock times in its zone)."""

    calendar = serializers.IntegerField(help_text="The calendar's id.")
    timezone = serializers.CharField(help_text="The calendar's IANA time zone; all times are wall-clock in it.")
    local_timezone = serializers.CharField(
        allow_null=True, help_text="The zone of `?tz=` (`local_start`, `local_end`), or null."
    )
    members = serializers.ListField(
        child=serializers.CharField(), help_text="The creator and the participants, sorted (pending invitees are not)."
    )
    days = AvailabilityDaySerializer(many=True, help_text="The calendar's days by date.")


class FeedTokenSerializer(serializers.ModelSerializer):
    """My secret iCalendar feed address; anyone holding it reads my finalized meetings."""

    url = serializers.SerializerMethodField(help_text="Subscribe to this URL in a calendar app (no login needed).")

    class Meta:
        model = FeedToken
        fields = ["url", "token", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, feed_token: FeedToken) -> str:
        path = reverse("calendar-feed", kwargs={"token": feed_token.token})
        return self.context["request"].build_absolute_uri(path)

"""The OpenAPI documentation of the calendar endpoints, written once and applied to the views by name.

Each name below decorates one view in calendars/views.py (`@openapi.calendar_viewset`), so the views
read as behaviour and the descriptions, examples and error answers a client author needs live here.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from calendars.models import (
    FEED_MAX_MEETINGS,
    MAX_CALENDARS_PER_USER,
    MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR,
    MAX_TIMESLOTS_PER_OWNER_PER_DAY,
)
from calendars.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    CalendarCreateSerializer,
    CalendarEditSerializer,
    CalendarSerializer,
    FeedTokenSerializer,
    FinalizeSerializer,
    SuggestionListSerializer,
    SuggestionQuerySerializer,
    TimeSlotBatchSerializer,
    TimeSlotBulkItemSerializer,
    TimeSlotSerializer,
)
from oneonone.schema import ERROR_REF, VALIDATION_REF

CALENDAR_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The calendar's id.")
IN_CALENDAR = OpenApiParameter("calendar_id", int, OpenApiParameter.PATH, description="The calendar's id.")
DAY_ID = OpenApiParameter(
    "day_id", int, OpenApiParameter.PATH, description="The day's id (`days[].id` of the calendar)."
)
SLOT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The timeslot's id.")
FEED_TOKEN = OpenApiParameter(
    "token",
    str,
    OpenApiParameter.PATH,
    description="The secret token of the feed address (`GET /calendars/feed-token/`).",
)

NOT_CREATOR = OpenApiResponse(ERROR_REF, description="You can see this calendar but are not its creator.")
NOT_MEMBER = OpenApiResponse(
    ERROR_REF, description="You can see this calendar (pending invitation) but are not a participant yet."
)
NOT_OWNER = OpenApiResponse(ERROR_REF, description="This timeslot belongs to someone else.")
FINALIZED = OpenApiResponse(
    ERROR_REF,
    description="The calendar's meeting is finalized: nothing here changes until the creator undoes it.",
    examples=[
        OpenApiExample(
            "Finalized",
            value={
                "detail": "The meeting is finalized (2030-01-02 10:00:00-11:00:00 UTC): timeslots cannot change "
                "until the creator undoes it with DELETE /calendars/7/finalize/."
            },
        )
    ],
)
MEMBERS_ONLY = OpenApiResponse(
    ERROR_REF, description="You can see this calendar (pending invitation) but are not its creator or a participant."
)

CREATE_EXAMPLE = OpenApiExample(
    "New calendar",
    value={
        "title": "Project kickoff",
        "description": "One hour, any of these days.",
        "timezone": "Europe/Berlin",
        "respond_by": "2029-12-20T18:00:00+01:00",
        "days": [
            {"date": "2030-01-02", "ranking": 1, "timeslots": [{"start_time": "09:00", "end_time": "11:00"}]},
            {"date": "2030-01-03", "ranking": 2},
        ],
    },
    request_only=True,
)
EDIT_EXAMPLE = OpenApiExample(
    "Swap rankings, drop a day, add a day",
    value={
        "title": "Project kickoff",
        "description": "One hour, any of these days.",
        "days": [
            {"id": 11, "date": "2030-01-02", "ranking": 2},
            {"id": 12, "date": "2030-01-03", "ranking": 1},
            {"date": "2030-01-06", "ranking": 3},
        ],
    },
    request_only=True,
)
SLOT_EXAMPLE = OpenApiExample("Morning", value={"start_time": "09:00", "end_time": "10:30"}, request_only=True)
SLOTS_EXAMPLE = OpenApiExample(
    "Several at once",
    value=[
        {"start_time": "09:00", "end_time": "10:30"},
        {"start_time": "10:30", "end_time": "12:00", "preference": "if_need_be"},
    ],
    request_only=True,
)
DAY_EXAMPLE = OpenApiExample(
    "My whole day",
    value=[
        {"start_time": "09:00", "end_time": "12:00"},
        {"start_time": "14:00", "end_time": "15:30", "preference": "if_need_be"},
    ],
    request_only=True,
)
MY_DAY_EXAMPLE = OpenApiExample(
    "My slots after the save",
    value=[
        {"id": 41, "owner_username": "alice", "start_time": "09:00:00", "end_time": "12:00:00", "preference": "yes"},
        {
            "id": 57,
            "owner_username": "alice",
            "start_time": "14:00:00",
            "end_time": "15:30:00",
            "preference": "if_need_be",
        },
    ],
    response_only=True,
)
BATCH_INVALID = OpenApiResponse(
    VALIDATION_REF,
    description=(
        "Invalid input, nothing written. In an array, errors are keyed by the index of the item (from 0); "
        "a rule about the whole array (too many, not an array) is under `non_field_errors`."
    ),
    examples=[
        OpenApiExample(
            "The third item ends before it starts",
            value={"2": {"end_time": ["End time must be after start time."]}},
        ),
        OpenApiExample(
            "The second item overlaps the first",
            value={"1": {"non_field_errors": ["Overlaps your timeslot 09:00:00-10:30:00 on this day."]}},
        ),
    ],
)
TIMESLOT_REF = {"$ref": "#/components/schemas/TimeSlot"}
# The seed contract names `TimeSlot` as this operation's body, so one slot comes first; an array of them is the
# other form, in JSON only (a form body has no arrays).
ONE_OR_MORE_SLOTS = {
    "oneOf": [
        TIMESLOT_REF,
        {
            "type": "array",
            "items": TIMESLOT_REF,
            "minItems": 1,
            "maxItems": MAX_TIMESLOTS_PER_OWNER_PER_DAY,
            "description": "Several of my slots at once, all or nothing; answered as an array in the same order.",
        },
    ]
}


calendar_viewset = extend_schema_view(
    list=extend_schema(
        operation_id="calendars_list",
        summary="List my calendars",
        description=(
            "The calendars I created or take part in (accepted an invitation to), newest first, "
            "each with its days, every member's timeslots and the participants. Calendars I am only "
            "invited to (pending) are not listed but can be fetched by id."
        ),
        tags=["calendars"],
    ),
    create=extend_schema(
        operation_id="calendars_create",
        summary="Create a calendar",
        description=(
            "Creates the calendar with its days (1 to 60, dates and rankings unique) and, optionally, "
            "my own timeslots on each day, in one transaction. I become its creator. `timezone` (IANA "
            "name, default `UTC`) says in which zone the days' times are wall-clock times. `respond_by` "
            "(optional, in the future, with its offset) is when answers close: after it only the creator "
            "changes anything, and the creator is mailed the best times."
        ),
        request=CalendarCreateSerializer,
        responses={
            201: CalendarCreateSerializer,
            400: OpenApiResponse(
                VALIDATION_REF,
                description=(
                    "Invalid input: each offending field is named with its messages. Also when I already "
                    f"created {MAX_CALENDARS_PER_USER} calendars (`non_field_errors`), or for more than "
                    f"{MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR} of my timeslots in all (`days`)."
                ),
            ),
        },
        examples=[CREATE_EXAMPLE],
        tags=["calendars"],
    ),
    retrieve=extend_schema(
        operation_id="calendars_retrieve",
        parameters=[CALENDAR_ID],
        summary="Get a calendar",
        description=(
            "Visible to the creator, the participants and users with a pending invitation; 404 for everyone else."
        ),
        tags=["calendars"],
    ),
    update=extend_schema(
        operation_id="calendars_update",
        parameters=[CALENDAR_ID],
        summary="Edit a calendar and its days",
        description=(
            "Creator only. Replaces title, description, time zone (left out: unchanged) and the day list: "
            "days sent with their `id` are kept with their timeslots (date and ranking may change, swaps "
            "included), days left out are deleted with their timeslots, days without `id` are added "
            f"(400 if my timeslots on the calendar would then pass {MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR}). "
            "While the meeting is finalized, only title and description may change: a different day list "
            "or time zone answers 409."
        ),
        request=CalendarEditSerializer,
        responses={
            200: CalendarEditSerializer,
            403: NOT_CREATOR,
            409: OpenApiResponse(ERROR_REF, description="The meeting is finalized: days and time zone are fixed."),
        },
        examples=[EDIT_EXAMPLE],
        tags=["calendars"],
    ),
    destroy=extend_schema(
        operation_id="calendars_destroy",
        parameters=[CALENDAR_ID],
        summary="Delete a calendar",
        description=(
            "Creator only. Deletes the calendar with its days, timeslots and invitations. A finalized "
            "meeting is cancelled by email (METHOD:CANCEL) to everyone who was told of it."
        ),
        responses={204: OpenApiResponse(description="Deleted."), 403: NOT_CREATOR},
        tags=["calendars"],
    ),
)


timeslot_viewset = extend_schema_view(
    list=extend_schema(
        operation_id="calendars_day_timeslot_list",
        summary="List the timeslots of a day",
        description="Every member's slots of the day, earliest first. 404 if the day is not in that calendar.",
        tags=["timeslots"],
    ),
    create=extend_schema(
        operation_id="calendars_day_timeslot_create",
        summary="Add my timeslot (or several) to a day",
        description=(
            "The creator and participants add their own availability; it may not overlap another of "
            "their slots on that day (touching is fine), at most 48 per person per day and "
            f"{MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR} per person on the calendar. `preference` is "
            "`yes` (left out) or `if_need_be`. 409 while the meeting is finalized.\n\n"
            "A JSON array of slots adds them all or none: every item is checked first, against the others "
            "and my slots on the day, and a bad one refuses the whole body with a 400 keyed by its index "
            '(`{"2": {"end_time": ["..."]}}`). Answers 201 with one slot, or the array of slots created in '
            "the order sent."
        ),
        request={
            "application/json": ONE_OR_MORE_SLOTS,
            "application/x-www-form-urlencoded": TimeSlotSerializer,
            "multipart/form-data": TimeSlotSerializer,
        },
        responses={
            201: OpenApiResponse(ONE_OR_MORE_SLOTS, description="The slot added, or the slots added (an array)."),
            400: BATCH_INVALID,
            403: NOT_MEMBER,
            409: FINALIZED,
        },
        examples=[SLOT_EXAMPLE, SLOTS_EXAMPLE],
        tags=["timeslots"],
    ),
    retrieve=extend_schema(
        operation_id="calendars_day_timeslot_retrieve",
        parameters=[SLOT_ID],
        summary="Get a timeslot",
        tags=["timeslots"],
    ),
    update=extend_schema(
        operation_id="calendars_day_timeslot_update",
        parameters=[SLOT_ID],
        summary="Move my timeslot",
        description=(
            "Owner only. The new times may not overlap another of the owner's slots on that day. "
            "409 while the meeting is finalized."
        ),
        responses={200: TimeSlotSerializer, 403: NOT_OWNER, 409: FINALIZED},
        examples=[SLOT_EXAMPLE],
        tags=["timeslots"],
    ),
    destroy=extend_schema(
        operation_id="calendars_day_timeslot_destroy",
        parameters=[SLOT_ID],
        summary="Delete my timeslot",
        description="Owner only. 409 while the meeting is finalized.",
        responses={204: OpenApiResponse(description="Deleted."), 403: NOT_OWNER, 409: FINALIZED},
        tags=["timeslots"],
    ),
)
timeslot_parameters = extend_schema(parameters=[IN_CALENDAR, DAY_ID])
# Not a standard viewset action, so applied to the view's method by name (`@openapi.timeslot_replace`).
timeslot_replace = extend_schema(
    operation_id="calendars_day_timeslot_replace",
    summary="Save my whole day at once",
    description=(
        "Replaces all of **my** timeslots on this day with the array sent, in one transaction, and "
        "answers my slots on the day after the change, earliest first. Same rules as adding a slot "
        "(creator and participants only, start before end, no overlap among them, touching is fine, "
        f"at most 48, and {MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR} of mine on the calendar), all checked before "
        "anything is written: a bad item refuses the whole body with "
        'a 400 keyed by its index (`{"2": {"end_time": ["..."]}}`). An empty array clears my day. A slot '
        "whose times are sent again keeps its id (and takes the preference sent). Other members' slots "
        "are never touched. Two saves of the same day at once end as one of the two bodies, never a mix. "
        "JSON only (415 otherwise). 409 while the meeting is finalized."
    ),
    request={"application/json": TimeSlotBatchSerializer(child=TimeSlotBulkItemSerializer())},
    responses={
        # An array written out: on this (list) path drf-spectacular would otherwise paginate a list serializer.
        200: OpenApiResponse(
            {"type": "array", "items": TIMESLOT_REF}, description="My slots on the day, earliest first."
        ),
        400: BATCH_INVALID,
        403: NOT_MEMBER,
        409: FINALIZED,
    },
    examples=[DAY_EXAMPLE, MY_DAY_EXAMPLE],
    tags=["timeslots"],
)


SUGGESTIONS_EXAMPLE = OpenApiExample(
    "Two windows",
    value={
        "duration": 60,
        "step": 15,
        "limit": 10,
        "timezone": "Europe/Berlin",
        "suggestions": [
            {
                "date": "2030-05-06",
                "start_time": "10:45:00",
                "end_time": "11:45:00",
                "starts_at": "2030-05-06T10:45:00+02:00",
                "ends_at": "2030-05-06T11:45:00+02:00",
                "available": ["ann", "bob", "carol"],
                "if_need_be": ["bob"],
                "missing": [],
                "pending": ["zed"],
                "score": {
                    "available_count": 3,
                    "yes_count": 2,
                    "if_need_be_count": 1,
                    "participant_total": 4,
                    "day_ranking": 1,
                    "start": "10:45:00",
                },
            },
            {
                "date": "2030-05-06",
                "start_time": "09:00:00",
                "end_time": "10:00:00",
                "starts_at": "2030-05-06T09:00:00+02:00",
                "ends_at": "2030-05-06T10:00:00+02:00",
                "available": ["bob", "carol"],
                "if_need_be": [],
                "missing": ["ann"],
                "pending": ["zed"],
                "score": {
                    "available_count": 2,
                    "yes_count": 2,
                    "if_need_be_count": 0,
                    "participant_total": 4,
                    "day_ranking": 1,
                    "start": "09:00:00",
                },
            },
        ],
        "reason": None,
    },
    response_only=True,
)
NO_SUGGESTION_EXAMPLE = OpenApiExample(
    "Nothing fits",
    value={
        "duration": 90,
        "step": 15,
        "limit": 10,
        "timezone": "UTC",
        "suggestions": [],
        "reason": {
            "code": "no_window_long_enough",
            "message": "No 90-minute window starting on the 15-minute grid fits in the creator's availability.",
        },
    },
    response_only=True,
)


suggestions = extend_schema_view(
    get=extend_schema(
        operation_id="calendars_suggestions",
        summary="Best meeting times",
        description=(
            "Ranks windows of `duration` minutes (starting every `step` minutes from midnight) on the calendar's "
            "days from everyone's timeslots. The creator must be available for the whole window; a person is "
            "available when their slots of any preference cover it, and counts as `if_need_be` when part of it is "
            'covered only by "if need be" slots. Windows are ordered by the number of people available, then how '
            'many of them are "yes", then the day\'s ranking (1 first), then the earliest start, and the top '
            "`limit` that do not overlap each other are returned. Pending invitees count as "
            "missing and are named in `pending`; rejected invitees are left out. When nothing fits the list is "
            "empty and `reason` says why (200, not an error). Members only: the creator and participants; a "
            "pending invitee gets 403. See docs/scheduling.md for the rule with a worked example."
        ),
        parameters=[CALENDAR_ID, SuggestionQuerySerializer],
        responses={200: SuggestionListSerializer, 403: MEMBERS_ONLY},
        examples=[SUGGESTIONS_EXAMPLE, NO_SUGGESTION_EXAMPLE],
        tags=["scheduling"],
    )
)


AVAILABILITY_EXAMPLE = OpenApiExample(
    "Two days",
    value={
        "calendar": 7,
        "timezone": "Europe/Berlin",
        "members": ["alice", "bob", "carol"],
        "days": [
            {
                "day": 11,
                "date": "2030-01-02",
                "ranking": 1,
                "intervals": [
                    {
                        "start_time": "09:00:00",
                        "end_time": "10:00:00",
                        "yes": ["alice"],
                        "if_need_be": ["bob"],
                        "count": 2,
                    },
                    {
                        "start_time": "10:00:00",
                        "end_time": "11:30:00",
                        "yes": ["alice", "carol"],
                        "if_need_be": ["bob"],
                        "count": 3,
                    },
                    {"start_time": "11:30:00", "end_time": "12:00:00", "yes": ["carol"], "if_need_be": [], "count": 1},
                ],
            },
            {"day": 12, "date": "2030-01-03", "ranking": 2, "intervals": []},
        ],
    },
    response_only=True,
)


availability = extend_schema_view(
    get=extend_schema(
        operation_id="calendars_availability",
        parameters=[CALENDAR_ID, AvailabilityQuerySerializer],
        summary="Who is available when (the heat map)",
        description=(
            "For each of the calendar's days (by date), the maximal stretches where the same people are "
            "available with the same preferences, in order: boundaries exactly at slot starts and ends, touching "
            "slots of one person with one preference make one stretch, stretches where nobody is available are "
            "left out, a day without slots has an empty list. Times are wall-clock in the calendar's time zone. "
            "Counts the creator and the participants (`members`). Everyone who sees the calendar reads it: the "
            "creator, participants and pending invitees; 404 for everyone else."
        ),
        responses={200: AvailabilitySerializer},
        examples=[AVAILABILITY_EXAMPLE],
        tags=["scheduling"],
    )
)


NOT_CREATOR_FINALIZE = OpenApiResponse(
    ERROR_REF, description="You can see this calendar but only its creator fixes the meeting."
)
FINALIZE_EXAMPLE = OpenApiExample(
    "Fix the meeting", value={"date": "2030-05-06", "start_time": "10:45", "end_time": "11:45"}, request_only=True
)


finalize = extend_schema_view(
    post=extend_schema(
        operation_id="calendars_finalize",
        parameters=[CALENDAR_ID],
        summary="Fix the meeting",
        description=(
            "Creator only. Fixes the meeting on one of the calendar's days, from `start_time` to `end_time` "
            "(wall-clock in the calendar's time zone; a time the clocks skip is a 400). Answers the calendar, "
            "whose `finalized` now shows the meeting, and emails the creator and every participant with the "
            "meeting attached (`invite.ics`). Sending the time already fixed again changes nothing (200); "
            "another time while one is fixed answers 409: undo first. While finalized, invitations and "
            "timeslots cannot change (409)."
        ),
        request=FinalizeSerializer,
        responses={
            200: CalendarSerializer,
            403: NOT_CREATOR_FINALIZE,
            409: OpenApiResponse(ERROR_REF, description="Another time is already fixed; undo it first."),
        },
        examples=[FINALIZE_EXAMPLE],
        tags=["scheduling"],
    ),
    delete=extend_schema(
        operation_id="calendars_unfinalize",
        parameters=[CALENDAR_ID],
        summary="Undo the fixed meeting",
        description=(
            "Creator only. Clears the fixed meeting (a no-op when none is fixed) and answers the calendar with "
            "`finalized: null`; everyone who was told of the meeting gets a cancellation (METHOD:CANCEL). "
            "Invitations and timeslots can change again."
        ),
        responses={200: CalendarSerializer, 403: NOT_CREATOR_FINALIZE},
        tags=["scheduling"],
    ),
)


ICS_EXAMPLE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OneOnOne//OneOnOne API 1.0//EN\r\nMETHOD:PUBLISH\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n...\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nSUMMARY:Project kickoff\r\nDTSTART;TZID=Europe/Berlin:20300506T104500\r\n"
    "DTEND;TZID=Europe/Berlin:20300506T114500\r\nDTSTAMP:20300401T120000Z\r\nUID:calendar-7@oneonone.local\r\n"
    "SEQUENCE:0\r\nSTATUS:CONFIRMED\r\nATTENDEE;CN=bob;ROLE=REQ-PARTICIPANT:mailto:bob@example.com\r\n"
    "DESCRIPTION:One hour\\, any of these days.\r\nLAST-MODIFIED:20300401T120000Z\r\n"
    "ORGANIZER;CN=carol:mailto:carol@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
ICS_RESPONSE = OpenApiResponse(
    OpenApiTypes.STR,
    description="An RFC 5545 iCalendar document (`text/calendar; charset=utf-8`).",
    examples=[OpenApiExample("Meeting", value=ICS_EXAMPLE)],
)
NOT_ACCEPTABLE = OpenApiResponse(
    ERROR_REF, description="The Accept header excludes `text/calendar` (send `text/calendar` or `*/*`)."
)


ics = extend_schema_view(
    get=extend_schema(
        operation_id="calendars_ics",
        parameters=[CALENDAR_ID],
        summary="The fixed meeting as iCalendar",
        description=(
            "Members only (creator and participants; a pending invitee gets 403). The finalized meeting as an "
            "RFC 5545 `text/calendar` document (METHOD:PUBLISH) to import in a calendar app: UID "
            "`calendar-{id}@<domain>` (stable), DTSTART/DTEND in the calendar's time zone with its VTIMEZONE, "
            "SUMMARY = title, DESCRIPTION, ORGANIZER = creator, one ATTENDEE per participant, SEQUENCE growing "
            "with every finalize and undo. 409 while the meeting is not finalized. Errors are JSON."
        ),
        responses={
            (200, "text/calendar"): ICS_RESPONSE,
            (403, "application/json"): MEMBERS_ONLY,
            (404, "application/json"): OpenApiResponse(ERROR_REF, description="Not found, or not visible to you."),
            (406, "application/json"): NOT_ACCEPTABLE,
            (409, "application/json"): OpenApiResponse(ERROR_REF, description="The meeting is not finalized yet."),
        },
        tags=["scheduling"],
    )
)


FEED_TOKEN_EXAMPLE = OpenApiExample(
    "Feed address",
    value={
        "url": "https://oneonone.example.com/calendars/feed/3q2-7wEj3S0ntD6tBYOc1lNVbq1HR0EBhnhQJ9cVm9Y.ics",
        "token": "3q2-7wEj3S0ntD6tBYOc1lNVbq1HR0EBhnhQJ9cVm9Y",
        "created_at": "2030-04-01T12:00:00Z",
    },
    response_only=True,
)


feed_token = extend_schema_view(
    get=extend_schema(
        operation_id="calendars_feed_token_retrieve",
        summary="My calendar feed address",
        description=(
            "The secret address of my iCalendar feed (every finalized meeting I created or take part in), "
            "created on first use. Calendar apps subscribe to `url` without logging in: keep it secret."
        ),
        responses={200: FeedTokenSerializer},
        examples=[FEED_TOKEN_EXAMPLE],
        tags=["scheduling"],
    ),
    post=extend_schema(
        operation_id="calendars_feed_token_rotate",
        summary="Rotate my calendar feed address",
        description="A new secret address; the previous one answers 404 from now on. No request body.",
        request=None,
        responses={200: FeedTokenSerializer},
        examples=[FEED_TOKEN_EXAMPLE],
        tags=["scheduling"],
    ),
)


feed = extend_schema_view(
    get=extend_schema(
        operation_id="calendars_feed",
        summary="My calendar feed (no login)",
        description=(
            "The finalized meetings the token's owner created or takes part in, as one `text/calendar` document "
            "for calendar apps to subscribe to (no METHOD; REFRESH-INTERVAL one hour): the upcoming ones, "
            f"soonest first, then the most recent past ones, {FEED_MAX_MEETINGS} at most. Authenticated by the "
            "secret token in the path only; an unknown or rotated token answers 404. Throttled per client "
            "address and per token (429 with `Retry-After`). Answers a strong `ETag`; sent back in "
            "`If-None-Match`, an unchanged feed answers 304 without a body."
        ),
        auth=[],
        parameters=[
            FEED_TOKEN,
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                description="The `ETag` of the copy the client has: 304 when the feed is still the same.",
            ),
            OpenApiParameter(
                "ETag",
                str,
                OpenApiParameter.HEADER,
                response=[200, 304],
                description="The feed's strong entity tag (the SHA-256 of the document, quoted).",
            ),
        ],
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR, description="An RFC 5545 iCalendar document with one VEVENT per finalized meeting."
            ),
            304: OpenApiResponse(description="Not modified: the `ETag` sent in `If-None-Match` is the feed's."),
            (404, "application/json"): OpenApiResponse(ERROR_REF, description="Unknown or rotated token."),
            (406, "application/json"): NOT_ACCEPTABLE,
            (429, "application/json"): OpenApiResponse(
                ERROR_REF,
                description="Too many reads of this feed, or from this address; retry after `Retry-After` seconds.",
            ),
        },
        tags=["scheduling"],
    )
)


def require_timeslot_bodies(result, generator, request, public):
    """Post-processing hook (SPECTACULAR_SETTINGS): the body of `POST .../timeslot/` is required.

    Its JSON form is written out (one slot or an array of them), and drf-spectacular leaves a written-out
    body optional; the server answers 400 without one.
    """
    for item in result.get("paths", {}).values():
        operation = item.get("post", {})
        if operation.get("operationId") == "calendars_day_timeslot_create" and "requestBody" in operation:
            operation["requestBody"]["required"] = True
    return result

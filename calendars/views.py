"""Calendars with their days, and the timeslots of a day; views parse, authorize and delegate."""

from __future__ import annotations

from django.http import Http404
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from calendars import ics, read_models, selectors, services
from calendars.models import Calendar, Day, TimeSlot
from calendars.permissions import IsCalendarCreatorOrReadOnly, IsTimeSlotOwnerOrReadOnly
from calendars.renderers import ICalendarViewMixin
from calendars.scheduling import suggest_meeting_times
from calendars.serializers import (
    CalendarCreateSerializer,
    CalendarEditSerializer,
    CalendarSerializer,
    FeedTokenSerializer,
    FinalizeSerializer,
    SuggestionListSerializer,
    SuggestionQuerySerializer,
    TimeSlotSerializer,
)
from oneonone.exceptions import Conflict
from oneonone.schema import ERROR_REF

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


@extend_schema_view(
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
            "name, default `UTC`) says in which zone the days' times are wall-clock times."
        ),
        request=CalendarCreateSerializer,
        responses={201: CalendarCreateSerializer},
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
            "included), days left out are deleted with their timeslots, days without `id` are added. "
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
class CalendarViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Calendars; no PATCH (the spec has none): PUT sends the whole day list."""

    permission_classes = [IsAuthenticated, IsCalendarCreatorOrReadOnly]
    serializer_class = CalendarSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Calendar.objects.none()
        if self.action == "list":
            return selectors.calendar_list(user=self.request.user)
        return selectors.calendars_visible(user=self.request.user)

    # The reads answer CalendarSerializer's JSON built from value rows (calendars.read_models): the same
    # bytes, one query fewer, a sixth of the CPU on a full page. The schema still comes from the serializer.
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(selectors.calendar_list_rows(user=request.user))
        return self.get_paginated_response(read_models.calendar_bodies(page))

    def retrieve(self, request, *args, **kwargs):
        creator_id, body = selectors.calendar_body_visible(user=request.user, calendar_id=kwargs["pk"])
        self.check_object_permissions(request, Calendar(pk=body["id"], creator_id=creator_id))
        return Response(body)

    def create(self, request, *args, **kwargs):
        serializer = CalendarCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        calendar = services.calendar_create(creator=request.user, **serializer.validated_data)
        body = CalendarCreateSerializer(selectors.calendar_detail(calendar_id=calendar.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        calendar = self.get_object()
        serializer = CalendarEditSerializer(calendar, data=request.data)
        serializer.is_valid(raise_exception=True)
        services.calendar_update(calendar=calendar, **serializer.validated_data)
        return Response(CalendarEditSerializer(selectors.calendar_detail(calendar_id=calendar.pk)).data)

    def perform_destroy(self, instance: Calendar) -> None:
        services.calendar_delete(calendar=instance)


@extend_schema_view(
    list=extend_schema(
        operation_id="calendars_day_timeslot_list",
        summary="List the timeslots of a day",
        description="Every member's slots of the day, earliest first. 404 if the day is not in that calendar.",
        tags=["timeslots"],
    ),
    create=extend_schema(
        operation_id="calendars_day_timeslot_create",
        summary="Add my timeslot to a day",
        description=(
            "The creator and participants add their own availability; it may not overlap another of "
            "their slots on that day (touching is fine), at most 48 per person per day. 409 while the "
            "meeting is finalized."
        ),
        responses={201: TimeSlotSerializer, 403: NOT_MEMBER, 409: FINALIZED},
        examples=[SLOT_EXAMPLE],
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
@extend_schema(parameters=[IN_CALENDAR, DAY_ID])
class TimeSlotViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Timeslots of one day of one calendar; the calendar and day are resolved once, for the user."""

    permission_classes = [IsAuthenticated, IsTimeSlotOwnerOrReadOnly]
    serializer_class = TimeSlotSerializer

    @cached_property
    def day(self) -> Day:
        return selectors.day_visible(
            user=self.request.user, calendar_id=self.kwargs["calendar_id"], day_id=self.kwargs["day_id"]
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TimeSlot.objects.none()
        return selectors.timeslots_of_day(day=self.day)

    def list(self, request, *args, **kwargs):
        # TimeSlotSerializer's JSON from value rows (calendars.read_models), as for the calendars.
        page = self.paginate_queryset(selectors.timeslot_rows_of_day(day=self.day))
        return self.get_paginated_response(read_models.timeslot_bodies(page))

    def create(self, request, *args, **kwargs):
        day = self.day
        if not selectors.is_member(user=request.user, calendar=day.calendar):
            raise PermissionDenied(services.NOT_MEMBER)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        timeslot = services.timeslot_create(day=day, owner=request.user, **serializer.validated_data)
        return Response(self.get_serializer(timeslot).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        timeslot = self.get_object()
        serializer = self.get_serializer(timeslot, data=request.data)
        serializer.is_valid(raise_exception=True)
        timeslot = services.timeslot_update(timeslot=timeslot, **serializer.validated_data)
        return Response(self.get_serializer(timeslot).data)

    def perform_destroy(self, instance: TimeSlot) -> None:
        services.timeslot_delete(timeslot=instance)


# Scheduling: suggestions, finalize, iCalendar, feed ----------------------------------------------------------

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
                "missing": [],
                "pending": ["zed"],
                "score": {"available_count": 3, "participant_total": 4, "day_ranking": 1, "start": "10:45:00"},
            },
            {
                "date": "2030-05-06",
                "start_time": "09:00:00",
                "end_time": "10:00:00",
                "starts_at": "2030-05-06T09:00:00+02:00",
                "ends_at": "2030-05-06T10:00:00+02:00",
                "available": ["bob", "carol"],
                "missing": ["ann"],
                "pending": ["zed"],
                "score": {"available_count": 2, "participant_total": 4, "day_ranking": 1, "start": "09:00:00"},
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


@extend_schema_view(
    get=extend_schema(
        operation_id="calendars_suggestions",
        summary="Best meeting times",
        description=(
            "Ranks windows of `duration` minutes (starting every `step` minutes from midnight) on the calendar's "
            "days from everyone's timeslots. The creator must be available for the whole window; windows are "
            "ordered by the number of people available, then the day's ranking (1 first), then the earliest "
            "start, and the top `limit` that do not overlap each other are returned. Pending invitees count as "
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
class CalendarSuggestionsView(APIView):
    def get(self, request, pk: int):
        inputs = selectors.scheduling_inputs(user=request.user, calendar_id=pk)
        query = SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        result = suggest_meeting_times(
            time_zone=inputs.calendar.timezone,
            days=inputs.days,
            creator=inputs.calendar.creator.username,
            participants=inputs.participants,
            pending=inputs.pending,
            slots=inputs.slots,
            **params,
        )
        body = {**params, "timezone": inputs.calendar.timezone, **result.as_dict()}
        return Response(SuggestionListSerializer(body).data)


NOT_CREATOR_FINALIZE = OpenApiResponse(
    ERROR_REF, description="You can see this calendar but only its creator fixes the meeting."
)
FINALIZE_EXAMPLE = OpenApiExample(
    "Fix the meeting", value={"date": "2030-05-06", "start_time": "10:45", "end_time": "11:45"}, request_only=True
)


@extend_schema_view(
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
class CalendarFinalizeView(APIView):
    def post(self, request, pk: int):
        calendar = selectors.calendar_for_creator(
            user=request.user, calendar_id=pk, message="Only the calendar's creator can finalize the meeting."
        )
        serializer = FinalizeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.calendar_finalize(calendar=calendar, **serializer.validated_data)
        return Response(CalendarSerializer(selectors.calendar_detail(calendar_id=calendar.pk)).data)

    def delete(self, request, pk: int):
        calendar = selectors.calendar_for_creator(
            user=request.user, calendar_id=pk, message="Only the calendar's creator can undo the finalized meeting."
        )
        services.calendar_unfinalize(calendar=calendar)
        return Response(CalendarSerializer(selectors.calendar_detail(calendar_id=calendar.pk)).data)


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


@extend_schema_view(
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
class CalendarIcsView(ICalendarViewMixin, APIView):
    def get(self, request, pk: int):
        calendar = selectors.calendar_for_members(user=request.user, calendar_id=pk)
        if not calendar.is_finalized:
            raise Conflict(
                f"The meeting is not finalized yet; the creator fixes it with POST /calendars/{calendar.pk}/finalize/."
            )
        body = ics.calendar_ics(calendar, participants=selectors.participants(calendar))
        disposition = f'attachment; filename="oneonone-{calendar.pk}.ics"'
        return Response(body, headers={"Content-Disposition": disposition})


FEED_TOKEN_EXAMPLE = OpenApiExample(
    "Feed address",
    value={
        "url": "https://oneonone.example.com/calendars/feed/3q2-7wEj3S0ntD6tBYOc1lNVbq1HR0EBhnhQJ9cVm9Y.ics",
        "token": "3q2-7wEj3S0ntD6tBYOc1lNVbq1HR0EBhnhQJ9cVm9Y",
        "created_at": "2030-04-01T12:00:00Z",
    },
    response_only=True,
)


@extend_schema_view(
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
class FeedTokenView(APIView):
    def get(self, request):
        feed_token = services.feed_token_get(user=request.user)
        return Response(FeedTokenSerializer(feed_token, context={"request": request}).data)

    def post(self, request):
        feed_token = services.feed_token_rotate(user=request.user)
        return Response(FeedTokenSerializer(feed_token, context={"request": request}).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="calendars_feed",
        parameters=[FEED_TOKEN],
        summary="My calendar feed (no login)",
        description=(
            "Every finalized meeting the token's owner created or takes part in, as one `text/calendar` document "
            "for calendar apps to subscribe to (no METHOD; REFRESH-INTERVAL one hour). Authenticated by the "
            "secret token in the path only; an unknown or rotated token answers 404."
        ),
        auth=[],
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR, description="An RFC 5545 iCalendar document with one VEVENT per finalized meeting."
            ),
            (404, "application/json"): OpenApiResponse(ERROR_REF, description="Unknown or rotated token."),
            (406, "application/json"): NOT_ACCEPTABLE,
        },
        tags=["scheduling"],
    )
)
class CalendarFeedView(ICalendarViewMixin, APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request, token: str):
        owner = selectors.feed_owner(token=token)
        if owner is None:
            raise Http404
        calendars = selectors.finalized_meetings(user=owner)
        meetings = [(calendar, selectors.participants(calendar)) for calendar in calendars]
        # Private data behind a secret URL: shared caches must not keep it.
        return Response(ics.feed_ics(owner=owner, calendars=meetings), headers={"Cache-Control": "private, no-cache"})

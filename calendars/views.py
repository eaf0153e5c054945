"""Calendars with their days, and the timeslots of a day; views parse, authorize and delegate."""

from __future__ import annotations

from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from calendars import selectors, services
from calendars.models import Calendar, Day, TimeSlot
from calendars.permissions import IsCalendarCreatorOrReadOnly, IsTimeSlotOwnerOrReadOnly
from calendars.serializers import (
    CalendarCreateSerializer,
    CalendarEditSerializer,
    CalendarSerializer,
    TimeSlotSerializer,
)
from oneonone.schema import ERROR_REF

NOT_CREATOR = OpenApiResponse(ERROR_REF, description="You can see this calendar but are not its creator.")
NOT_MEMBER = OpenApiResponse(
    ERROR_REF, description="You can see this calendar (pending invitation) but are not a participant yet."
)
NOT_OWNER = OpenApiResponse(ERROR_REF, description="This timeslot belongs to someone else.")

CREATE_EXAMPLE = OpenApiExample(
    "New calendar",
    value={
        "title": "Project kickoff",
        "description": "One hour, any of these days.",
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
            "my own timeslots on each day, in one transaction. I become its creator."
        ),
        request=CalendarCreateSerializer,
        responses={201: CalendarCreateSerializer},
        examples=[CREATE_EXAMPLE],
        tags=["calendars"],
    ),
    retrieve=extend_schema(
        operation_id="calendars_retrieve",
        summary="Get a calendar",
        description=(
            "Visible to the creator, the participants and users with a pending invitation; 404 for everyone else."
        ),
        tags=["calendars"],
    ),
    update=extend_schema(
        operation_id="calendars_update",
        summary="Edit a calendar and its days",
        description=(
            "Creator only. Replaces title, description and the day list: days sent with their `id` "
            "are kept with their timeslots (date and ranking may change, swaps included), days left out "
            "are deleted with their timeslots, days without `id` are added."
        ),
        request=CalendarEditSerializer,
        responses={200: CalendarEditSerializer, 403: NOT_CREATOR},
        examples=[EDIT_EXAMPLE],
        tags=["calendars"],
    ),
    destroy=extend_schema(
        operation_id="calendars_destroy",
        summary="Delete a calendar",
        description="Creator only. Deletes the calendar with its days, timeslots and invitations.",
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
            "their slots on that day (touching is fine), at most 48 per person per day."
        ),
        responses={201: TimeSlotSerializer, 403: NOT_MEMBER},
        examples=[SLOT_EXAMPLE],
        tags=["timeslots"],
    ),
    retrieve=extend_schema(
        operation_id="calendars_day_timeslot_retrieve", summary="Get a timeslot", tags=["timeslots"]
    ),
    update=extend_schema(
        operation_id="calendars_day_timeslot_update",
        summary="Move my timeslot",
        description="Owner only. The new times may not overlap another of the owner's slots on that day.",
        responses={200: TimeSlotSerializer, 403: NOT_OWNER},
        examples=[SLOT_EXAMPLE],
        tags=["timeslots"],
    ),
    destroy=extend_schema(
        operation_id="calendars_day_timeslot_destroy",
        summary="Delete my timeslot",
        description="Owner only.",
        responses={204: OpenApiResponse(description="Deleted."), 403: NOT_OWNER},
        tags=["timeslots"],
    ),
)
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

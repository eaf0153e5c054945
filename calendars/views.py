"""Calendars with their days, the timeslots of a day, and scheduling; views parse, authorize and delegate.

Who may do what is decided by calendars.access; the API documentation of each view is in calendars.openapi.
"""

from __future__ import annotations

import hashlib

from django.http import Http404
from django.utils.functional import cached_property
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.current import current_user
from calendars import access, ics, openapi, read_models, selectors, services, throttles
from calendars.access import Role
from calendars.models import Calendar, Day, TimeSlot
from calendars.renderers import ICalendarViewMixin
from calendars.scheduling import in_zone
from calendars.serializers import (
    AvailabilityQuerySerializer,
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
from idempotency.views import IdempotentWrites
from oneonone import etags
from oneonone.exceptions import Conflict
from oneonone.pagination import paginate_fetched

NOT_CREATOR = "Only the calendar's creator can change or delete it."


# The ETags of the calendar reads (oneonone.etags): who asks, what decides the body, and the URL where the
# body holds links or depends on the query. A calendar's version counts every change of it (calendars.versions).


def calendar_list_tag(request, versions: list[tuple[int, int]]) -> str:
    return etags.tag("calendars", request.user.pk, request.build_absolute_uri(), versions)


def calendar_tag(user_id: int, calendar_id: int, version: int) -> str:
    return etags.tag("calendar", user_id, calendar_id, version)


def timeslot_list_tag(request, day_id: int, version: int) -> str:
    return etags.tag("timeslots", request.user.pk, request.build_absolute_uri(), day_id, version)


def timeslot_tag(user_id: int, body: dict) -> str:
    return etags.tag("timeslot", user_id, tuple(body.items()))


def suggestions_tag(request, calendar: Calendar) -> str:
    return etags.tag("suggestions", request.user.pk, request.get_full_path(), calendar.pk, calendar.version)


def _shaped(body: dict, serializer_class) -> dict:
    """The calendar body cut to the fields of a write serializer's answer (its component in the schema)."""
    return {name: body[name] for name in serializer_class.Meta.fields}


@openapi.calendar_viewset
class CalendarViewSet(IdempotentWrites, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Calendars; no PATCH (the spec has none): PUT sends the whole day list.

    Every body comes from calendars.read_models; the serializers are the schema and the writes.
    """

    serializer_class = CalendarSerializer
    plain_json_bodies = True  # calendars.read_models makes dicts, lists, str, int, bool and None (oneonone.renderers)

    def get_queryset(self):
        # Only the schema generator reads this (the path's id type); the views load through calendars.access.
        return Calendar.objects.none()

    def list(self, request, *args, **kwargs):
        # A poll: the ids and versions of the user's calendars decide the whole answer (the page, the count,
        # the links). Without If-None-Match they come with the page instead, in its one query. With `*`, the page
        # is read first: a bad page is its error, not a 304 (oneonone.etags.answer).
        user_id = request.user.pk
        if request.META.get("HTTP_IF_NONE_MATCH") and etags.applies(request) and not etags.any_tag(request):
            current = calendar_list_tag(request, read_models.member_versions(user_id))
            if etags.none_match(request, current):
                return etags.not_modified(current)
        versions: list[tuple[int, int]] = []

        def fetch(limit: int, offset: int):
            rows, count, versions[:] = read_models.calendar_page(user_id, limit=limit, offset=offset)
            return rows, count

        page = paginate_fetched(self, request, fetch)
        current = calendar_list_tag(request, versions)
        if etags.any_tag(request):
            return etags.not_modified(current)
        response = self.get_paginated_response(read_models.calendar_bodies(page))
        return etags.with_tag(request, response, current)

    def retrieve(self, request, pk: int):
        row = read_models.calendar_row(pk, request.user.pk)
        if row is None:
            raise Http404
        current = calendar_tag(request.user.pk, pk, row[-1])
        return etags.answer(request, current, lambda: Response(read_models.calendar_bodies([row])[0]))

    def create(self, request):
        serializer = CalendarCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        calendar = services.calendar_create(creator=request.user, **serializer.validated_data)
        body = selectors.calendar_body(calendar_id=calendar.pk)
        return Response(_shaped(body, CalendarCreateSerializer), status=status.HTTP_201_CREATED)

    def update(self, request, pk: int):
        calendar = access.calendar_for(request.user, pk, Role.CREATOR, message=NOT_CREATOR)
        serializer = CalendarEditSerializer(calendar, data=request.data)
        serializer.is_valid(raise_exception=True)
        # If-Match: the ETag of GET /calendars/{id}/, compared under the calendar's lock (412 when stale).
        check = etags.PreconditionCheck(request, lambda locked: calendar_tag(request.user.pk, pk, locked.version))
        updated = services.calendar_update(calendar=calendar, check=check, **serializer.validated_data)
        response = Response(_shaped(selectors.calendar_body(calendar_id=updated.pk), CalendarEditSerializer))
        return etags.with_tag(request, response, calendar_tag(request.user.pk, pk, updated.version))

    def destroy(self, request, pk: int):
        calendar = access.calendar_for(request.user, pk, Role.CREATOR, message=NOT_CREATOR)
        services.calendar_delete(calendar=calendar)
        return Response(status=status.HTTP_204_NO_CONTENT)


@openapi.timeslot_viewset
@openapi.timeslot_parameters
class TimeSlotViewSet(IdempotentWrites, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Timeslots of one day of one calendar; the calendar and day are resolved once, for the user."""

    serializer_class = TimeSlotSerializer
    plain_json_bodies = True

    @cached_property
    def day(self) -> Day:
        return access.day_for(current_user(self.request), self.kwargs["calendar_id"], self.kwargs["day_id"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TimeSlot.objects.none()
        return selectors.timeslots_of_day(day=self.day)

    def get_object(self):
        # OPTIONS on the day's list asks DRF's metadata about PUT, which looks up an object for it; the
        # whole-day PUT has none, so the answer describes POST only.
        if self.lookup_field not in self.kwargs:
            raise Http404
        return super().get_object()

    def list(self, request, *args, **kwargs):
        # What `self.day` checks (the user sees the calendar, the day is one of its days), and the version.
        found = read_models.visible_day(self.kwargs["calendar_id"], self.kwargs["day_id"], request.user.pk)
        if found is None:
            raise Http404
        day_id, version = found

        def page():
            rows = paginate_fetched(
                self, request, lambda limit, offset: read_models.day_slot_page(day_id, limit=limit, offset=offset)
            )
            return self.get_paginated_response(read_models.timeslot_bodies(rows))

        return etags.answer(request, timeslot_list_tag(request, day_id, version), page)

    def retrieve(self, request, *args, **kwargs):
        # What `get_object` finds through `self.day` (visibility, the day of the calendar), in one query.
        kwargs = self.kwargs
        row = read_models.visible_slot(kwargs["calendar_id"], kwargs["day_id"], kwargs["pk"], request.user.pk)
        if row is None:
            raise Http404
        body = read_models.timeslot_bodies([row])[0]
        return etags.answer(request, timeslot_tag(request.user.pk, body), lambda: Response(body))

    def get_parsers(self):
        # A whole day is a JSON array: a form body cannot say "these slots" (nor "none"), so it is a 415.
        request = getattr(self, "request", None)  # None while the schema is generated
        if request is not None and getattr(self, "action_map", {}).get(request.method.lower()) == "replace":
            return [JSONParser()]
        return super().get_parsers()

    def create(self, request, *args, **kwargs):
        day = self.day
        # Membership is decided by the services, under the day's lock.
        if isinstance(request.data, list):
            batch = TimeSlotBatchSerializer(child=TimeSlotSerializer(), data=request.data, allow_empty=False)
            batch.is_valid(raise_exception=True)
            timeslots = services.timeslots_add(day=day, owner=request.user, slots=batch.validated_data)
            return Response(TimeSlotSerializer(timeslots, many=True).data, status=status.HTTP_201_CREATED)
        serializer = TimeSlotSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        timeslot = services.timeslot_create(day=day, owner=request.user, **serializer.validated_data)
        return Response(TimeSlotSerializer(timeslot).data, status=status.HTTP_201_CREATED)

    @openapi.timeslot_replace
    def replace(self, request, *args, **kwargs):
        day = self.day
        batch = TimeSlotBatchSerializer(child=TimeSlotBulkItemSerializer(), data=request.data)
        batch.is_valid(raise_exception=True)
        timeslots = services.timeslots_replace(day=day, owner=request.user, slots=batch.validated_data)
        return Response(TimeSlotSerializer(timeslots, many=True).data)

    def update(self, request, *args, **kwargs):
        timeslot = self.get_object()
        access.require_slot_owner(timeslot, request.user)
        serializer = TimeSlotSerializer(timeslot, data=request.data)
        serializer.is_valid(raise_exception=True)
        # If-Match: the ETag of GET of this slot, compared with the slot as it is under the calendar's lock.
        check = etags.PreconditionCheck(
            request, lambda current: timeslot_tag(request.user.pk, TimeSlotSerializer(current).data)
        )
        timeslot = services.timeslot_update(timeslot=timeslot, check=check, **serializer.validated_data)
        body = TimeSlotSerializer(timeslot).data
        return etags.with_tag(request, Response(body), timeslot_tag(request.user.pk, body))

    def destroy(self, request, *args, **kwargs):
        timeslot = self.get_object()
        access.require_slot_owner(timeslot, request.user)
        services.timeslot_delete(timeslot=timeslot)
        return Response(status=status.HTTP_204_NO_CONTENT)


@openapi.suggestions
class CalendarSuggestionsView(APIView):
    def get(self, request, pk: int):
        calendar = access.calendar_for(request.user, pk, Role.MEMBER)
        query = SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return etags.answer(request, suggestions_tag(request, calendar), lambda: self.suggest(calendar, query))

    @staticmethod
    def suggest(calendar: Calendar, query: SuggestionQuerySerializer) -> Response:
        params = dict(query.validated_data)
        local_zone = params.pop("tz", None) or None
        result = selectors.suggestions_for(calendar=calendar, **params)
        body = {**params, "timezone": calendar.timezone, "local_timezone": local_zone, **result.as_dict()}
        for suggestion, found in zip(body["suggestions"], result.suggestions, strict=True):
            suggestion["local_start"] = in_zone(found.starts_at, local_zone)
            suggestion["local_end"] = in_zone(found.ends_at, local_zone)
        return Response(SuggestionListSerializer(body).data)


@openapi.availability
class CalendarAvailabilityView(APIView):
    def get(self, request, pk: int):
        calendar = access.calendar_for(request.user, pk, Role.VIEWER)
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            selectors.availability_body(calendar=calendar, local_zone=query.validated_data.get("tz") or None)
        )


@openapi.finalize
class CalendarFinalizeView(IdempotentWrites, APIView):
    def post(self, request, pk: int):
        calendar = access.calendar_for(
            request.user, pk, Role.CREATOR, message="Only the calendar's creator can finalize the meeting."
        )
        serializer = FinalizeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.calendar_finalize(calendar=calendar, **serializer.validated_data)
        return Response(selectors.calendar_body(calendar_id=calendar.pk))

    def delete(self, request, pk: int):
        calendar = access.calendar_for(
            request.user, pk, Role.CREATOR, message="Only the calendar's creator can undo the finalized meeting."
        )
        services.calendar_unfinalize(calendar=calendar)
        return Response(selectors.calendar_body(calendar_id=calendar.pk))


@openapi.ics
class CalendarIcsView(ICalendarViewMixin):
    def get(self, request, pk: int):
        calendar = access.calendar_for(request.user, pk, Role.MEMBER)
        if not calendar.is_finalized:
            raise Conflict(
                f"The meeting is not finalized yet; the creator fixes it with POST /calendars/{calendar.pk}/finalize/."
            )
        body = ics.calendar_ics(calendar, participants=selectors.participants(calendar))
        disposition = f'attachment; filename="oneonone-{calendar.pk}.ics"'
        return Response(body, headers={"Content-Disposition": disposition})


@openapi.feed_token
class FeedTokenView(IdempotentWrites, APIView):
    def get(self, request):
        feed_token = services.feed_token_get(user=request.user)
        return Response(FeedTokenSerializer(feed_token, context={"request": request}).data)

    def post(self, request):
        feed_token = services.feed_token_rotate(user=request.user)
        return Response(FeedTokenSerializer(feed_token, context={"request": request}).data)


@openapi.feed
class CalendarFeedView(ICalendarViewMixin):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [throttles.FeedAddressThrottle, throttles.FeedTokenThrottle]

    def get(self, request, token: str):
        owner = selectors.feed_owner(token=token)
        if owner is None:
            raise Http404
        body = ics.feed_ics(owner=owner, calendars=selectors.finalized_meetings(user=owner))
        # Private data behind a secret URL: shared caches must not keep it, and a client revalidates it
        # every time; the strong ETag (the document's digest) spares it the body when nothing changed.
        current = f'"{hashlib.sha256(body).hexdigest()}"'
        if etags.names(request.headers.get("If-None-Match"), current):
            return etags.not_modified(current)
        return Response(body, headers={"Cache-Control": etags.CACHE_CONTROL, "ETag": current})

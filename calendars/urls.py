"""Calendar, timeslot and scheduling routes (mounted at /calendars/; invitations share the prefix)."""

from django.urls import path

from calendars.views import (
    CalendarAvailabilityView,
    CalendarFeedView,
    CalendarFinalizeView,
    CalendarIcsView,
    CalendarSuggestionsView,
    CalendarViewSet,
    FeedTokenView,
    TimeSlotViewSet,
)

calendar_list = CalendarViewSet.as_view({"get": "list", "post": "create"})
calendar_detail = CalendarViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"})
timeslot_list = TimeSlotViewSet.as_view({"get": "list", "post": "create", "put": "replace"})
timeslot_detail = TimeSlotViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"})

urlpatterns = [
    path("", calendar_list, name="calendar-list"),
    path("<id:pk>/", calendar_detail, name="calendar-detail"),
    path("<id:calendar_id>/day/<id:day_id>/timeslot/", timeslot_list, name="timeslot-list"),
    path("<id:calendar_id>/day/<id:day_id>/timeslot/<id:pk>/", timeslot_detail, name="timeslot-detail"),
    path("<id:pk>/suggestions/", CalendarSuggestionsView.as_view(), name="calendar-suggestions"),
    path("<id:pk>/availability/", CalendarAvailabilityView.as_view(), name="calendar-availability"),
    path("<id:pk>/finalize/", CalendarFinalizeView.as_view(), name="calendar-finalize"),
    path("<id:pk>/ics/", CalendarIcsView.as_view(), name="calendar-ics"),
    path("feed-token/", FeedTokenView.as_view(), name="calendar-feed-token"),
    # No trailing slash: calendar apps like feed addresses that end in `.ics`.
    path("feed/<str:token>.ics", CalendarFeedView.as_view(), name="calendar-feed"),
]

"""Calendar and timeslot routes (mounted at /calendars/; invitations share the prefix)."""

from django.urls import path

from calendars.views import CalendarViewSet, TimeSlotViewSet

calendar_list = CalendarViewSet.as_view({"get": "list", "post": "create"})
calendar_detail = CalendarViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"})
timeslot_list = TimeSlotViewSet.as_view({"get": "list", "post": "create"})
timeslot_detail = TimeSlotViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"})

urlpatterns = [
    path("", calendar_list, name="calendar-list"),
    path("<int:pk>/", calendar_detail, name="calendar-detail"),
    path("<int:calendar_id>/day/<int:day_id>/timeslot/", timeslot_list, name="timeslot-list"),
    path("<int:calendar_id>/day/<int:day_id>/timeslot/<int:pk>/", timeslot_detail, name="timeslot-detail"),
]

"""Routes under `/calendars/` (included from oneonone/urls.py)."""

from django.urls import path

from invitations.views import CalendarInvitationViewSet

invitation_list = CalendarInvitationViewSet.as_view({"get": "list", "post": "create"})
invitation_detail = CalendarInvitationViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"})
invitation_remind = CalendarInvitationViewSet.as_view({"post": "remind"})

urlpatterns = [
    path("<id:calendar_id>/invitations/", invitation_list, name="calendar-invitation-list"),
    path("<id:calendar_id>/invitations/<id:id>/", invitation_detail, name="calendar-invitation-detail"),
    path("<id:calendar_id>/invitations/<id:id>/remind/", invitation_remind, name="calendar-invitation-remind"),
]

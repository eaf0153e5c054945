"""The inbox route, included from oneonone/urls.py at `invitations/`."""

from django.urls import path

from invitations.views import InvitationInboxView

urlpatterns = [
    path("", InvitationInboxView.as_view(), name="invitation-inbox"),
]

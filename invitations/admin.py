from django.contrib import admin

from calendars.admin import CountsCalendarChanges
from calendars.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(CountsCalendarChanges):
    list_display = ["id", "calendar", "invitee", "inviter", "status", "invited_at"]
    list_filter = ["status"]
    search_fields = ["invitee__username", "inviter__username", "calendar__title"]
    list_select_related = ["calendar", "invitee", "inviter"]
    raw_id_fields = ["calendar", "invitee", "inviter"]

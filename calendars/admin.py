"""Admin for calendars: days inline, timeslots searchable by owner."""

from django.contrib import admin

from calendars.models import Calendar, Day, TimeSlot


class DayInline(admin.TabularInline):
    model = Day
    extra = 0
    fields = ["date", "ranking"]


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "creator", "timezone", "finalized_date", "created_at"]
    list_select_related = ["creator"]
    search_fields = ["title", "creator__username"]
    raw_id_fields = ["creator"]
    inlines = [DayInline]


@admin.register(TimeSlot)
class TimeSlotAdmin(admin.ModelAdmin):
    list_display = ["id", "day", "owner", "start_time", "end_time"]
    list_select_related = ["day", "owner"]
    search_fields = ["owner__username"]
    raw_id_fields = ["day", "owner"]

"""Admin for calendars: days inline, timeslots searchable by owner.

Every save and delete counts as a change of the calendars it touches (calendars.versions), so the ETags of
their reads change as they do after a write through the API.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from calendars import versions
from calendars.models import Calendar, Day, TimeSlot


class CountsCalendarChanges(admin.ModelAdmin[Any]):
    """A ModelAdmin mixin: saves and deletes count a change of the calendars of the objects, before and after."""

    calendar_path = "calendar_id"  # how a row of the model names its calendar, as a values() path

    def calendars_of(self, pks: Iterable[Any] | QuerySet[Any, Any]) -> set[int]:
        return set(self.model.objects.filter(pk__in=pks).values_list(self.calendar_path, flat=True))

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool) -> None:
        before = self.calendars_of([obj.pk]) if change else set()
        super().save_model(request, obj, form, change)
        versions.count_changes(before | self.calendars_of([obj.pk]))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        versions.count_changes(self.calendars_of([obj.pk]))
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        versions.count_changes(self.calendars_of(queryset.values("pk")))
        super().delete_queryset(request, queryset)


class DayInline(admin.TabularInline):
    model = Day
    extra = 0
    fields = ["date", "ranking"]


@admin.register(Calendar)
class CalendarAdmin(CountsCalendarChanges):
    calendar_path = "pk"
    list_display = ["id", "title", "creator", "timezone", "finalized_date", "created_at"]
    list_select_related = ["creator"]
    search_fields = ["title", "creator__username"]
    raw_id_fields = ["creator"]
    readonly_fields = ["version"]
    inlines = [DayInline]

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool) -> None:
        if change:
            # The save writes every column: lock the row and write back the version as it is now, never an older
            # one read before a concurrent write counted (a version must never repeat for another body).
            current = Calendar.objects.select_for_update().filter(pk=obj.pk).values_list("version", flat=True)
            obj.version = current.first() or obj.version
        super().save_model(request, obj, form, change)


@admin.register(TimeSlot)
class TimeSlotAdmin(CountsCalendarChanges):
    calendar_path = "day__calendar_id"
    list_display = ["id", "day", "owner", "start_time", "end_time"]
    list_select_related = ["day", "owner"]
    search_fields = ["owner__username"]
    raw_id_fields = ["day", "owner"]

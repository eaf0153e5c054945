"""The production URLconf plus the benchmark's two reference views under /bench/."""

from django.urls import include, path

from bench.reference_views import calendar_list_one_query, floor

urlpatterns = [
    path("bench/floor/", floor, name="bench-floor"),
    path("bench/calendars/", calendar_list_one_query, name="bench-calendar-list"),
    path("", include("oneonone.urls")),
]

# Handlers are read from the root URLconf only.
handler400 = "oneonone.exceptions.handler400"
handler403 = "oneonone.exceptions.handler403"
handler404 = "oneonone.exceptions.handler404"
handler500 = "oneonone.exceptions.handler500"

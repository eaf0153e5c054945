"""URL routes: the spec's paths at the root (no /api/ prefix), docs, admin, health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from oneonone import converters  # noqa: F401 - registers <id:...> before the apps' routes are loaded
from oneonone.views import ApiRootView, HealthView

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("auth/", include("accounts.urls")),
    path("contacts/", include("contacts.urls")),
    path("calendars/", include("calendars.urls")),
    path("calendars/", include("invitations.urls")),
    path("invitations/", include("invitations.urls_inbox")),
    path("webhooks/", include("webhooks.urls")),
    path("healthz/", HealthView.as_view(), name="healthz"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api-auth/", include("rest_framework.urls", namespace="rest_framework")),
    path("admin/", admin.site.urls),
]

handler400 = "oneonone.exceptions.handler400"
handler403 = "oneonone.exceptions.handler403"
handler404 = "oneonone.exceptions.handler404"
handler500 = "oneonone.exceptions.handler500"

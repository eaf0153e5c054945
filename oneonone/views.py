"""Project-level views: the API root and the health check."""

from django.conf import settings
from django.db import connection
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

# What a newcomer (or a client) finds at `/`: the docs, and the collections to start from, by URL name.
ROOT_LINKS = {
    "docs": "swagger-ui",
    "redoc": "redoc",
    "schema": "schema",
    "health": "healthz",
    "register": "register",
    "login": "login",
    "me": "me",
    "calendars": "calendar-list",
    "invitations": "invitation-inbox",
    "contacts": "contact-list",
    "friends": "contact-friends",
    "user_search": "contact-search",
}


class ApiRootView(APIView):
    """Where to start: links to the documentation and the main collections."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        operation_id="api_root",
        summary="API root",
        description=(
            "Links to the interactive documentation (`docs`, `redoc`), the OpenAPI document (`schema`) and "
            "the collections to start from. Public; everything but registration, login and the docs needs "
            "`Authorization: Bearer <access>` (`POST /auth/login/`)."
        ),
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "ApiRoot",
                    {
                        "name": serializers.CharField(),
                        "version": serializers.CharField(),
                        "links": serializers.DictField(child=serializers.URLField()),
                    },
                ),
                description="Where to go from here.",
                examples=[
                    OpenApiExample(
                        "Root",
                        value={
                            "name": "OneOnOne API",
                            "version": "1.0.0",
                            "links": {
                                "docs": "http://127.0.0.1:8000/docs/",
                                "calendars": "http://127.0.0.1:8000/calendars/",
                            },
                        },
                    )
                ],
            )
        },
        tags=["health"],
    )
    def get(self, request):
        links = {key: request.build_absolute_uri(reverse(name)) for key, name in ROOT_LINKS.items()}
        spectacular = settings.SPECTACULAR_SETTINGS
        return Response({"name": spectacular["TITLE"], "version": spectacular["VERSION"], "links": links})


class HealthView(APIView):
    """Liveness and database readiness for load balancers."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        operation_id="healthz",
        summary="Health check",
        description="200 when the application and its database answer, 503 otherwise.",
        responses={
            200: OpenApiResponse(
                inline_serializer("Health", {"status": serializers.CharField(), "database": serializers.CharField()}),
                description="Healthy.",
            ),
        },
        tags=["health"],
    )
    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return Response({"status": "ok", "database": "ok"}, status=status.HTTP_200_OK)

"""Project-level views: the API root and the health check."""

import hmac
from typing import Any

from django.conf import settings
from django.db import connection
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from oneonone import health

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


QUEUE_STATS = inline_serializer(
    "QueueStats",
    {
        "queued": serializers.IntegerField(help_text="Waiting for the worker or for their next attempt."),
        "running": serializers.IntegerField(help_text="In a worker's hands now."),
        "failed": serializers.IntegerField(help_text="Given up (see the admin for the last error)."),
        "sent": serializers.IntegerField(required=False, help_text="Emails delivered."),
        "dropped": serializers.IntegerField(
            required=False, help_text="Emails not sent: over a cap, or the address changed."
        ),
        "succeeded": serializers.IntegerField(required=False, help_text="Webhook deliveries answered 2xx."),
        "endpoints_disabled": serializers.IntegerField(
            required=False, help_text="Webhook endpoints the service disabled (repeated failures, 410)."
        ),
        "oldest_queued_seconds": serializers.FloatField(
            allow_null=True, help_text="Age of the oldest waiting item; null when none waits."
        ),
    },
)


class HealthView(APIView):
    """Liveness and database readiness for load balancers; with `?detail=1`, the queues for operators."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="healthz",
        summary="Health check",
        description=(
            "200 when the application and its database answer, 503 otherwise. With `?detail=1`, staff (a "
            "session or token of a staff user) or a monitor sending `X-Health-Token: <HEALTH_DETAIL_TOKEN>` "
            "also get `details`: what waits in the background queues, what runs, what failed, and how old the "
            "oldest waiting item is."
        ),
        parameters=[
            OpenApiParameter(
                "detail", int, enum=[1], required=False, description="`1`: add `details` (staff or the health token)."
            )
        ],
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "Health",
                    {
                        "status": serializers.CharField(),
                        "database": serializers.CharField(),
                        "details": serializers.DictField(
                            child=QUEUE_STATS, required=False, help_text="Per background queue (`email`, `webhooks`)."
                        ),
                    },
                ),
                description="Healthy.",
                examples=[
                    OpenApiExample(
                        "With details",
                        value={
                            "status": "ok",
                            "database": "ok",
                            "details": {
                                "email": {
                                    "queued": 2,
                                    "running": 1,
                                    "failed": 0,
                                    "sent": 120,
                                    "dropped": 0,
                                    "oldest_queued_seconds": 3.5,
                                }
                            },
                        },
                    )
                ],
            ),
        },
        tags=["health"],
    )
    def get(self, request):
        detail = request.query_params.get("detail", "")
        if detail not in {"", "1"}:
            # Anything else would be read as "no details" without a word: the caller made a mistake.
            raise ValidationError({"detail": ["Send 1 for the details, or leave it out."]})
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        body: dict[str, Any] = {"status": "ok", "database": "ok"}
        if detail == "1" and self._may_see_details(request):
            body["details"] = health.details()
        return Response(body, status=status.HTTP_200_OK)

    @staticmethod
    def _may_see_details(request) -> bool:
        if request.user.is_authenticated and request.user.is_staff:
            return True
        token = settings.HEALTH_DETAIL_TOKEN
        sent = request.headers.get("X-Health-Token", "")
        return bool(token) and hmac.compare_digest(sent.encode(), token.encode())

"""Project-level views: the health check."""

from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


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

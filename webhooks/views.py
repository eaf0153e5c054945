"""My webhook endpoints (`/webhooks/`): register, list, show, change, delete, rotate the secret, see deliveries.

Only my own endpoints exist for me (another user's answers 404). The API documentation is in webhooks.openapi.
"""

from __future__ import annotations

from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.current import current_user
from idempotency.views import IdempotentWrites
from webhooks import openapi, selectors, services
from webhooks.models import Endpoint
from webhooks.serializers import WebhookDeliverySerializer, WebhookSecretSerializer, WebhookSerializer


@openapi.webhook_viewset
class WebhookViewSet(
    IdempotentWrites,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = WebhookSerializer
    queryset = Endpoint.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Endpoint.objects.none()
        return selectors.endpoints_of(user=current_user(self.request))

    def create(self, request, *args, **kwargs):
        serializer = WebhookSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(owner=request.user, **serializer.validated_data)
        return Response(WebhookSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        serializer = WebhookSerializer(endpoint, data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return Response(WebhookSerializer(endpoint).data)

    def perform_destroy(self, instance: Endpoint) -> None:
        services.endpoint_delete(endpoint=instance)

    @openapi.rotate_secret
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        endpoint = services.endpoint_rotate_secret(endpoint=self.get_object())
        return Response(WebhookSecretSerializer(endpoint).data)

    @openapi.deliveries
    @action(detail=True, methods=["get"])
    def deliveries(self, request, *args, **kwargs):
        page = self.paginate_queryset(selectors.deliveries_of(endpoint=self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

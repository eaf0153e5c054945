"""The OpenAPI documentation of the webhook endpoints, applied to the views in webhooks/views.py by name."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from oneonone.schema import ERROR_REF
from webhooks.models import MAX_ENDPOINTS_PER_USER
from webhooks.serializers import WebhookDeliverySerializer, WebhookSecretSerializer, WebhookSerializer

TAGS = ["webhooks"]
WEBHOOK_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The webhook endpoint's id.")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 (an example in the docs)
EXAMPLE = {
    "id": 7,
    "url": "https://hooks.example.com/oneonone",
    "description": "Calendar sync",
    "events": ["calendar.finalized", "calendar.unfinalized"],
    "active": True,
    "disabled_at": None,
    "disabled_reason": "",
    "created_at": "2030-01-02T09:00:00Z",
    "updated_at": "2030-01-02T09:00:00Z",
}
NO_ENDPOINT = OpenApiResponse(ERROR_REF, description="No webhook of mine has this id.")

webhook_viewset = extend_schema_view(
    list=extend_schema(
        operation_id="webhooks_list",
        summary="List my webhooks",
        description="My webhook endpoints, oldest first; paginated. Secrets are never listed.",
        tags=TAGS,
    ),
    create=extend_schema(
        operation_id="webhooks_create",
        summary="Register a webhook",
        description=(
            "Registers an endpoint of mine for the events listed. The answer holds its signing secret "
            "(`whsec_...`), shown this once. The URL must be https and its host must resolve to public "
            "addresses only (checked now and again at every delivery); 400 names the reason otherwise. "
            f"At most {MAX_ENDPOINTS_PER_USER} per user (400). Events are POSTed signed as Standard Webhooks "
            "specifies (`webhook-id`, `webhook-timestamp`, `webhook-signature`); see docs/webhooks.md."
        ),
        request=WebhookSerializer,
        responses={201: OpenApiResponse(WebhookSecretSerializer, description="Registered; keep the secret.")},
        examples=[
            OpenApiExample(
                "Register",
                value={
                    "url": "https://hooks.example.com/oneonone",
                    "events": ["calendar.finalized", "calendar.unfinalized"],
                    "description": "Calendar sync",
                },
                request_only=True,
            ),
            OpenApiExample("Registered", value={**EXAMPLE, "secret": SECRET}, response_only=True, status_codes=["201"]),
        ],
        tags=TAGS,
    ),
    retrieve=extend_schema(
        operation_id="webhooks_retrieve",
        parameters=[WEBHOOK_ID],
        summary="Show one of my webhooks",
        description="Another user's webhook answers 404, as one that does not exist. The secret is not shown.",
        responses={200: WebhookSerializer, 404: NO_ENDPOINT},
        tags=TAGS,
    ),
    partial_update=extend_schema(
        operation_id="webhooks_partial_update",
        parameters=[WEBHOOK_ID],
        summary="Change a webhook",
        description=(
            "Changes the URL (checked as on registration), the events, the description, or `active`: false "
            "pauses deliveries, true resumes them (also after the service disabled the endpoint, which clears "
            "`disabled_at` and `disabled_reason`)."
        ),
        request=WebhookSerializer,
        responses={200: WebhookSerializer, 404: NO_ENDPOINT},
        examples=[OpenApiExample("Resume", value={"active": True}, request_only=True)],
        tags=TAGS,
    ),
    destroy=extend_schema(
        operation_id="webhooks_destroy",
        parameters=[WEBHOOK_ID],
        summary="Delete a webhook",
        description="Deletes the endpoint and its deliveries; nothing more is sent to it.",
        responses={204: OpenApiResponse(description="Deleted."), 404: NO_ENDPOINT},
        tags=TAGS,
    ),
)

rotate_secret = extend_schema(
    operation_id="webhooks_rotate_secret",
    parameters=[WEBHOOK_ID],
    summary="Rotate a webhook's secret",
    description=(
        "Makes a new signing secret and answers it, this once. For `WEBHOOK_SECRET_OVERLAP_HOURS` (24) "
        "every delivery is signed with both the new and the old secret (two signatures in "
        "`webhook-signature`), so a receiver can switch without losing a delivery. No request body."
    ),
    request=None,
    responses={200: OpenApiResponse(WebhookSecretSerializer, description="The new secret."), 404: NO_ENDPOINT},
    tags=TAGS,
)

deliveries = extend_schema(
    operation_id="webhooks_deliveries_list",
    parameters=[WEBHOOK_ID],
    summary="Recent deliveries of a webhook",
    description=(
        "The events sent (or being sent) to this endpoint, newest first; paginated. Each shows its status "
        "(`queued`, `sending`, `succeeded`, `failed`), the attempts made, the last answer's status and "
        "duration, and its latest attempts. Finished deliveries are kept "
        "`WEBHOOK_DELIVERY_RETENTION_DAYS` (30)."
    ),
    responses={200: WebhookDeliverySerializer(many=True), 404: NO_ENDPOINT},
    tags=TAGS,
)

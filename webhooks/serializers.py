"""Shapes of webhooks: an endpoint (and its secret, shown once), its deliveries and their attempts."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webhooks import safety
from webhooks.models import MAX_URL_LENGTH, Delivery, DeliveryAttempt, Endpoint, EventType
from webhooks.selectors import RECENT_ATTEMPTS


class StrictBooleanField(serializers.BooleanField):
    """`true` or `false`: a JSON boolean in JSON (DRF would also take 0, 1, "yes"...), the words in a form."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        request = self.context.get("request")
        in_form = request is not None and not (request.content_type or "").startswith("application/json")
        if in_form and isinstance(data, str) and data.lower() in {"true", "false"}:
            return data.lower() == "true"
        self.fail("invalid", input=data)


class WebhookSerializer(serializers.ModelSerializer):
    """One of my webhook endpoints: where events go and which ones (never its secret)."""

    url = serializers.CharField(
        max_length=MAX_URL_LENGTH,
        help_text=(
            "Where events are POSTed: https (plain http only where the server allows it), a host that resolves "
            "to public addresses only; no user name, password or fragment."
        ),
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        allow_empty=False,
        max_length=len(EventType),
        help_text="The event types to receive (at least one; docs/webhooks.md shows each payload).",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    active = StrictBooleanField(
        required=False,
        default=True,
        help_text=(
            "Whether events are sent. Set false to pause; the service sets it false after repeated failures "
            "(see `disabled_reason`); set true to resume."
        ),
    )

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "disabled_at", "disabled_reason", "created_at", "updated_at"]

    def validate_url(self, value: str) -> str:
        try:
            safety.check_registration(value)
        except safety.UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("An event type is listed twice.")
        return value


class WebhookSecretSerializer(WebhookSerializer):
    """A webhook endpoint with its signing secret: answered only when it is made or rotated, so keep it."""

    secret = serializers.CharField(
        read_only=True,
        help_text=(
            "The signing secret (`whsec_` + base64), for a Standard Webhooks library. Shown only now; "
            "`POST /webhooks/{id}/rotate-secret/` makes a new one."
        ),
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSerializer.Meta.read_only_fields, "secret"]

    def get_fields(self):
        # Only ever an answer (create and rotate read input with WebhookSerializer): every field is read-only,
        # so the `WebhookSecret` component marks them all required, as they are always answered.
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


class WebhookAttemptSerializer(serializers.ModelSerializer):
    """One POST of a delivery and its answer."""

    succeeded = serializers.BooleanField(read_only=True, help_text="Whether the answer was 2xx.")

    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "response_status", "duration_ms", "succeeded", "error"]
        read_only_fields = fields
        extra_kwargs = {
            "response_status": {"help_text": "The HTTP status answered; null when none came (refused, timed out)."},
            "duration_ms": {"help_text": "Milliseconds from the start of the attempt to the end of the answer."},
        }


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event sent to the endpoint: where it stands, the last answer, and the latest attempts."""

    recent_attempts = serializers.SerializerMethodField(
        help_text=f"The latest attempts, newest first (at most {RECENT_ATTEMPTS})."
    )

    class Meta:
        model = Delivery
        fields = [
            "id",
            "message_id",
            "event_type",
            "status",
            "attempts",
            "response_status",
            "duration_ms",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "recent_attempts",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "message_id": {"help_text": "The `webhook-id` header: the same on every attempt (an idempotency key)."},
            "attempts": {"help_text": "Attempts made so far."},
            "response_status": {"help_text": "The last attempt's HTTP status; null when none came."},
            "duration_ms": {"help_text": "The last attempt's duration in milliseconds."},
            "next_attempt_at": {"help_text": "When the next attempt is due (while queued)."},
        }

    @extend_schema_field(WebhookAttemptSerializer(many=True))
    def get_recent_attempts(self, delivery: Delivery) -> list[dict]:
        attempts = delivery.attempt_log.all()[:RECENT_ATTEMPTS]  # prefetched by webhooks.selectors
        # djangorestframework-stubs gap: many=True makes a ListSerializer, whose .data is a list, not a ReturnDict.
        return WebhookAttemptSerializer(attempts, many=True).data  # type: ignore[return-value]

"""Webhook endpoints and deliveries in the admin: what waits, what failed and why; failed ones can be retried."""

from __future__ import annotations

from django.contrib import admin, messages

from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint
from webhooks.tasks import requeue


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "url", "active", "failure_streak", "disabled_at", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "owner__username"]
    # The secrets stay out of the admin: the owner saw them once, and rotates them through the API.
    exclude = ["secret", "previous_secret"]
    readonly_fields = ["owner", "slot", "previous_secret_until", "disabled_at", "failure_streak"]


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "started_at", "response_status", "duration_ms", "error"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "endpoint", "status", "attempts", "response_status", "next_attempt_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["message_id", "endpoint__url"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [AttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Send the selected failed deliveries again (another day of retries)")
    def retry(self, request, queryset):
        count = requeue(queryset.filter(status=DeliveryStatus.FAILED), fresh_window=True)
        self.message_user(request, f"Queued {count} delivery(ies) again.", messages.SUCCESS)

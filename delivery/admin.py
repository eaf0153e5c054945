"""The outbox in the admin: what waits, what was sent, what failed and why; failed ones can be retried."""

from __future__ import annotations

from django.contrib import admin, messages

from delivery.health import email_stats
from delivery.models import Email, EmailStatus, PeriodicRun
from delivery.tasks import requeue


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "to", "status", "attempts", "next_attempt_at", "sent_at", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject", "key"]
    readonly_fields = [f.name for f in Email._meta.fields] + ["message_id"]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        stats = email_stats()
        self.message_user(
            request,
            "Queue: {queued} queued, {running} being sent, {failed} failed; oldest queued {oldest} s.".format(
                oldest=stats["oldest_queued_seconds"] if stats["oldest_queued_seconds"] is not None else "-", **stats
            ),
            messages.INFO,
        )
        return super().changelist_view(request, extra_context)

    @admin.action(description="Send the selected failed emails again")
    def retry(self, request, queryset):
        count = requeue(queryset.filter(status=EmailStatus.FAILED), fresh_attempts=True)
        self.message_user(request, f"Queued {count} email(s) again.", messages.SUCCESS)


@admin.register(PeriodicRun)
class PeriodicRunAdmin(admin.ModelAdmin):
    list_display = ["name", "next_run_at"]

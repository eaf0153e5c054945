"""The outbox and the task queue in `GET /healthz/?detail=1` (and the admin): what waits, what failed, for how long."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min
from django.utils import timezone

from delivery.models import Email, EmailStatus
from oneonone import health


def email_stats() -> dict[str, Any]:
    counts = dict(Email.objects.values_list("status").annotate(n=Count("pk")).order_by())
    oldest = Email.objects.filter(status=EmailStatus.QUEUED).aggregate(at=Min("created_at"))["at"]
    return {
        "queued": counts.get(EmailStatus.QUEUED, 0),
        "running": counts.get(EmailStatus.SENDING, 0),
        "failed": counts.get(EmailStatus.FAILED, 0),
        "sent": counts.get(EmailStatus.SENT, 0),
        "dropped": counts.get(EmailStatus.DROPPED, 0),
        "oldest_queued_seconds": round((timezone.now() - oldest).total_seconds(), 1) if oldest else None,
    }


def register_queue_stats() -> None:
    health.register("email", email_stats)

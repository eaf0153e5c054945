"""The outbox and the task queue in `GET /healthz/?detail=1` (and the admin): what waits, what failed, for how long."""

from __future__ import annotations

from typing import Any

from delivery.models import Email, EmailStatus
from oneonone import health


def email_stats() -> dict[str, Any]:
    counts = health.by_status(Email.objects.all())
    return {
        "queued": counts.get(EmailStatus.QUEUED, 0),
        "running": counts.get(EmailStatus.SENDING, 0),
        "failed": counts.get(EmailStatus.FAILED, 0),
        "sent": counts.get(EmailStatus.SENT, 0),
        "dropped": counts.get(EmailStatus.DROPPED, 0),
        "oldest_queued_seconds": health.seconds_since_oldest(Email.objects.filter(status=EmailStatus.QUEUED)),
    }


def register_queue_stats() -> None:
    health.register("email", email_stats)

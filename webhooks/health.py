"""Webhook deliveries in `GET /healthz/?detail=1`: what waits, what failed, for how long, disabled endpoints."""

from __future__ import annotations

from typing import Any

from oneonone import health
from webhooks.models import Delivery, DeliveryStatus, Endpoint


def webhook_stats() -> dict[str, Any]:
    counts = health.by_status(Delivery.objects.all())
    return {
        "queued": counts.get(DeliveryStatus.QUEUED, 0),
        "running": counts.get(DeliveryStatus.SENDING, 0),
        "failed": counts.get(DeliveryStatus.FAILED, 0),
        "succeeded": counts.get(DeliveryStatus.SUCCEEDED, 0),
        "oldest_queued_seconds": health.seconds_since_oldest(Delivery.objects.filter(status=DeliveryStatus.QUEUED)),
        "endpoints_disabled": Endpoint.objects.filter(disabled_at__isnull=False).count(),
    }


def register_stats() -> None:
    health.register("webhooks", webhook_stats)

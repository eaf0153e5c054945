"""Webhook deliveries in `GET /healthz/?detail=1`: what waits, what failed, for how long, disabled endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min
from django.utils import timezone

from oneonone import health
from webhooks.models import Delivery, DeliveryStatus, Endpoint


def webhook_stats() -> dict[str, Any]:
    counts = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")).order_by())
    oldest = Delivery.objects.filter(status=DeliveryStatus.QUEUED).aggregate(at=Min("created_at"))["at"]
    return {
        "queued": counts.get(DeliveryStatus.QUEUED, 0),
        "running": counts.get(DeliveryStatus.SENDING, 0),
        "failed": counts.get(DeliveryStatus.FAILED, 0),
        "succeeded": counts.get(DeliveryStatus.SUCCEEDED, 0),
        "oldest_queued_seconds": round((timezone.now() - oldest).total_seconds(), 1) if oldest else None,
        "endpoints_disabled": Endpoint.objects.filter(disabled_at__isnull=False).count(),
    }


def register_stats() -> None:
    health.register("webhooks", webhook_stats)

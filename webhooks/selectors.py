"""Reads on webhooks, scoped to their owner: someone else's endpoint does not exist (404)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet

from webhooks.models import Delivery, DeliveryAttempt, Endpoint

if TYPE_CHECKING:
    from accounts.models import User

# How many of a delivery's attempts its entry in the list shows (the latest).
RECENT_ATTEMPTS = 10


def endpoints_of(*, user: User) -> QuerySet[Endpoint]:
    """The user's endpoints, oldest first."""
    return Endpoint.objects.owned_by(user).order_by("id")


def deliveries_of(*, endpoint: Endpoint) -> QuerySet[Delivery]:
    """An endpoint's deliveries, newest first, each with its attempts (two queries a page)."""
    return (
        Delivery.objects.filter(endpoint=endpoint)
        .defer("payload")
        .prefetch_related(Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("-number")))
        .order_by("-id")
    )

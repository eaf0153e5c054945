"""Writes on webhooks: register, change, rotate and delete an endpoint, and queue an event; each one transaction.

A URL is checked (webhooks.safety) by the serializer before any of these run, so no transaction
waits for DNS. An event is queued inside the transaction of the change that caused it (the signal
receivers in webhooks.events): one delivery row per listening endpoint, each with its task, so a
rolled-back change sends nothing and a committed one is never lost (docs/webhooks.md).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from delivery import queue
from oneonone.exceptions import Conflict
from webhooks.models import MAX_ENDPOINTS_PER_USER, Delivery, Endpoint, new_secret
from webhooks.tasks import deliver

if TYPE_CHECKING:
    from accounts.models import User

ENDPOINTS_FULL = f"You have {MAX_ENDPOINTS_PER_USER} webhooks, the most allowed; delete one first."
RACE_LOST = "Another webhook was registered at the same moment; try again."


def _timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


@transaction.atomic
def endpoint_create(
    *, owner: User, url: str, events: Iterable[str], description: str = "", active: bool = True
) -> Endpoint:
    """Register an endpoint of `owner` with a fresh secret; 400 when they have MAX_ENDPOINTS_PER_USER already.

    Each endpoint takes the lowest free slot of its owner; the unique (owner, slot) constraint and the
    slot's range hold the cap, so two registrations at once cannot both take the last one.
    """
    for _attempt in range(2):
        used = set(Endpoint.objects.filter(owner=owner).values_list("slot", flat=True))
        free = next((slot for slot in range(1, MAX_ENDPOINTS_PER_USER + 1) if slot not in used), None)
        if free is None:
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [ENDPOINTS_FULL]})
        endpoint = Endpoint(
            owner=owner, slot=free, url=url, description=description, active=active, secret=new_secret()
        )
        endpoint.set_events(events)
        try:
            with transaction.atomic():
                endpoint.save()
        except IntegrityError:
            continue  # the slot went to a registration at the same moment: look again
        return endpoint
    raise Conflict(RACE_LOST)


@transaction.atomic
def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> Endpoint:
    """Change what was sent; turning an endpoint back on clears why it was disabled and its failure count."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if url is not None:
        endpoint.url = url
    if events is not None:
        endpoint.set_events(events)
    if description is not None:
        endpoint.description = description
    if active is not None:
        if active and not endpoint.active:
            endpoint.disabled_at, endpoint.disabled_reason, endpoint.failure_streak = None, "", 0
        endpoint.active = active
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint) -> Endpoint:
    """A new signing secret; the old one signs too (a second signature) for WEBHOOK_SECRET_OVERLAP_HOURS."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    overlap = datetime.timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    if overlap:
        endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, timezone.now() + overlap
    else:
        endpoint.previous_secret, endpoint.previous_secret_until = "", None
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint) -> None:
    """Delete the endpoint with its deliveries; a delivery in flight finds it gone and stops."""
    Endpoint.objects.filter(pk=endpoint.pk).delete()


def queue_event(event_type: str, *, owners: Iterable[int], build: Callable[[], dict[str, Any]]) -> list[Delivery]:
    """Queue `event_type` to every active endpoint of `owners` (user ids) that listens to it.

    `build()` makes the event's `data`; it runs only when some endpoint listens, so an event nobody
    subscribed to costs one query. Runs in the caller's transaction.
    """
    endpoints = list(Endpoint.objects.listening(event_type, owners=set(owners)).values_list("pk", flat=True))
    if not endpoints:
        return []
    now = timezone.now()
    body = json.dumps(
        {"type": event_type, "timestamp": _timestamp(now), "data": build()},
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    give_up_at = now + datetime.timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(endpoint_id=pk, event_type=event_type, payload=body, next_attempt_at=now, give_up_at=give_up_at)
            for pk in endpoints
        ]
    )
    for delivery in deliveries:
        queue.enqueue(deliver, delivery.pk)
    return deliveries

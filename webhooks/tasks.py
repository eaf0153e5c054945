"""The tasks that deliver webhooks: one delivery per task, retried with backoff for about a day, and the sweep.

Mirrors delivery.tasks (docs/deploy.md, "The worker"):

- at least once: a failed attempt (no answer, a timeout, a non-2xx status, an address refused by
  webhooks.safety) is retried after an exponential backoff with full jitter (WEBHOOK_RETRY_BASE_SECONDS
  x 2^(attempt-1), at most WEBHOOK_RETRY_MAX_SECONDS, later if the answer's Retry-After asks for it)
  while the next attempt falls within WEBHOOK_RETRY_WINDOW_SECONDS (a day) of the event; then the
  delivery is failed. A 410 Gone fails it at once and disables the endpoint, as Standard Webhooks says;
- every attempt is a row (DeliveryAttempt) and the delivery keeps the last answer;
- a delivery is claimed under a row lock and only while it is queued and due, so a task run twice
  sends once; every attempt carries the same `webhook-id`, signed anew with the attempt's timestamp;
- WEBHOOK_DISABLE_AFTER_FAILURES deliveries of one endpoint failed for good in a row disable it, and its
  owner is emailed (delivery.mail); a success resets the count. A disabled or paused endpoint's queued
  deliveries are failed without an attempt.
"""

from __future__ import annotations

import datetime
import logging
import random
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_tasks import task

from delivery import queue
from delivery.mail import queue_email
from webhooks import signing, transport
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint

logger = logging.getLogger(__name__)

PAUSED = "the endpoint is not active (paused by its owner, or disabled); nothing was sent"


def backoff(attempts: int, *, retry_after: int | None = None) -> datetime.timedelta:
    """Full jitter up to base x 2^(attempts - 1), capped; never sooner than the receiver's Retry-After."""
    ceiling = min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1), settings.WEBHOOK_RETRY_MAX_SECONDS)
    wait = random.uniform(ceiling / 2, ceiling)  # noqa: S311 (timing, not secrets)
    if retry_after is not None:
        wait = max(wait, min(retry_after, settings.WEBHOOK_RETRY_MAX_SECONDS))
    return datetime.timedelta(seconds=wait)


def _claim(delivery_id: int) -> tuple[Delivery, Endpoint] | None:
    """Mark the delivery as being sent, if it is still queued and due; None otherwise."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",)).select_related("endpoint").filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.status != DeliveryStatus.QUEUED or delivery.next_attempt_at > timezone.now():
            return None
        if not delivery.endpoint.active:
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, PAUSED
            delivery.save(update_fields=["status", "last_error", "updated_at"])
            return None
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.save(update_fields=["status", "attempts", "updated_at"])
        return delivery, delivery.endpoint


def signing_secrets(endpoint: Endpoint, now: datetime.datetime) -> list[str]:
    """The current secret, and the one before it while the rotation's overlap lasts."""
    found = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        found.append(endpoint.previous_secret)
    return found


@task()
def deliver(delivery_id: int) -> str:
    """Make one attempt of a delivery; schedule the next one, or give up, as the module says."""
    claimed = _claim(delivery_id)
    if claimed is None:
        return "nothing to do"
    delivery, endpoint = claimed
    body = delivery.payload.encode()
    started_at = timezone.now()
    headers = signing.headers(
        secrets=signing_secrets(endpoint, started_at),
        message_id=delivery.message_id,
        timestamp=int(time.time()),
        body=body,
    )
    outcome = transport.post(endpoint.url, body, headers)
    return record(delivery.pk, attempt=delivery.attempts, started_at=started_at, outcome=outcome)


def record(delivery_id: int, *, attempt: int, started_at: datetime.datetime, outcome: transport.Outcome) -> str:
    """Write what an attempt came to, and what follows from it, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",)).select_related("endpoint").filter(pk=delivery_id).first()
        )
        if delivery is None:  # the endpoint (or its owner) was deleted meanwhile
            return "gone"
        error = outcome.error[:2000]
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=attempt,
            started_at=started_at,
            response_status=outcome.status,
            duration_ms=outcome.duration_ms,
            error=error,
        )
        delivery.response_status, delivery.duration_ms, delivery.last_error = (
            outcome.status,
            outcome.duration_ms,
            error,
        )
        fields = ["status", "response_status", "duration_ms", "last_error", "updated_at"]
        if outcome.succeeded:
            delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, now
            delivery.save(update_fields=[*fields, "delivered_at"])
            Endpoint.objects.filter(pk=delivery.endpoint_id, failure_streak__gt=0).update(failure_streak=0)
            return "succeeded"
        if outcome.status == 410:
            delivery.status = DeliveryStatus.FAILED
            delivery.save(update_fields=fields)
            _disable(delivery.endpoint_id, reason="The endpoint answered 410 Gone: it wants no more deliveries.")
            return "failed: 410 Gone"
        next_attempt = now + backoff(attempt, retry_after=outcome.retry_after)
        if next_attempt <= delivery.give_up_at:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.QUEUED, next_attempt
            delivery.save(update_fields=[*fields, "next_attempt_at"])
            queue.enqueue(deliver, delivery.pk, run_after=next_attempt)
            logger.info("webhook %s attempt %s failed, retrying at %s: %s", delivery.pk, attempt, next_attempt, error)
            return "retrying"
        delivery.status = DeliveryStatus.FAILED
        delivery.save(update_fields=fields)
        Endpoint.objects.filter(pk=delivery.endpoint_id).update(failure_streak=F("failure_streak") + 1)
        streak = Endpoint.objects.filter(pk=delivery.endpoint_id).values_list("failure_streak", flat=True).first()
        if streak is not None and streak >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
            _disable(
                delivery.endpoint_id,
                reason=f"{streak} deliveries in a row failed after every retry; the last: {error[:200]}",
            )
    logger.warning("webhook %s failed for good after %s attempt(s): %s", delivery_id, attempt, error)
    return "failed"


def _disable(endpoint_id: int, *, reason: str) -> None:
    """Stop deliveries to an endpoint and tell its owner by email (in the caller's transaction)."""
    endpoint = Endpoint.objects.select_for_update().select_related("owner").filter(pk=endpoint_id).first()
    if endpoint is None or not endpoint.active:
        return
    endpoint.active, endpoint.disabled_at, endpoint.disabled_reason = False, timezone.now(), reason[:300]
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
    logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)
    queue_email(
        key=f"webhook_disabled:{endpoint.pk}:{endpoint.disabled_at.timestamp()}",
        kind="webhook_disabled",
        recipient=endpoint.owner,
        subject=f"Webhook disabled: {endpoint.url[:200]}",
        body=(
            f"Hello {endpoint.owner.username},\n\n"
            f"OneOnOne stopped sending events to your webhook {endpoint.url} (id {endpoint.pk}):\n\n"
            f"    {endpoint.disabled_reason}\n\n"
            f"The recent attempts are at GET /webhooks/{endpoint.pk}/deliveries/. Once the endpoint answers "
            f'again, turn it back on with PATCH /webhooks/{endpoint.pk}/ {{"active": true}}.\n'
        ),
    )


def requeue(deliveries: QuerySet[Delivery], *, fresh_window: bool = False) -> int:
    """Put deliveries back in the queue now (the sweep, and a retry by hand in the admin); returns how many.

    `fresh_window` gives a failed delivery another WEBHOOK_RETRY_WINDOW_SECONDS of retries.
    """
    count = 0
    now = timezone.now()
    changes = {"status": DeliveryStatus.QUEUED, "next_attempt_at": now, "updated_at": now}
    if fresh_window:
        changes["give_up_at"] = now + datetime.timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    waiting = [DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.FAILED]
    for delivery_id in deliveries.values_list("pk", flat=True):
        with transaction.atomic():
            if Delivery.objects.filter(pk=delivery_id, status__in=waiting).update(**changes):
                queue.enqueue(deliver, delivery_id)
                count += 1
    return count


@task()
def sweep() -> str:
    """The safety net, run periodically: what a killed worker left half-sent or never queued, and old rows.

    A delivery `sending` for longer than WEBHOOK_SEND_LEASE_SECONDS belongs to a worker that died: it
    is queued again (the receiver may get that attempt twice, with the same `webhook-id`). One `queued`
    and overdue by as long lost its task (Redis down at the commit): it is enqueued again. Finished
    deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS are deleted with their attempts.
    """
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.WEBHOOK_SEND_LEASE_SECONDS)
    stuck = Delivery.objects.filter(status=DeliveryStatus.SENDING, updated_at__lt=cutoff)
    lost = Delivery.objects.filter(status=DeliveryStatus.QUEUED, next_attempt_at__lt=cutoff)
    found = requeue(stuck) + requeue(lost)
    old = timezone.now() - datetime.timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    pruned, _ = Delivery.objects.filter(
        created_at__lt=old, status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED]
    ).delete()
    if found:
        logger.warning("webhook sweep: %s delivery(ies) queued again", found)
    return f"{found} queued again, {pruned} old rows deleted"

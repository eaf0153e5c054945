"""Webhook endpoints, the deliveries of events to them, and each delivery's attempts.

An endpoint belongs to one user (at most MAX_ENDPOINTS_PER_USER, held by a numbered slot), says
which events it wants (one flag per event type, at least one set) and holds its signing secret.
A delivery is one event for one endpoint: the exact body, signed again at each attempt, with its
status, attempts and the last answer; it is written in the transaction of the change that caused
the event, with its task (docs/webhooks.md).
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from accounts.models import User

MAX_ENDPOINTS_PER_USER = 10
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix, not a secret)
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 random bytes
MAX_URL_LENGTH = 2000


class EventType(models.TextChoices):
    """The events an endpoint can subscribe to (their payloads: docs/webhooks.md)."""

    INVITATION_CREATED = "invitation.created", "I am invited to a calendar (sent to the invitee)"
    INVITATION_ANSWERED = "invitation.answered", "an invitee answered my invitation (sent to the creator)"
    CALENDAR_FINALIZED = "calendar.finalized", "a meeting I take part in was fixed (sent to every member)"
    CALENDAR_UNFINALIZED = "calendar.unfinalized", "a fixed meeting I take part in is off (sent to every member)"
    CONTACT_REQUESTED = "contact.requested", "someone sent me a friend request (sent to the one asked)"
    CONTACT_ACCEPTED = "contact.accepted", "my friend request was accepted (sent to the one who asked)"


# The flag column of each event type.
EVENT_FIELDS = {event: "on_" + event.value.replace(".", "_") for event in EventType}


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64, as Standard Webhooks libraries read it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    """The `webhook-id` of a delivery: the same on every attempt, never a `.` in it."""
    return f"msg_{uuid.uuid4().hex}"


class EndpointQuerySet(models.QuerySet["Endpoint"]):
    def owned_by(self, user: User) -> EndpointQuerySet:
        return self.filter(owner=user)

    def listening(self, event: str, *, owners: Iterable[int]) -> EndpointQuerySet:
        """Active endpoints of `owners` (user ids) subscribed to `event`."""
        return self.filter(owner_id__in=owners, active=True, **{EVENT_FIELDS[EventType(event)]: True})


class Endpoint(models.Model):
    """A URL of mine that receives the events I chose, signed with its own secret."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    # 1..MAX_ENDPOINTS_PER_USER, unique per owner: the database holds the cap (see the constraints).
    slot = models.PositiveSmallIntegerField()
    url = models.CharField(max_length=MAX_URL_LENGTH)
    description = models.CharField(max_length=200, blank=True, default="")
    on_invitation_created = models.BooleanField(default=False)
    on_invitation_answered = models.BooleanField(default=False)
    on_calendar_finalized = models.BooleanField(default=False)
    on_calendar_unfinalized = models.BooleanField(default=False)
    on_contact_requested = models.BooleanField(default=False)
    on_contact_accepted = models.BooleanField(default=False)
    # Kept to sign with: the receiver must be able to check it. Shown once, when made or rotated.
    secret = models.CharField(max_length=120)
    # After a rotation the old secret signs too (a second signature) until this time, so a receiver
    # can switch without losing a delivery (WEBHOOK_SECRET_OVERLAP_HOURS).
    previous_secret = models.CharField(max_length=120, blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    # Why deliveries stopped: set when the service disabled the endpoint (repeated failures, 410 Gone).
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    # Deliveries failed for good in a row; a success resets it (WEBHOOK_DISABLE_AFTER_FAILURES).
    failure_streak = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "slot"], name="webhook_endpoint_slot_unique"),
            models.CheckConstraint(
                condition=Q(slot__gte=1, slot__lte=MAX_ENDPOINTS_PER_USER), name="webhook_endpoint_slot_range"
            ),
            models.CheckConstraint(
                condition=reduce(or_, (Q(**{field: True}) for field in EVENT_FIELDS.values())),
                name="webhook_endpoint_some_event",
            ),
            models.CheckConstraint(condition=Q(secret__startswith=SECRET_PREFIX), name="webhook_endpoint_secret_form"),
            models.CheckConstraint(condition=~Q(url=""), name="webhook_endpoint_url_set"),
            models.CheckConstraint(
                condition=Q(previous_secret="", previous_secret_until__isnull=True)
                | Q(previous_secret__startswith=SECRET_PREFIX, previous_secret_until__isnull=False),
                name="webhook_endpoint_previous_secret_whole",
            ),
            models.CheckConstraint(
                condition=Q(disabled_at__isnull=True) | Q(active=False), name="webhook_endpoint_disabled_inactive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.owner_id})"

    @property
    def events(self) -> list[str]:
        return [event.value for event, field in EVENT_FIELDS.items() if getattr(self, field)]

    def set_events(self, events: Iterable[str]) -> None:
        for event, field in EVENT_FIELDS.items():
            setattr(self, field, event.value in set(events))


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "waiting for the worker (or for its next attempt)"
    SENDING = "sending", "an attempt is in progress"
    SUCCEEDED = "succeeded", "the endpoint answered 2xx"
    FAILED = "failed", "given up: every attempt for a day failed, the endpoint answered 410, or it is disabled"


class Delivery(models.Model):
    """One event for one endpoint: the exact body sent on every attempt, and where it stands."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True, default=new_message_id)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    # The JSON body as sent and signed: the same bytes on every attempt.
    payload = models.TextField()
    status = models.CharField(max_length=9, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # No retry is scheduled after this (WEBHOOK_RETRY_WINDOW_SECONDS after the event, or a retry by hand).
    give_up_at = models.DateTimeField()
    # The last attempt's answer.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"),
            models.CheckConstraint(
                condition=Q(event_type__in=EventType.values), name="webhook_delivery_event_type_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SUCCEEDED) | Q(delivered_at__isnull=False),
                name="webhook_delivery_succeeded_has_time",
            ),
            models.CheckConstraint(
                condition=Q(response_status__isnull=True) | Q(response_status__gte=100, response_status__lte=599),
                name="webhook_delivery_response_status_http",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_status_next"),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint"),
            models.Index(fields=["created_at"], name="webhook_delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}: {self.status}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery and what came of it."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    # Null when no HTTP answer came (refused, timed out, connection lost, an unsafe address).
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="webhook_attempt_number_positive"),
            models.CheckConstraint(
                condition=Q(response_status__isnull=True) | Q(response_status__gte=100, response_status__lte=599),
                name="webhook_attempt_response_status_http",
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.response_status}"

    @property
    def succeeded(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300

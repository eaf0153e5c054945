"""Queue an email: one outbox row per notice and recipient, sent by a task (delivery.tasks.send_email).

Every app sends mail through `queue_email`, inside the transaction of the change that causes it:

- only to a verified address (the verification message itself excepted), checked again when it is sent;
- at most once per `key` (name the notice and the recipient in it): a retried request queues nothing new;
- within the caps per recipient address and per sender an hour (EMAIL_RECIPIENT_HOURLY_CAP,
  EMAIL_SENDER_HOURLY_CAP): what is over is recorded as dropped and logged, never sent.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery import queue
from delivery.models import Email, EmailStatus, has_verified_address
from delivery.tasks import send_email

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # AUTH_USER_MODEL's class (delivery.models)

logger = logging.getLogger(__name__)

CAP_WINDOW = datetime.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A text attachment; `method` is the iCalendar method calendar apps look for on the part (RFC 6047)."""

    filename: str
    content: str
    mimetype: str
    method: str | None = None


def _over_cap(*, to: str, sender: User | None) -> str | None:
    since = timezone.now() - CAP_WINDOW
    recent = Email.objects.filter(created_at__gte=since).exclude(status=EmailStatus.DROPPED)
    if recent.filter(to__iexact=to).count() >= settings.EMAIL_RECIPIENT_HOURLY_CAP:
        return f"over the cap of {settings.EMAIL_RECIPIENT_HOURLY_CAP} emails an hour to one address"
    if sender is not None and recent.filter(sender=sender).count() >= settings.EMAIL_SENDER_HOURLY_CAP:
        return f"over the cap of {settings.EMAIL_SENDER_HOURLY_CAP} emails an hour caused by one user"
    return None


def queue_email(
    *,
    key: str,
    kind: str,
    recipient: User,
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
    sender: User | None = None,
    needs_verified_address: bool = True,
) -> Email | None:
    """Queue one message to `recipient`'s address; None when nothing was queued (see the module's rules)."""
    to = recipient.email
    if not to:
        return None
    if needs_verified_address and not has_verified_address(recipient):
        logger.info("%s for user %s not queued: address not verified", kind, recipient.pk)
        return None
    refusal = _over_cap(to=to, sender=sender)
    # A title may hold line breaks; a mail header may not.
    subject = " ".join(subject.split())
    fields = {
        "kind": kind,
        "recipient": recipient,
        "sender": sender,
        "to": to,
        "subject": subject,
        "body": body,
        "attachments": [asdict(attachment) for attachment in attachments],
        "needs_verified_address": needs_verified_address,
        "next_attempt_at": timezone.now(),
    }
    if refusal:
        fields.update(status=EmailStatus.DROPPED, last_error=refusal)
    try:
        with transaction.atomic():
            email = Email.objects.create(key=key, **fields)
    except IntegrityError:
        # Queued before under this key (a retried request, a notice raised twice): once is enough.
        return None
    if refusal:
        logger.warning("%s to %s dropped: %s", kind, to, refusal)
        return email
    queue.enqueue(send_email, email.pk)
    return email

"""The tasks that deliver: one email per task, retried with backoff, and the sweep that finds what was lost.

Written against the tasks API of Django (`django.tasks` from Django 6; here its backport `django_tasks`),
so they move to the built-in module unchanged. Delivery semantics (docs/deploy.md, "Delivery"):

- at least once: a temporary failure (connection refused or lost, a timeout, a 4xx SMTP reply) is
  retried with exponential backoff and full jitter, up to EMAIL_MAX_ATTEMPTS; a permanent refusal
  (a 5xx reply) fails at once, since sending again cannot help; either way the row keeps the last error;
- one message per task, so a bad address fails alone;
- a row is claimed under a row lock and only while it is due, so a task run twice (or enqueued twice
  by the sweep) sends once; every attempt carries the same Message-ID (Email.message_id).
"""

from __future__ import annotations

import datetime
import logging
import random
import smtplib
import socket
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks import task

from delivery import queue
from delivery.models import Email, EmailStatus, has_verified_address

logger = logging.getLogger(__name__)


def backoff(attempts: int) -> datetime.timedelta:
    """Full jitter: a random wait up to base * 2^(attempts - 1), capped (AWS's "exponential backoff and jitter")."""
    ceiling = min(settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (attempts - 1), settings.EMAIL_RETRY_MAX_SECONDS)
    return datetime.timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 (timing, not secrets)


def is_temporary(exc: BaseException) -> bool:
    """Whether sending again later may succeed: lost connections, timeouts and 4xx replies, not 5xx."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return not 500 <= exc.smtp_code < 600
    return isinstance(exc, (OSError, smtplib.SMTPException, socket.timeout))


def describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{to}: {code} {reply.decode(errors='replace')}" for to, (code, reply) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        return f"{exc.smtp_code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
    return f"{type(exc).__name__}: {exc}"


def build_message(email: Email) -> EmailMessage:
    message = EmailMessage(
        subject=email.subject, body=email.body, to=[email.to], headers={"Message-ID": email.message_id}
    )
    for attachment in email.attachments:
        subtype = attachment["mimetype"].split("/", 1)[1]
        part = MIMEText(attachment["content"], subtype, "utf-8")
        if attachment.get("method"):
            part.set_param("method", attachment["method"])
        part.add_header("Content-Disposition", "attachment", filename=attachment["filename"])
        message.attach(part)
    return message


def _claim(email_id: int) -> Email | None:
    """Mark the row as being sent, if it is still waiting and due; None otherwise (sent, failed, not due)."""
    with transaction.atomic():
        email = Email.objects.select_for_update(of=("self",)).select_related("recipient").filter(pk=email_id).first()
        if email is None or email.status != EmailStatus.QUEUED or email.next_attempt_at > timezone.now():
            return None
        if email.needs_verified_address and (
            email.recipient is None
            or not has_verified_address(email.recipient)
            or email.recipient.email.lower() != email.to.lower()
        ):
            email.status, email.last_error = EmailStatus.DROPPED, "the address changed or is not verified any more"
            email.save(update_fields=["status", "last_error", "updated_at"])
            return None
        email.status = EmailStatus.SENDING
        email.attempts += 1
        email.save(update_fields=["status", "attempts", "updated_at"])
        return email


@task()
def send_email(email_id: int) -> str:
    """Send one outbox row; on a temporary failure, schedule the next attempt."""
    email = _claim(email_id)
    if email is None:
        return "nothing to do"
    try:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([build_message(email)])
    except Exception as exc:
        return _failed(email, exc)
    Email.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error="", updated_at=timezone.now()
    )
    return "sent"


def _failed(email: Email, exc: BaseException) -> str:
    error = describe(exc)[:2000]
    with transaction.atomic():
        if is_temporary(exc) and email.attempts < settings.EMAIL_MAX_ATTEMPTS:
            next_attempt = timezone.now() + backoff(email.attempts)
            Email.objects.filter(pk=email.pk).update(
                status=EmailStatus.QUEUED, last_error=error, next_attempt_at=next_attempt, updated_at=timezone.now()
            )
            queue.enqueue(send_email, email.pk, run_after=next_attempt)
            logger.warning(
                "email %s to %s failed (attempt %s), retrying at %s: %s",
                email.pk,
                email.to,
                email.attempts,
                next_attempt,
                error,
            )
            return "retrying"
        Email.objects.filter(pk=email.pk).update(status=EmailStatus.FAILED, last_error=error, updated_at=timezone.now())
    logger.error("email %s to %s failed for good after %s attempt(s): %s", email.pk, email.to, email.attempts, error)
    return "failed"


def requeue(emails: QuerySet[Email], *, fresh_attempts: bool = False) -> int:
    """Put outbox rows back in the queue now (the sweep, and `manage.py retry_emails`); returns how many.

    `fresh_attempts` starts the count of attempts again (a failed row retried by hand).
    """
    count = 0
    now = timezone.now()
    changes = {"status": EmailStatus.QUEUED, "next_attempt_at": now, "updated_at": now}
    if fresh_attempts:
        changes["attempts"] = 0
    waiting = [EmailStatus.QUEUED, EmailStatus.SENDING, EmailStatus.FAILED]
    for email_id in emails.values_list("pk", flat=True):
        with transaction.atomic():
            if Email.objects.filter(pk=email_id, status__in=waiting).update(**changes):
                queue.enqueue(send_email, email_id)
                count += 1
    return count


@task()
def sweep() -> str:
    """The safety net, run periodically: what a killed worker left half-sent, and what never reached the queue.

    A row `sending` for longer than EMAIL_SEND_LEASE_SECONDS belongs to a worker that died (killed,
    out of memory, a lost machine): it is queued again. A row `queued` and overdue by as long was
    never enqueued (Redis down at the commit) or its task was lost: it is enqueued again. Enqueueing
    a row twice is harmless: the task claims it only while it waits and is due.
    """
    lease = datetime.timedelta(seconds=settings.EMAIL_SEND_LEASE_SECONDS)
    cutoff = timezone.now() - lease
    stuck = Email.objects.filter(status=EmailStatus.SENDING, updated_at__lt=cutoff)
    lost = Email.objects.filter(status=EmailStatus.QUEUED, next_attempt_at__lt=cutoff)
    found = requeue(stuck) + requeue(lost)
    if found:
        logger.warning("sweep: %s email(s) queued again", found)
    return f"{found} queued again"

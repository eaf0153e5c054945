"""The periodic task that forgets keys older than IDEMPOTENCY_KEY_HOURS (registered in apps.py)."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django_tasks import task

from idempotency import keys

logger = logging.getLogger(__name__)


def purge_interval() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.IDEMPOTENCY_PURGE_SECONDS)


@task()
def purge_expired_keys() -> str:
    """Delete the keys past their lifetime: one DELETE on the `created_at` index."""
    deleted = keys.purge_expired()
    if deleted:
        logger.info("idempotency: %s expired keys deleted", deleted)
    return f"{deleted} expired keys deleted"

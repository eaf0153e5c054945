"""Periodic tasks without another scheduler: the worker enqueues each one when it is due.

Apps register their periodic tasks here (in their AppConfig.ready): the delivery sweep, and what
later apps need. Every worker process runs `run_due` about once a second; for each task the one
worker whose conditional UPDATE moves `next_run_at` forward enqueues it through the ordinary queue,
so with several workers a run still happens once.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery import queue
from delivery.models import PeriodicRun

if TYPE_CHECKING:
    from django_tasks.base import Task

logger = logging.getLogger(__name__)

_registered: dict[str, tuple[Task[[], Any], datetime.timedelta]] = {}


def register(name: str, task: Task[[], Any], *, every: datetime.timedelta) -> None:
    """Run `task` (no arguments) every `every`, from the first worker start on."""
    _registered[name] = (task, every)


def registered() -> dict[str, tuple[Task[[], Any], datetime.timedelta]]:
    return dict(_registered)


def seconds(value: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)


def sweep_interval() -> datetime.timedelta:
    return seconds(settings.DELIVERY_SWEEP_SECONDS)


def run_due(now: datetime.datetime | None = None) -> list[str]:
    """Enqueue the registered tasks that are due; returns the names this call enqueued."""
    now = now or timezone.now()
    enqueued = []
    for name, (task, every) in _registered.items():
        try:
            with transaction.atomic():
                PeriodicRun.objects.create(name=name, next_run_at=now)
        except IntegrityError:
            pass  # known already
        with transaction.atomic():
            won = PeriodicRun.objects.filter(name=name, next_run_at__lte=now).update(next_run_at=now + every)
            if won:
                queue.enqueue(task)
                enqueued.append(name)
    return enqueued

"""Enqueueing that follows the transaction: a task runs only if the change that caused it commits.

With the database backend (the default) the task row is written in the current transaction, so a
rolled-back change leaves no task and a committed one always has its task. Other backends (Redis
through RQ) cannot join the transaction: the task is enqueued once it commits, and what could be lost
between the commit and the enqueue (a crash, Redis down) is found again by `delivery.tasks.sweep` from the
outbox rows, which are in the transaction.
"""

from __future__ import annotations

import datetime
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django_tasks_db import DatabaseBackend

if TYPE_CHECKING:
    from django_tasks.base import Task

logger = logging.getLogger(__name__)


def joins_transaction(task: Task[Any, Any]) -> bool:
    """True when `task`'s backend stores tasks in this database (enqueueing is part of the transaction)."""
    return isinstance(task.get_backend(), DatabaseBackend)


def enqueue(task: Task[Any, Any], *args: Any, run_after: datetime.datetime | None = None, **kwargs: Any) -> None:
    """Enqueue `task(*args, **kwargs)` (not before `run_after`) as part of the current transaction."""
    if run_after is not None:
        task = task.using(run_after=run_after)
    if joins_transaction(task):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(partial(_enqueue_logged, task, args, kwargs), robust=True)


def _enqueue_logged(task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        task.enqueue(*args, **kwargs)
    except Exception:
        # The outbox row is committed; the sweep enqueues it again.
        logger.exception("could not enqueue %s; the sweep will retry", task.name)
        raise

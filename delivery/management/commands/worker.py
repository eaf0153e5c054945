"""`manage.py worker`: the task worker of the configured backend, with the periodic tasks (delivery.periodic).

The database backend (the default) runs django-tasks-db's `db_worker`; the Redis backend runs RQ's
worker with its scheduler (delayed retries need it). Either way a thread enqueues the periodic tasks
when they are due. Stop it with SIGTERM or Ctrl-C: the task in hand finishes first.
"""

from __future__ import annotations

import logging
import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db import DatabaseBackend

from delivery import periodic

logger = logging.getLogger(__name__)


def _beat(stop: threading.Event, every: float) -> None:
    while not stop.is_set():
        try:
            periodic.run_due()
        except Exception:
            logger.exception("periodic tasks could not be enqueued; trying again")
        finally:
            close_old_connections()
        stop.wait(every)


class Command(BaseCommand):
    help = "Run the background worker (email delivery and periodic tasks) for the configured task backend."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle (database).")
        parser.add_argument(
            "--batch", action="store_true", help="Run what is due, then exit (the periodic tasks once first)."
        )

    def handle(self, *args, interval: float = 1.0, batch: bool = False, **options):
        if batch:
            periodic.run_due()
        else:
            stop = threading.Event()
            threading.Thread(target=_beat, args=(stop, 1.0), name="periodic", daemon=True).start()
        if isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
            call_command("db_worker", interval=interval, batch=batch, reload=False, startup_delay=False)
        else:
            # Redis (django-tasks-rq): RQ's worker, with the scheduler that runs delayed retries.
            call_command("rqworker", "default", with_scheduler=True, burst=batch, job_class="django_tasks_rq.Job")

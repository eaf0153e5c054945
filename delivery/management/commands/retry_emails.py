"""`manage.py retry_emails`: send the failed emails again (after fixing the mail server or an address)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from delivery.models import Email, EmailStatus
from delivery.tasks import requeue


class Command(BaseCommand):
    help = "Queue failed emails again with a fresh count of attempts (all, or those of --kind / --id)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind", help="Only emails of this kind (finalized, cancelled, reminder, answer, verify, ...)."
        )
        parser.add_argument("--id", type=int, action="append", dest="ids", help="Only this email (repeatable).")

    def handle(self, *args, kind: str | None = None, ids: list[int] | None = None, **options):
        failed = Email.objects.filter(status=EmailStatus.FAILED)
        if kind:
            failed = failed.filter(kind=kind)
        if ids:
            failed = failed.filter(pk__in=ids)
        count = requeue(failed, fresh_attempts=True)
        self.stdout.write(f"Queued {count} failed email(s) again.")

"""The outbox and its worker: retries with backoff, permanent refusals, caps, lost tasks, crashed workers.

Through the real task backend (django-tasks-db) and worker loop; the mail server is a test backend
that refuses as a real one would. scripts/ci/delivery.sh holds the same against a real SMTP server.
"""

from __future__ import annotations

import datetime
import io
import smtplib
import socket

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from delivery import periodic, queue, tasks
from delivery.mail import Attachment, queue_email
from delivery.models import Email, EmailStatus, PeriodicRun
from tests.conftest import run_tasks
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class RefusingBackend(LocmemBackend):
    """A mail server that is down: connection refused."""

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


class RejectingBackend(LocmemBackend):
    """A mail server that refuses one mailbox for good (550) and takes the rest."""

    def send_messages(self, messages):
        for message in messages:
            if message.to == ["nobody@example.com"]:
                raise smtplib.SMTPRecipientsRefused({"nobody@example.com": (550, b"5.1.1 No such mailbox")})
        return super().send_messages(messages)


class LongReplyBackend(LocmemBackend):
    """Answers 451 with a reply longer than the row keeps."""

    def send_messages(self, messages):
        raise smtplib.SMTPResponseException(451, "x" * 3000)


class GreylistingBackend(LocmemBackend):
    """Answers 451 (try again later) to the first attempts, then accepts."""

    refusals = 2

    def send_messages(self, messages):
        if GreylistingBackend.refusals:
            GreylistingBackend.refusals -= 1
            raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (451, b"4.7.1 Greylisted, try again")})
        return super().send_messages(messages)


class SlowBackend(LocmemBackend):
    """Accepts, but takes a minute to (a clock travelled by the test)."""

    traveller = None

    def send_messages(self, messages):
        SlowBackend.traveller.shift(datetime.timedelta(minutes=1))
        return super().send_messages(messages)


def notice(user, key: str = "test:1", **kwargs) -> Email | None:
    return queue_email(key=key, kind="test", recipient=user, subject="Hello", body="Body", **kwargs)


def time_passes() -> None:
    """Move every scheduled attempt into the past, as if the worker had waited for it."""
    past = timezone.now() - datetime.timedelta(seconds=1)
    Email.objects.filter(next_attempt_at__gt=past).update(next_attempt_at=past)
    never = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC)  # django-tasks-db's "no run_after"
    DBTaskResult.objects.filter(status="READY", run_after__lt=never).update(run_after=past)


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


class TestQueue:
    def test_a_row_and_its_task_in_the_same_transaction(self, bob):
        with transaction.atomic():
            email = notice(bob)
            assert DBTaskResult.objects.filter(task_path="delivery.tasks.send_email", status="READY").count() == 1
        assert email.status == EmailStatus.QUEUED
        assert mail.outbox == []  # nothing is sent by the request itself
        assert run_tasks() == 1
        (message,) = mail.outbox
        assert (message.to, message.subject, message.body) == (["bob@example.com"], "Hello", "Body")
        assert message.extra_headers["Message-ID"] == Email.objects.get().message_id
        email.refresh_from_db()
        assert (email.status, email.attempts, email.last_error) == (EmailStatus.SENT, 1, "")
        assert email.sent_at is not None

    def test_rolled_back_queues_nothing(self, bob):
        def queue_then_fail():
            with transaction.atomic():
                notice(bob)
                raise RuntimeError

        with pytest.raises(RuntimeError):
            queue_then_fail()
        assert (Email.objects.count(), DBTaskResult.objects.count()) == (0, 0)

    def test_the_same_key_is_queued_once(self, bob):
        assert notice(bob) is not None
        assert notice(bob) is None
        run_tasks()
        assert len(mail.outbox) == 1

    def test_attachments_as_the_mail_server_receives_them(self, bob):
        # What calendar apps read: the type with its iCalendar method (RFC 6047), UTF-8 text, a file.
        ics = "BEGIN:VCALENDAR\r\nSUMMARY:Café à 10 h\r\nEND:VCALENDAR\r\n"
        notice(
            bob,
            attachments=[
                Attachment("invite.ics", ics, "text/calendar", "REQUEST"),
                Attachment("notes.txt", "plain notes\n", "text/plain"),
            ],
        )
        run_tasks()
        sent = mail.outbox[0].message()  # the MIME message handed to the mail server
        assert sent.get_content_type() == "multipart/mixed"
        body, invite, notes = sent.get_payload()
        assert (body.get_content_type(), body.get_payload()) == ("text/plain", "Body")
        assert dict(invite.items()) == {
            "MIME-Version": "1.0",
            "Content-Type": 'text/calendar; charset="utf-8"; method="REQUEST"',
            "Content-Transfer-Encoding": "base64",
            "Content-Disposition": 'attachment; filename="invite.ics"',
        }
        assert invite.get_payload(decode=True).decode("utf-8") == ics
        assert dict(notes.items()) == {
            "MIME-Version": "1.0",
            "Content-Type": 'text/plain; charset="utf-8"',
            "Content-Transfer-Encoding": "base64",
            "Content-Disposition": 'attachment; filename="notes.txt"',
        }
        assert notes.get_payload(decode=True).decode("utf-8") == "plain notes\n"

    def test_line_breaks_in_a_subject_become_spaces(self, bob):
        queue_email(key="k", kind="test", recipient=bob, subject="Kick-off\r\nBcc: x@example.com", body="b")
        run_tasks()
        assert mail.outbox[0].subject == "Kick-off Bcc: x@example.com"


class TestVerifiedAddressesOnly:
    def test_an_unverified_address_gets_no_notice(self, db, caplog):
        eve = UserFactory(username="eve", verified_email="")
        with caplog.at_level("INFO", logger="delivery.mail"):
            assert notice(eve) is None
        assert Email.objects.count() == 0
        # Said in the log (the operator's only trace), with the kind and the user.
        assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "delivery.mail"] == [
            ("INFO", f"test for user {eve.pk} not queued: address not verified")
        ]

    def test_the_confirmation_itself_goes_to_an_unverified_address(self, db):
        eve = UserFactory(username="eve", verified_email="")
        assert notice(eve, needs_verified_address=False) is not None
        run_tasks()
        assert [m.to for m in mail.outbox] == [["eve@example.com"]]

    @pytest.mark.parametrize(
        ("address", "confirmed"),
        [
            ("new@example.com", ""),  # changed, not confirmed yet
            ("bob@example.com", ""),  # the same address, no longer confirmed
            ("new@example.com", "new@example.com"),  # changed and confirmed: the row was for the old one
        ],
    )
    def test_an_address_changed_or_unconfirmed_before_sending_is_dropped(self, bob, address, confirmed):
        notice(bob)
        bob.email, bob.verified_email = address, confirmed
        bob.save()
        run_tasks()
        assert mail.outbox == []
        email = Email.objects.get()
        assert (email.status, email.attempts, email.last_error) == (
            EmailStatus.DROPPED,
            0,
            "the address changed or is not verified any more",
        )

    def test_the_same_address_in_other_letters_is_still_sent(self, bob):
        notice(bob)
        bob.email = bob.verified_email = "Bob@Example.COM"
        bob.save()
        run_tasks()
        assert [m.to for m in mail.outbox] == [["bob@example.com"]]

    def test_no_address_no_row(self, db):
        assert notice(UserFactory(username="nomail", email="")) is None


class TestRetries:
    def test_a_server_that_is_down_is_retried_with_backoff_then_delivers(self, bob, settings):
        settings.EMAIL_BACKEND = "tests.test_delivery.RefusingBackend"
        settings.EMAIL_RETRY_BASE_SECONDS, settings.EMAIL_RETRY_MAX_SECONDS = 30, 3600
        before = timezone.now()
        notice(bob)
        run_tasks()
        email = Email.objects.get()
        assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
        assert email.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
        # Full jitter between half and all of 30 s for the first retry.
        assert before + datetime.timedelta(seconds=15) <= email.next_attempt_at
        assert email.next_attempt_at <= timezone.now() + datetime.timedelta(seconds=30)
        assert run_tasks() == 0  # not due yet
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        time_passes()
        run_tasks()
        email.refresh_from_db()
        # Sent: the error of the failed attempt is not kept as if it still held.
        assert (email.status, email.attempts, email.last_error) == (EmailStatus.SENT, 2, "")
        assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [email.message_id]

    def test_a_4xx_reply_is_temporary(self, bob, settings):
        settings.EMAIL_BACKEND = "tests.test_delivery.GreylistingBackend"
        GreylistingBackend.refusals = 2
        notice(bob)
        for _ in range(3):
            run_tasks()
            time_passes()
        email = Email.objects.get()
        assert (email.status, email.attempts) == (EmailStatus.SENT, 3)
        assert len(mail.outbox) == 1

    def test_gives_up_after_the_last_attempt(self, bob, settings):
        settings.EMAIL_BACKEND = "tests.test_delivery.RefusingBackend"
        settings.EMAIL_MAX_ATTEMPTS = 3
        notice(bob)
        for _ in range(5):
            run_tasks()
            time_passes()
        email = Email.objects.get()
        assert (email.status, email.attempts) == (EmailStatus.FAILED, 3)
        assert "Connection refused" in email.last_error

    def test_a_refused_mailbox_fails_at_once_and_alone(self, bob, settings):
        settings.EMAIL_BACKEND = "tests.test_delivery.RejectingBackend"
        nobody = UserFactory(username="nobody")
        notice(bob, key="a")
        notice(nobody, key="b")
        notice(UserFactory(username="carol"), key="c")
        run_tasks()
        assert sorted(m.to[0] for m in mail.outbox) == ["bob@example.com", "carol@example.com"]
        failed = Email.objects.get(to="nobody@example.com")
        assert (failed.status, failed.attempts) == (EmailStatus.FAILED, 1)
        assert failed.last_error == "nobody@example.com: 550 5.1.1 No such mailbox"

    def test_backoff_grows_and_is_capped(self, settings):
        settings.EMAIL_RETRY_BASE_SECONDS, settings.EMAIL_RETRY_MAX_SECONDS = 10, 100
        for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
            waits = [tasks.backoff(attempts).total_seconds() for _ in range(50)]
            assert all(ceiling / 2 <= wait <= ceiling for wait in waits), (attempts, waits)
            assert len(set(waits)) > 1  # jitter

    @pytest.mark.parametrize(
        ("exc", "temporary"),
        [
            (ConnectionRefusedError(), True),
            (TimeoutError(), True),
            (smtplib.SMTPServerDisconnected(), True),
            (smtplib.SMTPResponseException(421, b"closing"), True),
            (smtplib.SMTPRecipientsRefused({"a@x": (452, b"full")}), True),
            (smtplib.SMTPRecipientsRefused({"a@x": (550, b"unknown")}), False),
            (smtplib.SMTPDataError(554, b"rejected"), False),
            (smtplib.SMTPSenderRefused(553, b"bad sender", "noreply@x"), False),
            (ValueError("a bug"), False),
        ],
    )
    def test_what_is_temporary(self, exc, temporary):
        assert tasks.is_temporary(exc) is temporary


class TestAtMostOnceAWorker:
    def test_a_task_run_twice_sends_once(self, bob):
        email = notice(bob)
        tasks.send_email.call(email.pk)
        tasks.send_email.call(email.pk)
        assert len(mail.outbox) == 1
        run_tasks()  # the queued task finds it sent
        assert len(mail.outbox) == 1

    def test_a_row_is_due_from_its_next_attempt_on(self, bob):
        with time_machine.travel(datetime.datetime(2031, 5, 6, 9, 0, tzinfo=datetime.UTC), tick=False):
            later = notice(bob, key="later")
            Email.objects.filter(pk=later.pk).update(
                next_attempt_at=timezone.now() + datetime.timedelta(microseconds=1)
            )
            assert tasks.send_email.call(later.pk) == "nothing to do"
            due = notice(bob, key="due")  # due now, to the microsecond
            assert due.next_attempt_at == timezone.now()
            assert tasks.send_email.call(due.pk) == "sent"
        assert len(mail.outbox) == 1
        assert Email.objects.get(pk=later.pk).status == EmailStatus.QUEUED

    def test_the_sweep_finds_what_a_killed_worker_held(self, bob, settings):
        settings.EMAIL_SEND_LEASE_SECONDS = 60
        email = notice(bob)
        DBTaskResult.objects.all().delete()  # the worker took it ...
        Email.objects.filter(pk=email.pk).update(
            status=EmailStatus.SENDING, attempts=1, updated_at=timezone.now() - datetime.timedelta(minutes=2)
        )  # ... and was killed mid-send
        recent = notice(bob, key="recent")
        Email.objects.filter(pk=recent.pk).update(status=EmailStatus.SENDING, attempts=1)  # another is still at it
        assert tasks.sweep.call() == "1 queued again"
        run_tasks()
        assert [m.to for m in mail.outbox] == [["bob@example.com"]]
        email.refresh_from_db()
        assert (email.status, email.attempts) == (EmailStatus.SENT, 2)

    def test_the_sweep_enqueues_what_never_reached_the_queue(self, bob, settings, caplog):
        settings.EMAIL_SEND_LEASE_SECONDS = 60
        email = notice(bob)
        DBTaskResult.objects.all().delete()  # lost between the commit and the queue (Redis down)
        Email.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(minutes=2))
        assert tasks.sweep.call() == "1 queued again"
        assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "delivery.tasks"] == [
            ("WARNING", "sweep: 1 email(s) queued again")
        ]
        run_tasks()
        assert len(mail.outbox) == 1

    def test_the_sweep_leaves_alone_what_is_not_lost(self, bob, settings, caplog):
        # Failed for good, waiting out its backoff, or being sent right now: none of these is lost.
        settings.EMAIL_SEND_LEASE_SECONDS = 60
        long_ago, now = timezone.now() - datetime.timedelta(hours=2), timezone.now()
        failed, waiting, sending = (notice(bob, key=key) for key in ("failed", "waiting", "sending"))
        DBTaskResult.objects.all().delete()
        Email.objects.filter(pk=failed.pk).update(
            status=EmailStatus.FAILED, updated_at=long_ago, next_attempt_at=long_ago
        )
        Email.objects.filter(pk=waiting.pk).update(
            updated_at=long_ago, next_attempt_at=now + datetime.timedelta(minutes=10)
        )
        Email.objects.filter(pk=sending.pk).update(status=EmailStatus.SENDING, updated_at=now, next_attempt_at=long_ago)
        before = {e.pk: (e.status, e.next_attempt_at) for e in Email.objects.all()}
        assert tasks.sweep.call() == "0 queued again"
        assert {e.pk: (e.status, e.next_attempt_at) for e in Email.objects.all()} == before
        assert not DBTaskResult.objects.exists()
        assert [r for r in caplog.records if r.name == "delivery.tasks"] == []


class TestWhatIsRecorded:
    """The error kept on the row and logged (what an operator reads), and the retry's bookkeeping."""

    def test_describe_a_refusal_per_recipient_and_a_reply_in_bytes_or_text(self):
        refused = smtplib.SMTPRecipientsRefused(
            {"a@example.com": (550, b"No such user"), "b@example.com": (551, b"\xffgone")}
        )
        assert tasks.describe(refused) == "a@example.com: 550 No such user; b@example.com: 551 \ufffdgone"
        assert tasks.describe(smtplib.SMTPResponseException(421, b"Busy \xff")) == "421 Busy \ufffd"
        assert tasks.describe(smtplib.SMTPResponseException(421, "Busy, later")) == "421 Busy, later"
        assert tasks.describe(TimeoutError("timed out")) == "TimeoutError: timed out"

    def test_a_retry_records_the_error_in_full_up_to_2000_characters_and_logs_it(self, bob, settings, caplog):
        settings.EMAIL_BACKEND = "tests.test_delivery.LongReplyBackend"
        email = notice(bob)
        run_tasks()
        email.refresh_from_db()
        assert email.last_error == "451 " + "x" * 1996  # 2000 characters, the rest cut
        (record,) = [r for r in caplog.records if r.name == "delivery.tasks"]
        assert record.levelname == "WARNING"
        assert record.getMessage() == (
            f"email {email.pk} to bob@example.com failed (attempt 1), retrying at {email.next_attempt_at}: "
            f"{email.last_error}"
        )

    @pytest.mark.parametrize(
        ("exc", "temporary"),
        [
            (smtplib.SMTPRecipientsRefused({"a@example.com": (400, b"x"), "b@example.com": (499, b"x")}), True),
            (smtplib.SMTPRecipientsRefused({"a@example.com": (451, b"x"), "b@example.com": (500, b"x")}), False),
            (smtplib.SMTPRecipientsRefused({"a@example.com": (399, b"x")}), False),
            (smtplib.SMTPResponseException(499, b"x"), True),
            (smtplib.SMTPResponseException(500, b"x"), False),
            (smtplib.SMTPResponseException(599, b"x"), False),
            (smtplib.SMTPResponseException(600, b"x"), True),
            (ConnectionRefusedError(111, "refused"), True),
            (ValueError("a bug"), False),
        ],
    )
    def test_what_is_worth_another_attempt(self, exc, temporary):
        assert tasks.is_temporary(exc) is temporary

    def test_what_the_task_answers_and_logs_on_the_last_failure(self, bob, settings, caplog):
        # The task's return value is kept by the queue (the worker's record of each run).
        settings.EMAIL_BACKEND = "tests.test_delivery.RejectingBackend"
        nobody = UserFactory(username="nobody")
        email = notice(nobody)
        assert tasks.send_email.call(email.pk) == "failed"
        email.refresh_from_db()
        assert (email.status, email.last_error) == (EmailStatus.FAILED, "nobody@example.com: 550 5.1.1 No such mailbox")
        (record,) = [r for r in caplog.records if r.name == "delivery.tasks"]
        assert (record.levelname, record.getMessage()) == (
            "ERROR",
            f"email {email.pk} to nobody@example.com failed for good after 1 attempt(s): {email.last_error}",
        )

    def test_what_the_task_answers_on_a_retry_and_when_sent(self, bob, settings):
        settings.EMAIL_BACKEND = "tests.test_delivery.RefusingBackend"
        email = notice(bob)
        assert tasks.send_email.call(email.pk) == "retrying"
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        time_passes()
        assert tasks.send_email.call(email.pk) == "sent"
        assert tasks.send_email.call(email.pk) == "nothing to do"

    def test_a_refused_connection_to_the_smtp_server_is_an_error_not_a_send(self, bob, settings):
        # Django's SMTP backend swallows its errors when asked to fail silently: the row would say sent.
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))  # bound and never listening: a connection is refused at once
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed.getsockname()[1]
            settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
            settings.EMAIL_TIMEOUT = 5
            email = notice(bob)
            assert tasks.send_email.call(email.pk) == "retrying"
        email.refresh_from_db()
        assert (email.status, email.attempts, email.sent_at) == (EmailStatus.QUEUED, 1, None)
        assert email.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"

    def test_a_sent_row_was_last_changed_when_the_server_took_it(self, bob, settings):
        # The claim touches the row; the send, a minute later on a slow server, touches it again.
        settings.EMAIL_BACKEND = "tests.test_delivery.SlowBackend"
        start = datetime.datetime(2031, 5, 6, 9, 0, tzinfo=datetime.UTC)
        with time_machine.travel(start, tick=False) as traveller:
            SlowBackend.traveller = traveller
            email = notice(bob)
            assert tasks.send_email.call(email.pk) == "sent"
        email.refresh_from_db()
        sent = start + datetime.timedelta(minutes=1)
        assert (email.status, email.sent_at, email.updated_at) == (EmailStatus.SENT, sent, sent)

    def test_requeue_counts_and_touches_only_what_waits(self, bob):
        emails = [notice(bob, key=f"k{i}") for i in range(3)]
        Email.objects.filter(pk=emails[0].pk).update(status=EmailStatus.FAILED)
        Email.objects.filter(pk=emails[1].pk).update(status=EmailStatus.FAILED)
        Email.objects.filter(pk=emails[2].pk).update(status=EmailStatus.DROPPED)
        assert tasks.requeue(Email.objects.all()) == 2
        assert sorted(Email.objects.values_list("status", flat=True)) == sorted(
            [EmailStatus.QUEUED, EmailStatus.QUEUED, EmailStatus.DROPPED]
        )


class TestCaps:
    def test_per_recipient_cap_drops_the_excess(self, bob, settings, caplog):
        settings.EMAIL_RECIPIENT_HOURLY_CAP = 3
        for i in range(5):
            notice(bob, key=f"n{i}", sender=UserFactory(username=f"s{i}"))
        run_tasks()
        assert len(mail.outbox) == 3
        dropped = Email.objects.filter(status=EmailStatus.DROPPED)
        assert dropped.count() == 2
        assert dropped.first().last_error == "over the cap of 3 emails an hour to one address"
        # Each drop is logged in full: the kind, the address, the reason.
        assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "delivery.mail"] == [
            ("WARNING", f"test to {bob.email} dropped: over the cap of 3 emails an hour to one address")
        ] * 2

    def test_per_sender_cap(self, db, settings):
        settings.EMAIL_SENDER_HOURLY_CAP = 2
        mallory = UserFactory(username="mallory")
        for i in range(4):
            notice(UserFactory(username=f"victim{i}"), key=f"n{i}", sender=mallory)
        assert Email.objects.filter(status=EmailStatus.QUEUED).count() == 2
        assert Email.objects.filter(status=EmailStatus.DROPPED).count() == 2

    def test_dropped_emails_do_not_count_towards_the_cap(self, bob, settings):
        # Only what was queued fills the hour: a flood that is dropped does not keep the address closed.
        settings.EMAIL_RECIPIENT_HOURLY_CAP = 2
        for i in range(4):
            notice(bob, key=f"n{i}")
        assert Email.objects.filter(status=EmailStatus.DROPPED).count() == 2
        Email.objects.exclude(status=EmailStatus.DROPPED).update(
            created_at=timezone.now() - datetime.timedelta(hours=1, seconds=1)
        )
        assert notice(bob, key="after").status == EmailStatus.QUEUED

    def test_an_hour_later_the_cap_is_free_again(self, bob, settings):
        settings.EMAIL_RECIPIENT_HOURLY_CAP = 1
        notice(bob, key="a")
        Email.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1, seconds=1))
        assert notice(bob, key="b").status == EmailStatus.QUEUED


class TestOperations:
    def test_retry_emails_command(self, bob, settings):
        settings.EMAIL_BACKEND = "tests.test_delivery.RejectingBackend"
        nobody = UserFactory(username="nobody")
        notice(nobody)
        run_tasks()
        assert Email.objects.get().status == EmailStatus.FAILED
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        out = io.StringIO()
        call_command("retry_emails", stdout=out)
        assert out.getvalue().strip() == "Queued 1 failed email(s) again."
        run_tasks()
        email = Email.objects.get()
        assert (email.status, email.attempts) == (EmailStatus.SENT, 1)

    def test_health_detail_shows_the_queue(self, bob, api_client, settings):
        settings.HEALTH_DETAIL_TOKEN = "s3cret-health"
        notice(bob, key="a")
        Email.objects.update(created_at=timezone.now() - datetime.timedelta(seconds=90))
        notice(UserFactory(username="nobody"), key="b")
        Email.objects.filter(key="b").update(status=EmailStatus.FAILED)
        response = api_client.get("/healthz/", {"detail": "1"}, HTTP_X_HEALTH_TOKEN="s3cret-health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        email = body["details"]["email"]
        assert (email["queued"], email["running"], email["failed"]) == (1, 0, 1)
        assert 90 <= email["oldest_queued_seconds"] < 120

    def test_health_detail_needs_staff_or_the_token(self, bob, api_client, settings):
        settings.HEALTH_DETAIL_TOKEN = "s3cret-health"
        assert "details" not in api_client.get("/healthz/", {"detail": "1"}).json()
        wrong = api_client.get("/healthz/", {"detail": "1"}, HTTP_X_HEALTH_TOKEN="nope")
        assert "details" not in wrong.json()
        staff = UserFactory(username="op", is_staff=True)
        api_client.force_authenticate(staff)
        assert "email" in api_client.get("/healthz/", {"detail": "1"}).json()["details"]

    @pytest.mark.parametrize("value", ["0", "true", "2"])
    def test_health_detail_is_1_or_nothing(self, api_client, value):
        response = api_client.get("/healthz/", {"detail": value})
        assert (response.status_code, response.json()) == (
            400,
            {"detail": ["Send 1 for the details, or leave it out."]},
        )
        assert api_client.get("/healthz/", {"detail": ""}).json() == {"status": "ok", "database": "ok"}

    def test_periodic_tasks_run_once_per_interval_whoever_asks(self, db):
        now = timezone.now()
        assert "delivery.sweep" in periodic.run_due(now)
        assert periodic.run_due(now) == []  # a second worker at the same moment
        assert periodic.run_due(now + periodic.sweep_interval() / 2) == []
        assert "delivery.sweep" in periodic.run_due(now + periodic.sweep_interval())
        assert PeriodicRun.objects.get(name="delivery.sweep").next_run_at == now + 2 * periodic.sweep_interval()
        assert DBTaskResult.objects.filter(task_path="delivery.tasks.sweep").count() == 2


class TestBackendsOutsideTheDatabase:
    def test_a_queue_that_cannot_join_the_transaction_gets_the_task_on_commit(
        self, bob, monkeypatch, django_capture_on_commit_callbacks
    ):
        # Redis (RQ) cannot roll back with the database: the task is enqueued only once the change commits.
        enqueued = []
        monkeypatch.setattr(queue, "joins_transaction", lambda task: False)
        monkeypatch.setattr(type(tasks.send_email), "enqueue", lambda task, *args: enqueued.append((task.name, args)))
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            email = notice(bob)
            assert enqueued == []
        assert len(callbacks) == 1
        assert enqueued == [("send_email", (email.pk,))]
        assert DBTaskResult.objects.count() == 0

    def test_nothing_on_rollback(self, bob, monkeypatch, django_capture_on_commit_callbacks):
        enqueued = []
        monkeypatch.setattr(queue, "joins_transaction", lambda task: False)
        monkeypatch.setattr(type(tasks.send_email), "enqueue", lambda task, *args: enqueued.append(args))

        def queue_then_fail():
            with transaction.atomic():
                notice(bob)
                raise RuntimeError

        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
            queue_then_fail()
        assert (enqueued, Email.objects.count()) == ([], 0)

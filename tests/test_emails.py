"""Emails: the finalized meeting (with .ics), its cancellation, reminders (once an hour), answers to the creator.

Emails are queued in the write's transaction and sent by the worker: `delivered()` runs the worker here
when its block ends (tests/test_delivery.py holds the queue itself: retries, caps, crashes).
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar as ICalendar

from calendars import services
from calendars.models import Calendar, Invitation
from delivery.models import Email
from tests.conftest import client_for, run_tasks
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, UserFactory, make_friends
from tests.support import run_together

MEETING = {"date": "2030-05-06", "start_time": "10:00", "end_time": "11:30"}
WHEN = "Monday 6 May 2030, 10:00\N{EN DASH}11:30 (Europe/Berlin, UTC+02:00)"


@pytest.fixture
def world(db):
    alice, bob, dan = (UserFactory(username=name) for name in ("alice", "bob", "dan"))
    nomail = UserFactory(username="nomail", email="")
    carol, rita = UserFactory(username="carol"), UserFactory(username="rita")
    for friend in (bob, dan, nomail, carol, rita):
        make_friends(alice, friend)
    calendar = CalendarFactory(creator=alice, title="Kickoff", timezone="Europe/Berlin")
    DayFactory(calendar=calendar, date=datetime.date(2030, 5, 6), ranking=1)
    DayFactory(calendar=calendar, date=datetime.date(2030, 5, 8), ranking=2)
    invitations = {
        "bob": InvitationFactory(calendar=calendar, invitee=bob, status="accepted"),
        "dan": InvitationFactory(calendar=calendar, invitee=dan, status="accepted"),
        "nomail": InvitationFactory(calendar=calendar, invitee=nomail, status="accepted"),
        "carol": InvitationFactory(calendar=calendar, invitee=carol, status="pending"),
        "rita": InvitationFactory(calendar=calendar, invitee=rita, status="rejected"),
    }
    users = {"alice": alice, "bob": bob, "dan": dan, "nomail": nomail, "carol": carol, "rita": rita}
    return {"calendar": calendar, "invitations": invitations, "users": users}


@contextmanager
def delivered():
    """The worker runs once the block's requests are done (each request commits its own transaction)."""
    yield
    run_tasks()


def recipients() -> list[str]:
    return sorted(message.to[0] for message in mail.outbox)


def client(world, name):
    return client_for(world["users"][name])


def finalize_url(world) -> str:
    return f"/calendars/{world['calendar'].pk}/finalize/"


def remind_url(world, name) -> str:
    invitation = world["invitations"][name]
    return f"/calendars/{invitation.calendar_id}/invitations/{invitation.pk}/remind/"


def ics_attachment(message) -> tuple[str, str, ICalendar]:
    (part,) = message.attachments
    assert part.get_filename() == "invite.ics"
    return part.get_content_type(), part.get_param("method"), ICalendar.from_ical(part.get_payload(decode=True))


class TestFinalizeEmails:
    def test_creator_and_every_participant_get_the_meeting(self, world):
        alice = client(world, "alice")
        with delivered():
            assert alice.post(finalize_url(world), MEETING, format="json").status_code == 200
        # Not the pending or rejected invitees; nobody without an email address.
        assert recipients() == ["alice@example.com", "bob@example.com", "dan@example.com"]
        mail.outbox.sort(key=lambda message: message.to)
        for message in mail.outbox:
            assert message.subject == f"Meeting fixed: Kickoff, {WHEN}"
            assert message.from_email == "OneOnOne <noreply@oneonone.local>"
            assert WHEN in message.body
            assert "Taking part: alice, bob, dan, nomail." in message.body
            content_type, method, ical = ics_attachment(message)
            assert (content_type, method) == ("text/calendar", "REQUEST")
            assert str(ical["METHOD"]) == "REQUEST"
            (event,) = ical.events
            assert str(event["UID"]) == f"calendar-{world['calendar'].pk}@oneonone.local"
            assert str(event["SUMMARY"]) == "Kickoff"
            assert event["SEQUENCE"] == 0
            assert str(event["STATUS"]) == "CONFIRMED"
            assert event.start.isoformat() == "2030-05-06T10:00:00+02:00"
            assert [a.params["CN"] for a in event["ATTENDEE"]] == ["bob", "dan", "nomail"]
        assert mail.outbox[1].body.startswith("Hello bob,\n\nalice fixed the time of")

    def test_finalizing_the_same_time_again_sends_nothing(self, world):
        alice = client(world, "alice")
        with delivered():
            alice.post(finalize_url(world), MEETING, format="json")
        mail.outbox.clear()
        with delivered():
            assert alice.post(finalize_url(world), MEETING, format="json").status_code == 200
            assert alice.post(finalize_url(world), {**MEETING, "end_time": "12:00"}, format="json").status_code == 409
        assert mail.outbox == []

    def test_a_rolled_back_finalize_sends_nothing(self, world):
        def finalize_then_fail():
            with transaction.atomic():
                services.calendar_finalize(
                    calendar=world["calendar"],
                    date=datetime.date(2030, 5, 6),
                    start_time=datetime.time(10),
                    end_time=datetime.time(11),
                )
                raise RuntimeError("something after it failed")

        with delivered(), pytest.raises(RuntimeError):
            finalize_then_fail()
        assert Email.objects.count() == 0
        assert DBTaskResult.objects.count() == 0
        assert mail.outbox == []
        assert Calendar.objects.get().finalized_date is None

    def test_a_failing_mail_server_does_not_fail_the_request(self, world, settings):
        # The request only queues; the worker meets the broken server and schedules the next attempts.
        settings.EMAIL_BACKEND = "tests.test_delivery.RefusingBackend"
        with delivered():
            response = client(world, "alice").post(finalize_url(world), MEETING, format="json")
        assert response.status_code == 200
        assert Calendar.objects.get().finalized_date == datetime.date(2030, 5, 6)
        assert sorted(Email.objects.values_list("status", "attempts")) == [("queued", 1)] * 3

    def test_undo_sends_a_cancellation(self, world):
        alice = client(world, "alice")
        with delivered():
            alice.post(finalize_url(world), MEETING, format="json")
        mail.outbox.clear()
        with delivered():
            assert alice.delete(finalize_url(world)).status_code == 200
            assert alice.delete(finalize_url(world)).status_code == 200  # nothing fixed any more: no second mail
        assert recipients() == ["alice@example.com", "bob@example.com", "dan@example.com"]
        (message,) = [m for m in mail.outbox if m.to == ["bob@example.com"]]
        assert message.subject == f"Meeting cancelled: Kickoff, {WHEN}"
        content_type, method, ical = ics_attachment(message)
        assert (content_type, method) == ("text/calendar", "CANCEL")
        (event,) = ical.events
        assert str(event["STATUS"]) == "CANCELLED"
        assert event["SEQUENCE"] == 1
        assert event.start.isoformat() == "2030-05-06T10:00:00+02:00"

    def test_deleting_a_finalized_calendar_cancels_it(self, world):
        alice = client(world, "alice")
        with delivered():
            alice.post(finalize_url(world), MEETING, format="json")
        mail.outbox.clear()
        with delivered():
            assert alice.delete(f"/calendars/{world['calendar'].pk}/").status_code == 204
        assert [m.subject.split(":")[0] for m in mail.outbox] == ["Meeting cancelled"] * 3
        # The cancellation supersedes the request that fixed it: the next SEQUENCE (RFC 5546).
        for message in mail.outbox:
            _, method, ical = ics_attachment(message)
            (event,) = ical.events
            assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)

    def test_deleting_an_open_calendar_sends_nothing(self, world):
        with delivered():
            assert client(world, "alice").delete(f"/calendars/{world['calendar'].pk}/").status_code == 204
        assert mail.outbox == []


class TestReminders:
    def test_creator_reminds_a_pending_invitee(self, world):
        before = timezone.now()
        with delivered():
            response = client(world, "alice").post(remind_url(world, "carol"))
        assert response.status_code == 200
        invitation = Invitation.objects.get(pk=world["invitations"]["carol"].pk)
        assert before <= invitation.reminded_at <= timezone.now()
        assert response.json() == {
            "id": invitation.pk,
            "invitee_username": "carol",
            "reminded_at": invitation.reminded_at.isoformat().replace("+00:00", "Z"),
            "next_reminder_at": (invitation.reminded_at + datetime.timedelta(hours=1))
            .isoformat()
            .replace("+00:00", "Z"),
        }
        (message,) = mail.outbox
        assert message.to == ["carol@example.com"]
        assert message.subject == "Reminder: alice invited you to Kickoff"
        assert "Monday 6 May 2030 (choice 1)" in message.body
        assert "Wednesday 8 May 2030 (choice 2)" in message.body
        assert "(times in Europe/Berlin)" in message.body
        assert f"PUT /calendars/{invitation.calendar_id}/invitations/{invitation.pk}/" in message.body

    def test_at_most_once_an_hour(self, world):
        alice = client(world, "alice")
        with delivered():
            assert alice.post(remind_url(world, "carol")).status_code == 200
            again = alice.post(remind_url(world, "carol"))
        assert again.status_code == 429
        assert 3590 <= int(again["Retry-After"]) <= 3600
        assert again.json()["detail"].startswith("carol was reminded less than an hour ago. Expected available in ")
        assert len(mail.outbox) == 1
        # An hour later another reminder goes out.
        Invitation.objects.filter(pk=world["invitations"]["carol"].pk).update(
            reminded_at=timezone.now() - datetime.timedelta(hours=1, seconds=1)
        )
        with delivered():
            assert alice.post(remind_url(world, "carol")).status_code == 200
        assert len(mail.outbox) == 2

    def test_a_reminder_starts_the_hour_of_that_invitation_only(self, world):
        # Another pending invitation, on another of alice's calendars: its own hour, not carol's.
        other = CalendarFactory(creator=world["users"]["alice"], title="Retro", timezone="UTC")
        DayFactory(calendar=other, date=datetime.date(2030, 5, 7), ranking=1)
        InvitationFactory(calendar=other, invitee=world["users"]["dan"], status="pending")
        alice = client(world, "alice")
        with delivered():
            assert alice.post(remind_url(world, "carol")).status_code == 200
        dan = Invitation.objects.get(calendar=other)
        assert dan.reminded_at is None
        with delivered():
            assert alice.post(f"/calendars/{other.pk}/invitations/{dan.pk}/remind/").status_code == 200
        assert sorted(m.to[0] for m in mail.outbox) == ["carol@example.com", "dan@example.com"]

    def test_under_a_second_left_is_retry_after_1(self, world):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            Invitation.objects.filter(pk=world["invitations"]["carol"].pk).update(
                reminded_at=timezone.now() - datetime.timedelta(minutes=59, seconds=59, milliseconds=500)
            )
            response = client(world, "alice").post(remind_url(world, "carol"))
            assert response.status_code == 429
            assert response["Retry-After"] == "1"
            clock.shift(datetime.timedelta(seconds=1))
            with delivered():
                assert client(world, "alice").post(remind_url(world, "carol")).status_code == 200

    def test_retry_after_counts_down(self, world):
        Invitation.objects.filter(pk=world["invitations"]["carol"].pk).update(
            reminded_at=timezone.now() - datetime.timedelta(minutes=50)
        )
        response = client(world, "alice").post(remind_url(world, "carol"))
        assert response.status_code == 429
        assert 595 <= int(response["Retry-After"]) <= 600

    @pytest.mark.parametrize(("name", "status"), [("bob", "accepted"), ("rita", "rejected")])
    def test_answered_invitations_are_409(self, world, name, status):
        with delivered():
            response = client(world, "alice").post(remind_url(world, name))
        assert response.status_code == 409
        assert response.json() == {
            "detail": f"{name} has already answered ({status}); only pending invitations are reminded."
        }
        assert mail.outbox == []

    def test_invitee_without_email_is_409(self, world):
        invitation = world["invitations"]["carol"]
        invitation.invitee.email = ""
        invitation.invitee.save()
        response = client(world, "alice").post(remind_url(world, "carol"))
        assert response.status_code == 409
        assert response.json() == {"detail": "carol has no email address; remind them another way."}
        assert Invitation.objects.get(pk=invitation.pk).reminded_at is None

    def test_invitee_who_has_not_confirmed_their_address_is_409(self, world):
        carol = world["users"]["carol"]
        carol.verified_email = ""
        carol.save()
        response = client(world, "alice").post(remind_url(world, "carol"))
        assert (response.status_code, response.json()) == (
            409,
            {"detail": "carol has not confirmed their email address; remind them another way."},
        )
        assert Invitation.objects.get(pk=world["invitations"]["carol"].pk).reminded_at is None

    def test_not_while_finalized(self, world):
        alice = client(world, "alice")
        assert alice.post(finalize_url(world), MEETING, format="json").status_code == 200
        response = alice.post(remind_url(world, "carol"))
        assert response.status_code == 409
        assert response.json() == {
            "detail": "The meeting is finalized (2030-05-06 10:00:00-11:30:00 Europe/Berlin): invitations cannot "
            f"change until the creator undoes it with DELETE /calendars/{world['calendar'].pk}/finalize/."
        }

    def test_only_the_creator(self, world):
        response = client(world, "carol").post(remind_url(world, "carol"))
        assert response.status_code == 403
        assert response.json() == {"detail": "Only the calendar's creator can send reminders."}
        # Another participant cannot see carol's invitation at all; a stranger not even the calendar.
        assert client(world, "bob").post(remind_url(world, "carol")).status_code == 404
        assert client_for(UserFactory()).post(remind_url(world, "carol")).status_code == 404
        assert Invitation.objects.get(pk=world["invitations"]["carol"].pk).reminded_at is None

    def test_wrong_calendar_in_the_url_is_404(self, world):
        other = CalendarFactory(creator=world["users"]["alice"])
        invitation = world["invitations"]["carol"]
        url = f"/calendars/{other.pk}/invitations/{invitation.pk}/remind/"
        assert client(world, "alice").post(url).status_code == 404

    def test_unauthenticated(self, world, api_client):
        assert api_client.post(remind_url(world, "carol")).status_code == 401


class TestAnswersTellTheCreator:
    def answer(self, world, name, status):
        invitation = world["invitations"][name]
        url = f"/calendars/{invitation.calendar_id}/invitations/{invitation.pk}/"
        return client(world, name).put(url, {"status": status}, format="json")

    @pytest.mark.parametrize(
        ("name", "status", "subject"),
        [
            ("carol", "accepted", "carol accepted your invitation to Kickoff"),
            ("carol", "rejected", "carol declined your invitation to Kickoff"),
            ("bob", "rejected", "bob left Kickoff"),
        ],
    )
    def test_accepting_declining_and_leaving(self, world, name, status, subject):
        with delivered():
            assert self.answer(world, name, status).status_code == 204
        (message,) = mail.outbox
        assert message.to == ["alice@example.com"]
        assert message.subject == subject
        assert message.body == f"Hello alice,\n\n{subject.replace(' Kickoff', ' “Kickoff”')}.\n"

    def test_the_same_answer_again_sends_nothing(self, world):
        with delivered():
            assert self.answer(world, "bob", "accepted").status_code == 204
        assert mail.outbox == []

    def test_creator_without_email_is_not_written_to(self, world):
        alice = world["users"]["alice"]
        alice.email = ""
        alice.save()
        with delivered():
            assert self.answer(world, "carol", "accepted").status_code == 204
        assert mail.outbox == []

    def test_refused_answers_send_nothing(self, world):
        with delivered():
            assert self.answer(world, "carol", "pending").status_code == 400
        assert mail.outbox == []


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
def test_two_reminders_at_once_send_one_email():
    alice, carol = UserFactory(username="alice"), UserFactory(username="carol")
    calendar = CalendarFactory(creator=alice)
    DayFactory(calendar=calendar)
    invitation = InvitationFactory(calendar=calendar, invitee=carol, status="pending")
    url = f"/calendars/{calendar.pk}/invitations/{invitation.pk}/remind/"
    clients = [client_for(alice) for _ in range(4)]
    codes = run_together(*(lambda c=c: c.post(url).status_code for c in clients), timeout=30)
    assert sorted(codes) == [200, 429, 429, 429]
    run_tasks()
    assert [m.to for m in mail.outbox] == [["carol@example.com"]]

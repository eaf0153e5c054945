"""The server cannot be made to mail anyone at will (docs/security.md, "Email that can be abused").

An attacker registers with a victim's address, or fixes and undoes a meeting in a loop with a title of
their choosing: unconfirmed addresses get nothing, and what a confirmed one gets is capped per hour,
per recipient and per sender; the excess is recorded as dropped and logged, never sent.
"""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from delivery.models import Email, EmailStatus
from tests.conftest import client_for, run_tasks
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, UserFactory, make_friends

pytestmark = pytest.mark.django_db

MEETING = {"date": "2030-05-06", "start_time": "10:00", "end_time": "11:00"}


@pytest.fixture
def loop(db):
    mallory = UserFactory(username="mallory")
    victim = UserFactory(username="victim")
    make_friends(mallory, victim)
    calendar = CalendarFactory(creator=mallory, title="Win a prize! Click https://evil.example")
    DayFactory(calendar=calendar, date=datetime.date(2030, 5, 6), ranking=1)
    InvitationFactory(calendar=calendar, invitee=victim, status="accepted")
    return client_for(mallory), calendar, victim


def test_finalize_and_undo_in_a_loop_is_capped_per_recipient(loop, settings):
    settings.EMAIL_RECIPIENT_HOURLY_CAP = 4
    client, calendar, victim = loop
    url = f"/calendars/{calendar.pk}/finalize/"
    for _ in range(8):  # 16 notices to the victim: 8 fixed, 8 cancelled
        assert client.post(url, MEETING, format="json").status_code == 200
        assert client.delete(url).status_code == 200
    run_tasks()
    to_victim = [m for m in mail.outbox if m.to == [victim.email]]
    assert len(to_victim) == 4
    dropped = Email.objects.filter(to=victim.email, status=EmailStatus.DROPPED)
    assert dropped.count() == 12
    assert set(dropped.values_list("last_error", flat=True)) == {"over the cap of 4 emails an hour to one address"}


def test_an_unconfirmed_victim_gets_nothing_at_all(loop):
    client, calendar, victim = loop
    victim.verified_email = ""
    victim.save()
    url = f"/calendars/{calendar.pk}/finalize/"
    for _ in range(3):
        client.post(url, MEETING, format="json")
        client.delete(url)
    run_tasks()
    assert [m for m in mail.outbox if m.to == [victim.email]] == []
    assert not Email.objects.filter(to=victim.email).exists()


def test_registering_with_someone_elses_address_sends_one_confirmation(api_client, settings):
    # Each registration mails a confirmation; the per-address cap bounds how many one address gets.
    settings.EMAIL_RECIPIENT_HOURLY_CAP = 2
    for i in range(4):
        body = {
            "username": f"m{i}",
            "email": "victim@example.com",
            "password": "c0rrect-h0rse",
            "password2": "c0rrect-h0rse",
        }
        assert api_client.post("/auth/register/", body, format="json").status_code == 201
    run_tasks()
    assert len([m for m in mail.outbox if m.to == ["victim@example.com"]]) == 2

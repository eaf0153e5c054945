"""Concurrent invitation writes: row locks and the unique constraint keep the data whole.

On PostgreSQL and on SQLite (a file, one writer at a time); the three tests that hold a lock and watch
another session queue on it in `pg_locks` run on PostgreSQL only.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from calendars.models import Invitation
from contacts.models import Contact
from invitations.services import invitations_end_between
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory, make_friends
from tests.support import run_together, start_together

pytestmark = [pytest.mark.concurrent, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    make_friends(alice, bob)
    calendar = CalendarFactory(creator=alice)
    day = DayFactory(calendar=calendar)
    return alice, bob, calendar, day


def url(calendar_id: int, invitation_id: int | None = None) -> str:
    base = f"/calendars/{calendar_id}/invitations/"
    return base if invitation_id is None else f"{base}{invitation_id}/"


def wait_for_lock_waiters(count: int, timeout: float = 10.0) -> None:
    """Block until `count` other sessions wait on a lock (pg_locks is live, not a snapshot)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.02)
    pytest.fail(f"expected {count} sessions waiting on a lock")


def put_status(client, invitation: Invitation, status: str) -> Callable[[], int]:
    return lambda: client.put(url(invitation.calendar_id, invitation.id), {"status": status}).status_code


class TestConcurrentAnswers:
    @pytest.mark.postgres  # watches pg_locks
    def test_two_answers_wait_for_each_other(self, setup):
        _alice, bob, calendar, day = setup
        invitation = InvitationFactory(calendar=calendar, invitee=bob)
        TimeSlotFactory(day=day, owner=bob)  # left over from an earlier acceptance
        clients = [client_for(bob), client_for(bob)]
        with transaction.atomic():
            # Hold the row so both answers are inside the service, queued on the lock, before either runs.
            Invitation.objects.select_for_update().get(pk=invitation.pk)
            answers = start_together(
                put_status(clients[0], invitation, "accepted"), put_status(clients[1], invitation, "rejected")
            )
            wait_for_lock_waiters(2)
        codes = answers.join(timeout=30)

        invitation.refresh_from_db()
        # Serial either way: accept then reject (204, 204), or reject then a refused accept (409).
        assert invitation.status == "rejected"
        assert codes[1] == 204
        assert codes[0] in (204, 409)
        assert not bob.timeslots.exists()

    def test_reject_and_accept_race_with_slots(self, setup):
        _alice, bob, calendar, day = setup
        invitation = InvitationFactory(calendar=calendar, invitee=bob, status="accepted")
        for hour in (9, 11, 13):
            TimeSlotFactory(day=day, owner=bob, start_time=datetime.time(hour), end_time=datetime.time(hour, 30))
        clients = [client_for(bob) for _ in range(4)]
        codes = run_together(
            put_status(clients[0], invitation, "rejected"),
            put_status(clients[1], invitation, "accepted"),
            put_status(clients[2], invitation, "rejected"),
            put_status(clients[3], invitation, "accepted"),
            timeout=30,
        )
        assert all(code in (204, 404, 409) for code in codes), codes
        invitation.refresh_from_db()
        # Some rejection ran, so it ends rejected (a later accept is refused) and no slot is left behind.
        assert invitation.status == "rejected"
        assert not bob.timeslots.filter(day__calendar=calendar).exists()

    def test_revoke_while_answering(self, setup):
        alice, bob, calendar, day = setup
        invitation = InvitationFactory(calendar=calendar, invitee=bob, status="accepted")
        TimeSlotFactory(day=day, owner=bob)
        creator_client, bob_client = client_for(alice), client_for(bob)
        codes = run_together(
            lambda: creator_client.delete(url(calendar.id, invitation.id)).status_code,
            put_status(bob_client, invitation, "rejected"),
            timeout=30,
        )
        assert codes[0] == 204
        assert codes[1] in (204, 404), codes
        assert not Invitation.objects.exists()
        assert not bob.timeslots.exists()


class TestConcurrentInvites:
    def test_same_invitee_twice_at_once(self, setup):
        alice, _bob, calendar, _day = setup
        clients = [client_for(alice), client_for(alice)]
        codes = run_together(
            *(lambda c=c: c.post(url(calendar.id), {"invitee_username": "bob"}).status_code for c in clients),
            timeout=30,
        )
        assert sorted(codes) == [201, 409]
        assert Invitation.objects.count() == 1

    @pytest.mark.postgres  # watches pg_locks
    def test_unique_constraint_loser_gets_409(self, setup):
        alice, bob, calendar, _day = setup
        client = client_for(alice)
        with transaction.atomic():
            # An uncommitted invitation of bob: the request does not see it, inserts, and waits on the index.
            Invitation.objects.create(calendar=calendar, invitee=bob, inviter=alice)
            invite = start_together(lambda: client.post(url(calendar.id), {"invitee_username": "bob"}))
            wait_for_lock_waiters(1)
        [response] = invite.join(timeout=30)
        assert response.status_code == 409
        assert response.json() == {"detail": "bob is already invited to this calendar."}
        assert Invitation.objects.count() == 1

    @pytest.mark.postgres  # watches pg_locks
    def test_invite_waits_for_a_concurrent_unfriend(self, setup):
        alice, bob, calendar, _day = setup
        client = client_for(alice)
        with transaction.atomic():
            # As contacts' unadd does: lock the friendship, end it, end the invitations.
            Contact.objects.select_for_update().get()
            Contact.objects.all().delete()
            invitations_end_between(user_a=alice, user_b=bob)
            invite = start_together(lambda: client.post(url(calendar.id), {"invitee_username": "bob"}))
            wait_for_lock_waiters(1)
        [response] = invite.join(timeout=30)
        assert response.status_code == 400
        assert response.json() == {"invitee_username": ["You can only invite your friends."]}
        assert not Invitation.objects.exists()

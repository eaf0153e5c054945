"""Concurrent requests (PostgreSQL, SQLite in a file): one relation per pair, a 200 or a 409, never a 500."""

from __future__ import annotations

import pytest

from contacts.models import Contact, ContactStatus
from tests.conftest import client_for
from tests.factories import ContactFactory, UserFactory
from tests.support import run_together

pytestmark = [pytest.mark.concurrent, pytest.mark.django_db(transaction=True)]

ROUNDS = 8


def run_at_once(calls):
    """Run (client, action, username) posts in threads released together; return the responses in order."""
    posts = [
        (lambda c=client, a=action, u=username: c.post(f"/contacts/{a}/", {"username": u}, format="json"))
        for client, action, username in calls
    ]
    return run_together(*posts, timeout=30)


def pair(n: int):
    a, b = UserFactory(username=f"ann{n}"), UserFactory(username=f"ben{n}")
    return a, b, client_for(a), client_for(b)


def test_adding_each_other_at_once_makes_one_request():
    for n in range(ROUNDS):
        a, b, client_a, client_b = pair(n)
        first, second = run_at_once([(client_a, "add", b.username), (client_b, "add", a.username)])
        codes = sorted([first.status_code, second.status_code])
        assert codes == [200, 409], (first.json(), second.json())
        loser = first if first.status_code == 409 else second
        winner_name = b.username if loser is first else a.username
        assert loser.json() == {"detail": f"{winner_name} already sent you a request; accept it."}
        relations = list(Contact.objects.between(a, b))
        assert len(relations) == 1
        assert relations[0].status == ContactStatus.PENDING


def test_double_submitted_add_makes_one_request():
    for n in range(ROUNDS):
        a, b, client_a, _ = pair(n)
        responses = run_at_once([(client_a, "add", b.username)] * 3)
        assert sorted(r.status_code for r in responses) == [200, 409, 409]
        assert Contact.objects.between(a, b).count() == 1


def test_blocking_each_other_at_once_leaves_one_block():
    for n in range(ROUNDS):
        a, b, client_a, client_b = pair(n)
        make_friends = n % 2 == 0  # from no relation, and by rewriting a friendship
        if make_friends:
            ContactFactory(userA=a, userB=b, status=ContactStatus.FRIENDS)
        first, second = run_at_once([(client_a, "block", b.username), (client_b, "block", a.username)])
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        winner = a if first.status_code == 200 else b
        relation = Contact.objects.between(a, b).get()
        assert (relation.userA_id, relation.status) == (winner.id, ContactStatus.BLOCKED)


def test_add_racing_a_block_always_ends_blocked():
    """Whichever runs first, the block wins: it refuses the add or rewrites the request."""
    for n in range(ROUNDS):
        a, b, client_a, client_b = pair(n)
        adding, blocking = run_at_once([(client_a, "add", b.username), (client_b, "block", a.username)])
        assert adding.status_code in {200, 409}
        assert blocking.status_code == 200
        relation = Contact.objects.between(a, b).get()
        assert (relation.userA_id, relation.userB_id, relation.status) == (b.id, a.id, ContactStatus.BLOCKED)


def test_accept_racing_unadd_of_the_request():
    """The requester cancels while the recipient accepts: one wins, the other gets a clear 4xx."""
    for n in range(ROUNDS):
        a, b, client_a, client_b = pair(n)
        ContactFactory(userA=a, userB=b, status=ContactStatus.PENDING)
        cancel, accept = run_at_once([(client_a, "unadd", b.username), (client_b, "accept", a.username)])
        # Accepted first: the cancel then ends the new friendship. Cancelled first: nothing to accept.
        assert (cancel.status_code, accept.status_code) in {(200, 200), (200, 404)}
        assert not Contact.objects.between(a, b).exists()

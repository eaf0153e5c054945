"""Contacts: every move and refusal of the state machine, /contacts/ CRUD, the user lists, query counts."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from rest_framework.exceptions import NotFound, ValidationError

from calendars.models import Invitation, TimeSlot
from contacts import services
from contacts.models import Contact, ContactStatus
from contacts.signals import relation_severed
from invitations import services as invitation_services
from tests.conftest import client_for
from tests.factories import (
    CalendarFactory,
    ContactFactory,
    DayFactory,
    InvitationFactory,
    TimeSlotFactory,
    UserFactory,
    make_friends,
)

pytestmark = pytest.mark.django_db

FRIENDS, PENDING, REJECTED, BLOCKED = 1, 2, 3, 4
ACTIONS = ["add", "accept", "reject", "block", "unblock", "unadd"]


def act(client, action: str, username: str, fmt: str = "json"):
    return client.post(f"/contacts/{action}/", {"username": username}, format=fmt)


def as_json(contact: Contact) -> dict:
    return {"id": contact.id, "userA": contact.userA_id, "userB": contact.userB_id, "status": contact.status}


def relation(a, b) -> dict | None:
    """The pair's relation as (userA, userB, status), or None."""
    row = Contact.objects.between(a, b).first()
    return None if row is None else {"userA": row.userA_id, "userB": row.userB_id, "status": row.status}


# The eight states of a pair, seen from `me`: how to build each.
STATES = {
    "none": None,
    "outgoing": ("me", PENDING),
    "incoming": ("other", PENDING),
    "friends_mine": ("me", FRIENDS),
    "friends_theirs": ("other", FRIENDS),
    "i_rejected": ("other", REJECTED),
    "they_rejected": ("me", REJECTED),
    "i_blocked": ("me", BLOCKED),
    "they_blocked": ("other", BLOCKED),
}


def build(state: str, me, other) -> Contact | None:
    spec = STATES[state]
    if spec is None:
        return None
    actor, status = spec
    a, b = (me, other) if actor == "me" else (other, me)
    return ContactFactory(userA=a, userB=b, status=status)


OK = "ok"
GONE = "gone"
N = "You have no relation with bob."
NOT_BLOCKED = "You have not blocked bob."
FRIENDS_ALREADY = "You and bob are already friends."
THEY_REJECTED = "bob declined your request."
I_BLOCKED = "You blocked bob; unblock them first."
THEY_BLOCKED = "bob has blocked you."
LIFT = "Only bob can lift this block."

# (action, state) -> (status code, what happens): OK + (userA is me?, new status), GONE, or the error detail.
EXPECTED = {
    ("add", "none"): (200, (OK, True, PENDING)),
    ("add", "outgoing"): (409, "You already sent bob a request; they have not answered yet."),
    ("add", "incoming"): (409, "bob already sent you a request; accept it."),
    ("add", "friends_mine"): (409, FRIENDS_ALREADY),
    ("add", "friends_theirs"): (409, FRIENDS_ALREADY),
    ("add", "i_rejected"): (200, (OK, True, PENDING)),
    ("add", "they_rejected"): (409, THEY_REJECTED),
    ("add", "i_blocked"): (409, I_BLOCKED),
    ("add", "they_blocked"): (409, THEY_BLOCKED),
    ("block", "none"): (200, (OK, True, BLOCKED)),
    ("block", "outgoing"): (200, (OK, True, BLOCKED)),
    ("block", "incoming"): (200, (OK, True, BLOCKED)),
    ("block", "friends_mine"): (200, (OK, True, BLOCKED)),
    ("block", "friends_theirs"): (200, (OK, True, BLOCKED)),
    ("block", "i_rejected"): (200, (OK, True, BLOCKED)),
    ("block", "they_rejected"): (200, (OK, True, BLOCKED)),
    ("block", "i_blocked"): (409, "You already blocked bob."),
    ("block", "they_blocked"): (409, THEY_BLOCKED),
    ("unblock", "none"): (404, N),
    ("unblock", "outgoing"): (409, NOT_BLOCKED),
    ("unblock", "incoming"): (409, NOT_BLOCKED),
    ("unblock", "friends_mine"): (409, NOT_BLOCKED),
    ("unblock", "friends_theirs"): (409, NOT_BLOCKED),
    ("unblock", "i_rejected"): (409, NOT_BLOCKED),
    ("unblock", "they_rejected"): (409, NOT_BLOCKED),
    ("unblock", "i_blocked"): (200, GONE),
    ("unblock", "they_blocked"): (403, LIFT),
    ("unadd", "none"): (404, N),
    ("unadd", "outgoing"): (200, GONE),
    ("unadd", "incoming"): (409, "bob's request is waiting for your answer; accept or reject it."),
    ("unadd", "friends_mine"): (200, GONE),
    ("unadd", "friends_theirs"): (200, GONE),
    ("unadd", "i_rejected"): (200, GONE),
    ("unadd", "they_rejected"): (409, "bob declined your request; only they can clear it."),
    ("unadd", "i_blocked"): (409, "You blocked bob; unblock them instead."),
    ("unadd", "they_blocked"): (403, LIFT),
}
for _answer, _status in (("accept", FRIENDS), ("reject", REJECTED)):
    EXPECTED.update(
        {
            (_answer, "none"): (404, "bob has not sent you a request."),
            (_answer, "outgoing"): (409, "You sent this request; bob has to answer it."),
            (_answer, "incoming"): (200, (OK, False, _status)),
            (_answer, "friends_mine"): (409, FRIENDS_ALREADY),
            (_answer, "friends_theirs"): (409, FRIENDS_ALREADY),
            (_answer, "i_rejected"): (409, "You already declined bob's request."),
            (_answer, "they_rejected"): (409, THEY_REJECTED),
            (_answer, "i_blocked"): (409, I_BLOCKED),
            (_answer, "they_blocked"): (409, THEY_BLOCKED),
        }
    )


def test_the_table_covers_every_action_in_every_state():
    assert set(EXPECTED) == {(a, s) for a in ACTIONS for s in STATES}


@pytest.mark.parametrize(("action", "state"), sorted(EXPECTED))
def test_action_in_state(auth_client, user, other_user, action, state):
    before = build(state, user, other_user)
    before_json = as_json(before) if before else None
    code, outcome = EXPECTED[(action, state)]

    response = act(auth_client, action, "bob")

    assert response.status_code == code, response.json()
    if outcome == GONE:
        assert response.json() == before_json  # the relation as it was removed
        assert relation(user, other_user) is None
    elif isinstance(outcome, tuple):
        _, mine, status = outcome
        row = Contact.objects.between(user, other_user).get()
        a, b = (user, other_user) if mine else (other_user, user)
        assert response.json() == {"id": row.id, "userA": a.id, "userB": b.id, "status": status}
        assert (row.userA_id, row.userB_id, row.status) == (a.id, b.id, status)
        if before is not None:
            assert row.id == before.id  # rewritten in place, still one relation
    else:
        assert response.json() == {"detail": outcome}
        assert relation(user, other_user) == (
            None if before is None else {k: v for k, v in before_json.items() if k != "id"}
        )
    assert Contact.objects.count() == (0 if relation(user, other_user) is None else 1)


class TestActionInput:
    @pytest.mark.parametrize("action", ACTIONS)
    def test_unauthenticated(self, api_client, other_user, action):
        response = act(api_client, action, "bob")
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}

    @pytest.mark.parametrize("action", ACTIONS)
    @pytest.mark.parametrize("name", ["alice", "ALICE"])
    def test_myself(self, auth_client, user, action, name):
        response = act(auth_client, action, name)
        assert response.status_code == 400
        assert response.json() == {"username": [f"You cannot {action} yourself."]}
        assert not Contact.objects.exists()

    @pytest.mark.parametrize("action", ACTIONS)
    def test_unknown_user(self, auth_client, action):
        response = act(auth_client, action, "ghost")
        assert response.status_code == 404
        assert response.json() == {"detail": "There is no user named ghost."}

    @pytest.mark.parametrize("action", ACTIONS)
    def test_missing_username(self, auth_client, action):
        response = auth_client.post(f"/contacts/{action}/", {}, format="json")
        assert response.status_code == 400
        assert response.json() == {"username": ["This field is required."]}

    def test_overlong_and_blank_username(self, auth_client):
        assert act(auth_client, "add", "x" * 151).json() == {
            "username": ["Ensure this field has no more than 150 characters."]
        }
        assert act(auth_client, "add", "").json() == {"username": ["This field may not be blank."]}

    def test_username_in_any_case(self, auth_client, user, other_user):
        response = act(auth_client, "add", "BoB")
        assert response.status_code == 200
        assert relation(user, other_user) == {"userA": user.id, "userB": other_user.id, "status": PENDING}

    @pytest.mark.parametrize("fmt", ["multipart", "urlencoded"])
    def test_form_bodies(self, auth_client, user, other_user, fmt):
        if fmt == "multipart":
            response = act(auth_client, "add", "bob", fmt="multipart")
        else:
            response = auth_client.post(
                "/contacts/add/", "username=bob", content_type="application/x-www-form-urlencoded"
            )
        assert response.status_code == 200
        assert relation(user, other_user)["status"] == PENDING

    @pytest.mark.parametrize("action", ACTIONS)
    def test_get_is_not_allowed(self, auth_client, action):
        assert auth_client.get(f"/contacts/{action}/").status_code == 405


class TestWholeStories:
    def test_request_accept_unfriend(self, auth_client, other_client, user, other_user):
        assert act(auth_client, "add", "bob").status_code == 200
        assert other_client.get("/contacts/incoming/").json()["results"] == [{"id": user.id, "username": "alice"}]
        accepted = act(other_client, "accept", "alice")
        assert accepted.status_code == 200
        assert accepted.json()["status"] == FRIENDS
        assert accepted.json()["userA"] == user.id  # the requester stays userA
        assert auth_client.get("/contacts/friends/").json()["results"] == [{"id": other_user.id, "username": "bob"}]
        assert other_client.get("/contacts/friends/").json()["results"] == [{"id": user.id, "username": "alice"}]
        assert act(other_client, "unadd", "alice").status_code == 200
        assert auth_client.get("/contacts/friends/").json()["results"] == []

    def test_rejected_requester_waits_until_the_rejecter_clears_it(self, auth_client, other_client, user, other_user):
        act(auth_client, "add", "bob")
        assert act(other_client, "reject", "alice").json()["status"] == REJECTED
        assert act(auth_client, "add", "bob").status_code == 409
        assert act(auth_client, "unadd", "bob").status_code == 409
        assert act(other_client, "unadd", "alice").status_code == 200
        assert act(auth_client, "add", "bob").status_code == 200

    def test_rejecter_can_ask_back(self, auth_client, other_client, user, other_user):
        act(auth_client, "add", "bob")
        act(other_client, "reject", "alice")
        response = act(other_client, "add", "alice")
        assert response.status_code == 200
        assert relation(user, other_user) == {"userA": other_user.id, "userB": user.id, "status": PENDING}
        assert act(auth_client, "accept", "bob").json()["status"] == FRIENDS

    def test_blocked_user_cannot_override_or_lift(self, auth_client, other_client, user, other_user):
        make_friends(user, other_user)
        assert act(auth_client, "block", "bob").status_code == 200
        for action, code in [("block", 409), ("unblock", 403), ("unadd", 403), ("add", 409), ("accept", 409)]:
            assert act(other_client, action, "alice").status_code == code, action
        assert relation(user, other_user) == {"userA": user.id, "userB": other_user.id, "status": BLOCKED}
        assert act(auth_client, "unblock", "bob").status_code == 200
        assert relation(user, other_user) is None


class TestThirdUser:
    """Carol is part of neither relation: she sees nothing of it and changes nothing."""

    @pytest.fixture
    def contact(self, user, other_user):
        return make_friends(user, other_user)

    def test_sees_nothing(self, third_client, contact):
        assert third_client.get(f"/contacts/{contact.id}/").status_code == 404
        assert third_client.get("/contacts/").json()["results"] == []
        assert third_client.get("/contacts/friends/").json()["results"] == []

    @pytest.mark.parametrize(
        ("method", "body"),
        [("get", None), ("put", {"status": BLOCKED}), ("patch", {"status": BLOCKED}), ("delete", None)],
    )
    def test_changes_nothing(self, third_client, contact, user, other_user, method, body):
        if method == "put":
            body = {**body, "userB": other_user.id}
        response = getattr(third_client, method)(f"/contacts/{contact.id}/", body, format="json")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}  # exactly as for an id that does not exist
        assert relation(user, other_user) == {"userA": user.id, "userB": other_user.id, "status": FRIENDS}

    def test_own_moves_touch_only_her_relations(self, third_client, contact, user, other_user, third_user):
        assert act(third_client, "block", "alice").status_code == 200
        assert act(third_client, "unadd", "bob").json() == {"detail": "You have no relation with bob."}
        assert relation(user, other_user) == {"userA": user.id, "userB": other_user.id, "status": FRIENDS}
        assert Contact.objects.count() == 2


class TestEndedFriendshipEndsInvitations:
    """A former friend or blocked user stops being invited to or taking part in the other's calendars."""

    @pytest.fixture
    def calendars(self, user, other_user, third_user):
        make_friends(user, other_user)
        make_friends(user, third_user)
        mine = CalendarFactory(creator=user)
        theirs = CalendarFactory(creator=other_user)
        day = DayFactory(calendar=mine)
        their_day = DayFactory(calendar=theirs)
        InvitationFactory(calendar=mine, invitee=other_user, status="accepted")
        InvitationFactory(calendar=mine, invitee=third_user, status="accepted")
        InvitationFactory(calendar=theirs, invitee=user, status="pending")
        TimeSlotFactory(day=day, owner=other_user)
        TimeSlotFactory(day=day, owner=third_user)
        TimeSlotFactory(day=day, owner=user, start_time=datetime.time(11), end_time=datetime.time(12))
        TimeSlotFactory(day=their_day, owner=other_user)
        return mine, theirs

    def assert_ended(self, user, other_user, third_user, mine, theirs):
        assert not Invitation.objects.filter(calendar=mine, invitee=other_user).exists()
        assert not Invitation.objects.filter(calendar=theirs, invitee=user).exists()
        # Carol's place and everyone's own slots are untouched.
        assert Invitation.objects.filter(calendar=mine, invitee=third_user, status="accepted").exists()
        assert set(TimeSlot.objects.values_list("owner__username", "day__calendar")) == {
            ("carol", mine.id),
            ("alice", mine.id),
            ("bob", theirs.id),
        }

    @pytest.mark.parametrize(
        ("who", "action"), [("me", "unadd"), ("them", "unadd"), ("me", "block"), ("them", "block")]
    )
    def test_action(self, auth_client, other_client, user, other_user, third_user, calendars, who, action):
        client, name = (auth_client, "bob") if who == "me" else (other_client, "alice")
        assert act(client, action, name).status_code == 200
        self.assert_ended(user, other_user, third_user, *calendars)

    def test_delete_of_friendship(self, auth_client, user, other_user, third_user, calendars):
        contact = Contact.objects.between(user, other_user).get()
        assert auth_client.delete(f"/contacts/{contact.id}/").status_code == 204
        self.assert_ended(user, other_user, third_user, *calendars)

    def test_patch_to_blocked(self, other_client, user, other_user, third_user, calendars):
        contact = Contact.objects.between(user, other_user).get()
        assert other_client.patch(f"/contacts/{contact.id}/", {"status": BLOCKED}, format="json").status_code == 200
        self.assert_ended(user, other_user, third_user, *calendars)

    def test_refused_move_ends_nothing(self, auth_client, user, other_user, calendars):
        assert act(auth_client, "add", "bob").status_code == 409
        assert Invitation.objects.count() == 3

    def test_rolled_back_with_the_block(self, auth_client, user, other_user, calendars, monkeypatch):
        # Both writes share one transaction: a failure in either leaves everything as it was.
        def explode(**kwargs):
            raise IntegrityError("simulated")

        # The invitations app ends them through the contacts.signals.relation_severed receiver.
        monkeypatch.setattr(invitation_services, "invitations_end_between", explode)
        with pytest.raises(IntegrityError):
            services.contact_block(actor=user, other=other_user)
        assert relation(user, other_user)["status"] == FRIENDS
        assert Invitation.objects.count() == 3


class TestContactViewSet:
    def test_unauthenticated(self, api_client, user, other_user):
        contact = make_friends(user, other_user)
        for method, url in [
            ("get", "/contacts/"),
            ("post", "/contacts/"),
            ("get", f"/contacts/{contact.id}/"),
            ("put", f"/contacts/{contact.id}/"),
            ("patch", f"/contacts/{contact.id}/"),
            ("delete", f"/contacts/{contact.id}/"),
        ]:
            assert getattr(api_client, method)(url).status_code == 401, (method, url)

    def test_list_shows_only_my_relations(self, auth_client, user, other_user, third_user):
        mine = ContactFactory(userA=user, userB=other_user, status=PENDING)
        theirs = ContactFactory(userA=third_user, userB=user, status=BLOCKED)
        ContactFactory(userA=other_user, userB=third_user, status=FRIENDS)
        response = auth_client.get("/contacts/")
        assert response.status_code == 200
        assert response.json() == {
            "count": 2,
            "next": None,
            "previous": None,
            "results": [as_json(mine), as_json(theirs)],
        }

    def test_retrieve(self, auth_client, other_client, user, other_user):
        contact = ContactFactory(userA=user, userB=other_user, status=PENDING)
        assert auth_client.get(f"/contacts/{contact.id}/").json() == as_json(contact)
        assert other_client.get(f"/contacts/{contact.id}/").json() == as_json(contact)

    @pytest.mark.parametrize("path", ["/contacts/999999/", "/contacts/abc/"])
    def test_unknown_id(self, auth_client, path):
        response = auth_client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_create_is_add(self, auth_client, user, other_user):
        response = auth_client.post("/contacts/", {"userB": other_user.id, "userA": 12345, "id": 7}, format="json")
        assert response.status_code == 201
        contact = Contact.objects.get()
        assert response.json() == {"id": contact.id, "userA": user.id, "userB": other_user.id, "status": PENDING}

    def test_create_with_pending_status(self, auth_client, user, other_user):
        response = auth_client.post("/contacts/", {"userB": other_user.id, "status": PENDING}, format="json")
        assert response.status_code == 201
        contact = Contact.objects.get()
        assert response.json() == {"id": contact.id, "userA": user.id, "userB": other_user.id, "status": PENDING}
        assert relation(user, other_user) == {"userA": user.id, "userB": other_user.id, "status": PENDING}

    @pytest.mark.parametrize("status", [FRIENDS, REJECTED, BLOCKED])
    def test_create_with_another_status(self, auth_client, other_user, status):
        response = auth_client.post("/contacts/", {"userB": other_user.id, "status": status}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "status": ["A new relation is always a pending request (2); use POST /contacts/block/ to block."]
        }
        assert not Contact.objects.exists()

    def test_create_refusals(self, auth_client, user, other_user):
        assert auth_client.post("/contacts/", {"userB": user.id}, format="json").json() == {
            "userB": ["You cannot add yourself."]
        }
        assert auth_client.post("/contacts/", {"userB": 999999}, format="json").json() == {
            "userB": ['Invalid pk "999999" - object does not exist.']
        }
        assert auth_client.post("/contacts/", {}, format="json").json() == {"userB": ["This field is required."]}
        ContactFactory(userA=other_user, userB=user, status=BLOCKED)
        response = auth_client.post("/contacts/", {"userB": other_user.id}, format="json")
        assert response.status_code == 409
        assert response.json() == {"detail": "bob has blocked you."}

    def test_recipient_accepts_with_patch(self, other_client, user, other_user):
        contact = ContactFactory(userA=user, userB=other_user, status=PENDING)
        response = other_client.patch(f"/contacts/{contact.id}/", {"status": FRIENDS}, format="json")
        assert response.status_code == 200
        assert response.json() == {"id": contact.id, "userA": user.id, "userB": other_user.id, "status": FRIENDS}

    def test_recipient_rejects_with_put(self, other_client, user, other_user):
        contact = ContactFactory(userA=user, userB=other_user, status=PENDING)
        response = other_client.put(f"/contacts/{contact.id}/", {"userB": other_user.id, "status": REJECTED})
        assert response.status_code == 200
        assert response.json() == {"id": contact.id, "userA": user.id, "userB": other_user.id, "status": REJECTED}

    def test_requester_cannot_make_friends(self, auth_client, user, other_user):
        contact = ContactFactory(userA=user, userB=other_user, status=PENDING)
        response = auth_client.patch(f"/contacts/{contact.id}/", {"status": FRIENDS}, format="json")
        assert response.status_code == 409
        assert response.json() == {"detail": "You sent this request; bob has to answer it."}
        assert relation(user, other_user)["status"] == PENDING

    @pytest.mark.parametrize(("status", "detail"), [(FRIENDS, THEY_BLOCKED), (PENDING, THEY_BLOCKED), (BLOCKED, None)])
    def test_blocked_user_cannot_patch_the_block_away(self, other_client, user, other_user, status, detail):
        contact = ContactFactory(userA=user, userB=other_user, status=BLOCKED)
        response = other_client.patch(f"/contacts/{contact.id}/", {"status": status}, format="json")
        if detail is None:  # the same status: no change
            assert response.status_code == 200
            assert response.json() == as_json(contact)
        else:
            assert response.status_code == 409
            assert response.json() == {"detail": detail.replace("bob", "alice")}
        assert relation(user, other_user) == {"userA": user.id, "userB": other_user.id, "status": BLOCKED}

    @pytest.mark.parametrize("who", ["requester", "recipient"])
    def test_block_with_patch_makes_me_userA(self, auth_client, other_client, user, other_user, who):
        contact = ContactFactory(userA=user, userB=other_user, status=FRIENDS)
        client, me, them = (auth_client, user, other_user) if who == "requester" else (other_client, other_user, user)
        response = client.patch(f"/contacts/{contact.id}/", {"status": BLOCKED}, format="json")
        assert response.status_code == 200
        assert response.json() == {"id": contact.id, "userA": me.id, "userB": them.id, "status": BLOCKED}

    def test_rejecter_asks_back_with_patch(self, other_client, user, other_user):
        contact = ContactFactory(userA=user, userB=other_user, status=REJECTED)
        response = other_client.patch(f"/contacts/{contact.id}/", {"status": PENDING}, format="json")
        assert response.status_code == 200
        assert response.json() == {"id": contact.id, "userA": other_user.id, "userB": user.id, "status": PENDING}

    def test_same_status_and_empty_patch_change_nothing(self, auth_client, user, other_user):
        contact = ContactFactory(userA=user, userB=other_user, status=FRIENDS)
        for body in ({"status": FRIENDS}, {}, {"userA": 99, "id": 5}):
            response = auth_client.patch(f"/contacts/{contact.id}/", body, format="json")
            assert response.status_code == 200
            assert response.json() == as_json(contact)

    def test_users_cannot_be_changed(self, auth_client, user, other_user, third_user):
        contact = ContactFactory(userA=user, userB=other_user, status=FRIENDS)
        response = auth_client.patch(f"/contacts/{contact.id}/", {"userB": third_user.id}, format="json")
        assert response.status_code == 400
        assert response.json() == {"userB": ["The users of a relation cannot be changed."]}
        response = auth_client.put(f"/contacts/{contact.id}/", {"status": BLOCKED}, format="json")
        assert response.status_code == 400
        assert response.json() == {"userB": ["This field is required."]}
        assert relation(user, other_user)["status"] == FRIENDS

    @pytest.mark.parametrize("status", [0, 5, "friends", None])
    def test_bad_status(self, auth_client, user, other_user, status):
        contact = ContactFactory(userA=user, userB=other_user, status=FRIENDS)
        response = auth_client.patch(f"/contacts/{contact.id}/", {"status": status}, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["status"]

    @pytest.mark.parametrize(
        ("state", "code", "detail"),
        [
            ("friends_mine", 204, None),
            ("friends_theirs", 204, None),
            ("outgoing", 204, None),
            ("i_rejected", 204, None),
            ("i_blocked", 204, None),
            ("they_blocked", 403, LIFT),
            ("incoming", 409, "bob's request is waiting for your answer; accept or reject it."),
            ("they_rejected", 409, "bob declined your request; only they can clear it."),
        ],
    )
    def test_delete(self, auth_client, user, other_user, state, code, detail):
        contact = build(state, user, other_user)
        response = auth_client.delete(f"/contacts/{contact.id}/")
        assert response.status_code == code
        if detail is None:
            assert response.content == b""
            assert relation(user, other_user) is None
        else:
            assert response.json() == {"detail": detail}
            assert Contact.objects.filter(pk=contact.pk).exists()


def usernames(response) -> list[str]:
    return [u["username"] for u in response.json()["results"]]


class TestUserLists:
    LISTS = ["friends", "incoming", "outgoing", "blocked", "search"]

    @pytest.mark.parametrize("name", LISTS)
    def test_unauthenticated(self, api_client, db, name):
        assert api_client.get(f"/contacts/{name}/").status_code == 401

    @pytest.fixture
    def world(self, user):
        # Names chosen out of creation order, to see the lists sort by username.
        people = {n: UserFactory(username=n) for n in ["zed", "yan", "xia", "wu", "val", "uma", "tom", "sam", "rob"]}
        make_friends(user, people["zed"])
        make_friends(people["yan"], user)  # friends either way round
        ContactFactory(userA=people["xia"], userB=user, status=PENDING)
        ContactFactory(userA=user, userB=people["wu"], status=PENDING)
        ContactFactory(userA=user, userB=people["val"], status=REJECTED)
        ContactFactory(userA=people["uma"], userB=user, status=REJECTED)
        ContactFactory(userA=user, userB=people["tom"], status=BLOCKED)
        ContactFactory(userA=people["sam"], userB=user, status=BLOCKED)
        ContactFactory(userA=people["rob"], userB=people["zed"], status=FRIENDS)  # not mine
        return people

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("friends", ["yan", "zed"]),
            ("incoming", ["xia"]),
            ("outgoing", ["wu"]),
            ("blocked", ["tom"]),
            ("search", ["rob", "uma", "val", "wu", "xia", "yan", "zed"]),
        ],
    )
    def test_lists(self, auth_client, world, name, expected):
        response = auth_client.get(f"/contacts/{name}/")
        assert response.status_code == 200
        body = response.json()
        assert body == {
            "count": len(expected),
            "next": None,
            "previous": None,
            "results": [{"id": world[n].id, "username": n} for n in expected],
        }

    def test_the_other_side_sees_the_mirror(self, world):
        assert usernames(client_for(world["xia"]).get("/contacts/outgoing/")) == ["alice"]
        assert usernames(client_for(world["wu"]).get("/contacts/incoming/")) == ["alice"]
        assert usernames(client_for(world["zed"]).get("/contacts/friends/")) == ["alice", "rob"]
        # Alice blocked Tom and Sam blocked Alice: neither finds the other.
        assert "alice" not in usernames(client_for(world["tom"]).get("/contacts/search/"))
        assert "alice" not in usernames(client_for(world["sam"]).get("/contacts/search/"))

    @pytest.mark.parametrize(
        ("text", "expected"), [("A", ["uma", "val", "xia", "yan"]), ("  z ", ["zed"]), ("ALI", [])]
    )
    def test_search_text(self, auth_client, world, text, expected):
        assert usernames(auth_client.get("/contacts/search/", {"search": text})) == expected

    def test_pages(self, auth_client, world):
        response = auth_client.get("/contacts/search/", {"page_size": 3, "page": 2})
        body = response.json()
        assert body["count"] == 7
        assert [u["username"] for u in body["results"]] == ["wu", "xia", "yan"]
        assert body["next"].endswith("/contacts/search/?page=3&page_size=3")
        assert auth_client.get("/contacts/search/", {"page": 9}).status_code == 404

    @pytest.mark.parametrize("name", [*LISTS, ""])
    def test_query_count_is_flat(self, django_assert_num_queries, user, name):
        """Auth, count, page: three queries for 3 rows and for 15; the user lists two (auth, all their rows)."""
        client = client_for(user)
        status = {"friends": FRIENDS, "blocked": BLOCKED}.get(name, PENDING)
        counts, made = [], 0
        for size in (3, 15):
            while made < size:
                other = UserFactory()
                a, b = (other, user) if name == "incoming" else (user, other)
                ContactFactory(userA=a, userB=b, status=status)
                made += 1
            with django_assert_num_queries(3 if name in ("", "search") else 2):
                response = client.get(f"/contacts/{name}/" if name else "/contacts/", {"page_size": 100})
            assert response.status_code == 200
            counts.append(response.json()["count"])
        assert counts == [3, 15]


class TestRaces:
    """The race paths, made deterministic: the other request's row appears between our read and our insert."""

    def late_reader(self, monkeypatch, *, always: bool = False):
        real = services.contact_between
        calls = []

        def fake(**kwargs):
            calls.append(kwargs)
            if always or len(calls) == 1:
                return None  # as if the other request had not committed yet
            return real(**kwargs)

        monkeypatch.setattr(services, "contact_between", fake)
        return calls

    def test_add_both_ways_at_once(self, auth_client, user, other_user, monkeypatch):
        ContactFactory(userA=other_user, userB=user, status=PENDING)  # Bob's request won the race
        calls = self.late_reader(monkeypatch)
        response = act(auth_client, "add", "bob")
        assert response.status_code == 409
        assert response.json() == {"detail": "bob already sent you a request; accept it."}
        assert Contact.objects.count() == 1
        # Read twice (the insert lost, so the winner's row is read again), each time under the row lock.
        assert calls == [{"user": user, "other": other_user, "lock": True}] * 2

    def test_block_after_losing_the_race_rewrites(self, auth_client, user, other_user, monkeypatch):
        ContactFactory(userA=other_user, userB=user, status=PENDING)
        calls = self.late_reader(monkeypatch)
        response = act(auth_client, "block", "bob")
        assert response.status_code == 200
        assert relation(user, other_user) == {"userA": user.id, "userB": other_user.id, "status": BLOCKED}
        assert calls == [{"user": user, "other": other_user, "lock": True}] * 2

    def test_gives_up_with_409(self, auth_client, user, other_user, monkeypatch):
        ContactFactory(userA=other_user, userB=user, status=PENDING)
        calls = self.late_reader(monkeypatch, always=True)
        response = act(auth_client, "add", "bob")
        assert response.status_code == 409
        assert response.json() == {"detail": "The relation with bob changed at the same moment; try again."}
        # Two attempts, no more: the first insert and one retry, both losing; nothing was written.
        assert calls == [{"user": user, "other": other_user, "lock": True}] * 2
        assert relation(user, other_user) == {"userA": other_user.id, "userB": user.id, "status": PENDING}

    def test_status_change_after_the_relation_vanished(self, auth_client, user, other_user, monkeypatch):
        # The view found Bob's request; before the move locks it, Bob withdraws it (a concurrent DELETE,
        # committed outside the move's transaction).
        contact = ContactFactory(userA=other_user, userB=user, status=PENDING)
        real_other = Contact.other

        def other_then_withdrawn(self, me):
            Contact.objects.filter(pk=self.pk).delete()
            return real_other(self, me)

        monkeypatch.setattr(Contact, "other", other_then_withdrawn)
        response = auth_client.patch(f"/contacts/{contact.id}/", {"status": FRIENDS}, format="json")
        assert response.status_code == 404
        assert response.json() == {"detail": "You have no relation with bob."}
        assert not Contact.objects.exists()

    def test_database_refuses_a_second_relation_either_way(self, user, other_user):
        ContactFactory(userA=user, userB=other_user)
        for a, b in [(other_user, user), (user, other_user)]:
            with pytest.raises(IntegrityError), transaction.atomic():
                Contact.objects.create(userA=a, userB=b, status=PENDING)

    def test_database_refuses_self_and_bad_status(self, user, other_user):
        with pytest.raises(IntegrityError), transaction.atomic():
            Contact.objects.create(userA=user, userB=user)
        with pytest.raises(IntegrityError), transaction.atomic():
            Contact.objects.create(userA=user, userB=other_user, status=9)


# (move, the state it starts from, as in STATES): a state in which the move goes through.
MOVES_THAT_CHANGE = [
    (services.contact_add, "none"),
    (services.contact_add, "i_rejected"),
    (services.contact_accept, "incoming"),
    (services.contact_reject, "incoming"),
    (services.contact_block, "none"),
    (services.contact_block, "friends_mine"),
    (services.contact_unblock, "i_blocked"),
    (services.contact_unadd, "friends_theirs"),
    (services.contact_remove, "i_blocked"),
    (services.contact_remove, "outgoing"),
]


@pytest.mark.parametrize(("move", "state"), MOVES_THAT_CHANGE, ids=lambda v: getattr(v, "__name__", v))
def test_every_move_reads_the_relation_under_a_row_lock(user, other_user, monkeypatch, move, state):
    # SQLite ignores SELECT ... FOR UPDATE; the PostgreSQL race tests show what a lost lock does
    # (test_contacts_pg.py). Here: every read a move makes of the relation asks for the lock.
    build(state, user, other_user)
    real = services.contact_between
    calls = []

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(services, "contact_between", spy)
    move(actor=user, other=other_user)
    assert calls
    assert all(call == {"user": user, "other": other_user, "lock": True} for call in calls), calls


def test_change_status_reads_under_a_row_lock(user, other_user, monkeypatch):
    build("incoming", user, other_user)
    real = services.contact_between
    calls = []
    monkeypatch.setattr(services, "contact_between", lambda **kw: calls.append(kw) or real(**kw))
    services.contact_change_status(actor=user, other=other_user, status=FRIENDS)
    assert calls == [{"user": user, "other": other_user, "lock": True}] * 2  # the PATCH, then the accept
    assert relation(user, other_user) == {"userA": other_user.id, "userB": user.id, "status": FRIENDS}


def test_change_status_to_the_same_status_changes_nothing(user, other_user):
    contact = build("friends_theirs", user, other_user)
    updated_at = contact.updated_at
    assert services.contact_change_status(actor=user, other=other_user, status=FRIENDS).pk == contact.pk
    contact.refresh_from_db()
    assert contact.updated_at == updated_at
    assert relation(user, other_user) == {"userA": other_user.id, "userB": user.id, "status": FRIENDS}


def test_change_status_without_a_relation_is_refused(user, other_user):
    with pytest.raises(NotFound) as raised:
        services.contact_change_status(actor=user, other=other_user, status=FRIENDS)
    assert raised.value.detail == "You have no relation with bob."


@pytest.mark.parametrize(
    "move",
    [
        services.contact_add,
        services.contact_accept,
        services.contact_reject,
        services.contact_block,
        services.contact_unblock,
        services.contact_unadd,
        services.contact_remove,
    ],
    ids=lambda move: move.__name__,
)
def test_no_move_with_oneself(user, move):
    # The serializers refuse first (test_create_refusals, the action endpoints); the services hold it on their own.
    with pytest.raises(ValidationError) as raised:
        move(actor=user, other=user)
    assert raised.value.detail == {"username": ["You cannot have a relation with yourself."]}
    assert not Contact.objects.exists()


def test_check_not_self_lets_two_people_through(user, other_user):
    assert services._check_not_self(user, other_user) is None
    with pytest.raises(ValidationError):
        services._check_not_self(user, type(user).objects.get(pk=user.pk))  # the same person, another object


@pytest.mark.parametrize(
    ("move", "state", "told"),
    [
        (services.contact_block, "none", True),
        (services.contact_block, "friends_theirs", True),
        (services.contact_unadd, "friends_mine", True),
        (services.contact_unadd, "outgoing", False),  # a request withdrawn: nothing was shared
        (services.contact_accept, "incoming", False),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_relation_severed_is_sent_by_contact_with_both_users(user, other_user, move, state, told):
    # The hook of contacts.signals, as a receiver sees it: sender Contact (receivers may filter on it),
    # the actor as user_a, the other as user_b; only the moves that end what the two shared send it.
    build(state, user, other_user)
    received = []

    def receiver(sender, **kwargs):
        received.append({"sender": sender, **kwargs})

    relation_severed.connect(receiver, sender=Contact, dispatch_uid="test-relation-severed")
    try:
        move(actor=user, other=other_user)
    finally:
        relation_severed.disconnect(dispatch_uid="test-relation-severed", sender=Contact)
    expected = {
        "sender": Contact,
        "signal": relation_severed,
        "user_a": user,
        "user_b": other_user,
    }
    assert received == ([expected] if told else [])


def test_statuses_are_numbered_as_in_the_spec():
    assert [(s.value, s.label) for s in ContactStatus] == [
        (1, "friends"),
        (2, "pending"),
        (3, "rejected"),
        (4, "blocked"),
    ]

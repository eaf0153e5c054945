"""Authorization matrix: every operation of the schema, as every kind of actor, against someone else's objects.

The owner (alice) created a calendar with a day and her timeslot, invited bob (accepted: a
participant) and dora (pending), and is friends with both and with carol (not invited). Eve
is a stranger to all of it. Each row gives the expected status per actor; each cell runs on a
fresh world. Beyond the status: a stranger's answers never carry the owner's data, and every
404 is the same answer as for an id that does not exist. An operation of the schema without
a row fails `test_every_operation_has_a_row`, so the matrix cannot fall behind the code.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from calendars.models import Calendar
from contacts.models import Contact, ContactStatus
from tests.conftest import client_for
from tests.factories import (
    PASSWORD,
    CalendarFactory,
    DayFactory,
    InvitationFactory,
    TimeSlotFactory,
    UserFactory,
    make_friends,
)

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "stranger", "pending", "participant", "owner")
SECRET = "owner-only-5e3c7a"  # in the owner's calendar; a stranger must never read it
MISSING_ID = 987654


@dataclass
class World:
    owner: Any
    participant: Any
    pending: Any
    stranger: Any
    friend: Any
    calendar: Any
    day: Any
    slot: Any
    participant_invitation: Any
    pending_invitation: Any
    friendship: Any  # owner -> participant
    webhook: Any  # the owner's webhook endpoint

    def user(self, actor: str):
        return getattr(self, actor, None)

    def client(self, actor: str) -> APIClient:
        return APIClient() if actor == "anonymous" else client_for(self.user(actor))


def build_world() -> World:
    owner, participant = UserFactory(username="alice"), UserFactory(username="bob")
    friend, pending, stranger = UserFactory(username="carol"), UserFactory(username="dora"), UserFactory(username="eve")
    friendship = make_friends(owner, participant)
    make_friends(owner, friend)
    make_friends(owner, pending)
    calendar = CalendarFactory(creator=owner, title="Board meeting", description=SECRET)
    day = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=1)
    slot = TimeSlotFactory(day=day, owner=owner, start_time=datetime.time(9), end_time=datetime.time(11))
    TimeSlotFactory(day=day, owner=participant, start_time=datetime.time(9), end_time=datetime.time(11))
    return World(
        owner=owner,
        participant=participant,
        pending=pending,
        stranger=stranger,
        friend=friend,
        calendar=calendar,
        day=day,
        slot=slot,
        participant_invitation=InvitationFactory(calendar=calendar, invitee=participant, status="accepted"),
        pending_invitation=InvitationFactory(calendar=calendar, invitee=pending, status="pending"),
        friendship=friendship,
        webhook=owner_webhook(owner),
    )


def owner_webhook(owner):
    from webhooks.models import Endpoint, new_secret

    endpoint = Endpoint(owner=owner, slot=1, url="https://hooks.example.test/in", secret=new_secret())
    endpoint.set_events(["calendar.finalized"])
    endpoint.save()
    return endpoint


def finalize(world: World) -> None:
    Calendar.objects.filter(pk=world.calendar.pk).update(
        finalized_date=world.day.date,
        finalized_start_time=datetime.time(9, 30),
        finalized_end_time=datetime.time(10, 30),
        finalized_at=datetime.datetime(2029, 12, 1, tzinfo=datetime.UTC),
    )


def feed_token(world: World) -> str:
    from calendars import services

    return services.feed_token_get(user=world.owner).token


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ACTORS, status)


def signed_in(status: int) -> dict[str, int]:
    return {**everyone(status), "anonymous": 401}


def cells(anonymous=401, stranger=404, pending=None, participant=None, owner=None) -> dict[str, int]:
    return dict(zip(ACTORS, (anonymous, stranger, pending, participant, owner), strict=True))


@dataclass
class Row:
    expect: dict[str, int]
    params: Callable[[World], dict[str, Any]] = lambda w: {}
    body: Callable[[World, str], Any] | None = None
    query: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[World], None] | None = None
    secret_url: bool = False  # the URL itself is the credential (the feed): its holder reads the owner's data


def username_of(actor_target: dict[str, str]) -> Callable[[World, str], dict]:
    """A `{username}` body naming, for each actor, the user they act on."""
    return lambda w, actor: {"username": getattr(w, actor_target.get(actor, "owner")).username}


# For stranger and pending the other party is the owner; for the participant, the owner (friends);
# for the owner, the participant (friends).
CONTACT_TARGETS = {"stranger": "owner", "pending": "owner", "participant": "owner", "owner": "participant"}
ACT = username_of(CONTACT_TARGETS)


def register_body(w: World, actor: str) -> dict:
    return {"username": f"new-{actor}", "password": "s3cure-Passw0rd!", "password2": "s3cure-Passw0rd!"}


def refresh_body(w: World, actor: str) -> dict:
    return {"refresh": str(RefreshToken.for_user(w.owner))}


CALENDAR = lambda w: {"id": w.calendar.pk}  # noqa: E731
IN_CALENDAR = lambda w: {"calendar_id": w.calendar.pk}  # noqa: E731
DAY = lambda w: {"calendar_id": w.calendar.pk, "day_id": w.day.pk}  # noqa: E731
SLOT = lambda w: {"calendar_id": w.calendar.pk, "day_id": w.day.pk, "id": w.slot.pk}  # noqa: E731
PARTICIPANT_INVITATION = lambda w: {"calendar_id": w.calendar.pk, "id": w.participant_invitation.pk}  # noqa: E731
PENDING_INVITATION = lambda w: {"calendar_id": w.calendar.pk, "id": w.pending_invitation.pk}  # noqa: E731
WEBHOOK = lambda w: {"id": w.webhook.pk}  # noqa: E731


CALENDAR_BODY = {"title": "Another", "days": [{"date": "2030-02-01", "ranking": 1}]}
EDIT_BODY = lambda w, actor: {  # noqa: E731
    "title": "Renamed",
    "days": [{"id": w.day.pk, "date": "2030-01-02", "ranking": 1}],
}
SLOT_BODY = lambda w, actor: {"start_time": "12:00", "end_time": "13:00"}  # noqa: E731
FINALIZE_BODY = lambda w, actor: {"date": "2030-01-02", "start_time": "09:30", "end_time": "10:30"}  # noqa: E731

MATRIX: dict[tuple[str, str], Row] = {
    # Accounts: public operations answer everyone alike; `me` is whoever the token says.
    ("post", "/auth/register/"): Row(everyone(201), body=register_body),
    ("post", "/auth/login/"): Row(everyone(200), body=lambda w, a: {"username": "alice", "password": PASSWORD}),
    ("post", "/auth/refresh/"): Row(everyone(200), body=refresh_body),
    ("post", "/auth/logout/"): Row(everyone(204), body=refresh_body),
    ("get", "/auth/me/"): Row(signed_in(200)),
    ("patch", "/auth/me/"): Row(signed_in(200), body=lambda w, a: {"timezone": "Asia/Kathmandu"}),
    # Confirming an address: the token is the proof (a wrong one is a 400 for anyone); every actor's is confirmed.
    ("post", "/auth/email/verify/"): Row(everyone(400), body=lambda w, a: {"token": "not-a-token"}),
    ("post", "/auth/email/resend/"): Row(signed_in(409)),
    # My data: each actor exports and deletes their own account, never another's.
    ("get", "/auth/me/export/"): Row(signed_in(200)),
    ("delete", "/auth/me/"): Row(signed_in(204), body=lambda w, a: {"password": PASSWORD}),
    ("get", "/"): Row(everyone(200)),
    ("get", "/healthz/"): Row(everyone(200)),
    # Contacts: a relation is visible to its two users only; the moves act on my own relations.
    ("get", "/contacts/"): Row(signed_in(200)),
    ("post", "/contacts/"): Row(
        cells(stranger=201, pending=409, participant=409, owner=409),
        body=lambda w, actor: {"userB": getattr(w, CONTACT_TARGETS[actor]).pk} if actor != "anonymous" else {},
    ),
    ("get", "/contacts/{id}/"): Row(
        cells(pending=404, participant=200, owner=200), params=lambda w: {"id": w.friendship.pk}
    ),
    ("put", "/contacts/{id}/"): Row(
        cells(pending=404, participant=200, owner=200),  # `userB` as stored: the participant for both
        params=lambda w: {"id": w.friendship.pk},
        body=lambda w, actor: {"userB": w.participant.pk, "status": ContactStatus.BLOCKED},
    ),
    ("patch", "/contacts/{id}/"): Row(
        cells(pending=404, participant=200, owner=200),
        params=lambda w: {"id": w.friendship.pk},
        body=lambda w, actor: {"status": ContactStatus.BLOCKED},
    ),
    ("delete", "/contacts/{id}/"): Row(
        cells(pending=404, participant=204, owner=204), params=lambda w: {"id": w.friendship.pk}
    ),
    ("post", "/contacts/add/"): Row(cells(stranger=200, pending=409, participant=409, owner=409), body=ACT),
    ("post", "/contacts/accept/"): Row(cells(stranger=404, pending=409, participant=409, owner=409), body=ACT),
    ("post", "/contacts/reject/"): Row(cells(stranger=404, pending=409, participant=409, owner=409), body=ACT),
    ("post", "/contacts/block/"): Row(cells(stranger=200, pending=200, participant=200, owner=200), body=ACT),
    ("post", "/contacts/unblock/"): Row(cells(stranger=404, pending=409, participant=409, owner=409), body=ACT),
    ("post", "/contacts/unadd/"): Row(cells(stranger=404, pending=200, participant=200, owner=200), body=ACT),
    ("get", "/contacts/friends/"): Row(signed_in(200)),
    ("get", "/contacts/incoming/"): Row(signed_in(200)),
    ("get", "/contacts/outgoing/"): Row(signed_in(200)),
    ("get", "/contacts/blocked/"): Row(signed_in(200)),
    ("get", "/contacts/search/"): Row(signed_in(200), query={"search": "a"}),
    # Calendars: creator, participants and pending invitees see; only the creator changes.
    ("get", "/calendars/"): Row(signed_in(200)),
    ("post", "/calendars/"): Row(signed_in(201), body=lambda w, a: CALENDAR_BODY),
    ("get", "/calendars/{id}/"): Row(cells(pending=200, participant=200, owner=200), params=CALENDAR),
    ("put", "/calendars/{id}/"): Row(cells(pending=403, participant=403, owner=200), params=CALENDAR, body=EDIT_BODY),
    ("delete", "/calendars/{id}/"): Row(cells(pending=403, participant=403, owner=204), params=CALENDAR),
    # Timeslots: members add their own; everyone who sees the calendar reads; only the owner of a slot changes it.
    ("get", "/calendars/{calendar_id}/day/{day_id}/timeslot/"): Row(
        cells(pending=200, participant=200, owner=200), params=DAY
    ),
    ("post", "/calendars/{calendar_id}/day/{day_id}/timeslot/"): Row(
        cells(pending=403, participant=201, owner=201), params=DAY, body=SLOT_BODY
    ),
    ("put", "/calendars/{calendar_id}/day/{day_id}/timeslot/"): Row(
        cells(pending=403, participant=200, owner=200), params=DAY, body=lambda w, actor: [SLOT_BODY(w, actor)]
    ),
    ("get", "/calendars/{calendar_id}/day/{day_id}/timeslot/{id}/"): Row(
        cells(pending=200, participant=200, owner=200), params=SLOT
    ),
    ("put", "/calendars/{calendar_id}/day/{day_id}/timeslot/{id}/"): Row(
        cells(pending=403, participant=403, owner=200), params=SLOT, body=SLOT_BODY
    ),
    ("delete", "/calendars/{calendar_id}/day/{day_id}/timeslot/{id}/"): Row(
        cells(pending=403, participant=403, owner=204), params=SLOT
    ),
    # Invitations: the creator sees all and invites; an invitee sees and answers only their own.
    ("get", "/calendars/{calendar_id}/invitations/"): Row(
        cells(pending=200, participant=200, owner=200), params=IN_CALENDAR
    ),
    ("post", "/calendars/{calendar_id}/invitations/"): Row(
        cells(pending=403, participant=403, owner=201),
        params=IN_CALENDAR,
        body=lambda w, actor: {"invitee_username": w.friend.username},
    ),
    ("get", "/calendars/{calendar_id}/invitations/{id}/"): Row(
        cells(pending=404, participant=200, owner=200), params=PARTICIPANT_INVITATION
    ),
    ("put", "/calendars/{calendar_id}/invitations/{id}/"): Row(
        cells(pending=404, participant=204, owner=403),
        params=PARTICIPANT_INVITATION,
        body=lambda w, actor: {"status": "accepted"},
    ),
    ("delete", "/calendars/{calendar_id}/invitations/{id}/"): Row(
        cells(pending=404, participant=403, owner=204), params=PARTICIPANT_INVITATION
    ),
    ("post", "/calendars/{calendar_id}/invitations/{id}/remind/"): Row(
        cells(pending=403, participant=404, owner=200), params=PENDING_INVITATION, body=lambda w, a: {}
    ),
    ("get", "/invitations/"): Row(signed_in(200)),
    # Scheduling: members read suggestions and the meeting; only the creator fixes it.
    ("get", "/calendars/{id}/suggestions/"): Row(cells(pending=403, participant=200, owner=200), params=CALENDAR),
    # The availability grid: whoever sees the calendar reads it, pending invitees included.
    ("get", "/calendars/{id}/availability/"): Row(cells(pending=200, participant=200, owner=200), params=CALENDAR),
    ("post", "/calendars/{id}/finalize/"): Row(
        cells(pending=403, participant=403, owner=200), params=CALENDAR, body=FINALIZE_BODY
    ),
    ("delete", "/calendars/{id}/finalize/"): Row(
        cells(pending=403, participant=403, owner=200), params=CALENDAR, prepare=finalize
    ),
    ("get", "/calendars/{id}/ics/"): Row(
        cells(pending=403, participant=200, owner=200), params=CALENDAR, prepare=finalize
    ),
    ("get", "/calendars/feed-token/"): Row(signed_in(200)),
    ("post", "/calendars/feed-token/"): Row(signed_in(200), body=lambda w, a: {}),
    # The feed's secret token is its only credential: whoever holds it reads the owner's meetings.
    ("get", "/calendars/feed/{token}.ics"): Row(
        everyone(200), params=lambda w: {"token": feed_token(w)}, prepare=finalize, secret_url=True
    ),
    # Webhooks: only their owner sees them; anyone signed in registers their own (the host is allow-listed).
    ("get", "/webhooks/"): Row(signed_in(200)),
    ("post", "/webhooks/"): Row(
        signed_in(201),
        body=lambda w, a: {"url": "https://hooks.example.test/mine", "events": ["contact.requested"]},
    ),
    ("get", "/webhooks/{id}/"): Row(cells(pending=404, participant=404, owner=200), params=WEBHOOK),
    ("patch", "/webhooks/{id}/"): Row(
        cells(pending=404, participant=404, owner=200), params=WEBHOOK, body=lambda w, a: {"active": False}
    ),
    ("delete", "/webhooks/{id}/"): Row(cells(pending=404, participant=404, owner=204), params=WEBHOOK),
    ("post", "/webhooks/{id}/rotate-secret/"): Row(cells(pending=404, participant=404, owner=200), params=WEBHOOK),
    ("get", "/webhooks/{id}/deliveries/"): Row(cells(pending=404, participant=404, owner=200), params=WEBHOOK),
}


@pytest.fixture(scope="module")
def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_operation_has_a_row(schema_operations):
    missing = sorted(schema_operations - MATRIX.keys())
    assert not missing, f"operations without a row in the authorization matrix: {missing}"


def test_no_row_for_an_operation_that_is_gone(schema_operations):
    assert not sorted(MATRIX.keys() - schema_operations)


def test_every_cell_is_filled():
    assert [key for key, row in MATRIX.items() if set(row.expect) != set(ACTORS) or None in row.expect.values()] == []


def url(path: str, params: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), path)


def call(client: APIClient, method: str, target: str, row: Row, world: World, actor: str):
    kwargs: dict[str, Any] = {}
    if row.body is not None:
        kwargs = {"data": row.body(world, actor), "format": "json"}
    elif row.query:
        kwargs = {"data": row.query}
    return getattr(client, method)(target, **kwargs)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "path"), list(MATRIX), ids=[f"{m.upper()} {p}" for m, p in MATRIX])
def test_cell(method, path, actor, mailoutbox, settings):
    row = MATRIX[(method, path)]
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.test"]  # a webhook host that needs no name resolution
    world = build_world()
    if row.prepare:
        row.prepare(world)
    params = row.params(world)
    target = url(path, params)
    client = world.client(actor)
    response = call(client, method, target, row, world, actor)
    expected = row.expect[actor]
    assert response.status_code == expected, (actor, target, response.content[:300])

    if actor in {"anonymous", "stranger"} and not row.secret_url:
        # Nothing of the owner's calendar reaches someone who is not part of it.
        assert SECRET.encode() not in response.content
    if expected == 401:
        assert response.json() == {"detail": "Authentication credentials were not provided."}
    if expected == 404 and params and all(isinstance(v, int) for v in params.values()):
        # Invisible answers exactly like non-existent: no existence leak.
        ghost = url(path, dict.fromkeys(params, MISSING_ID))
        missing = call(client, method, ghost, row, world, actor)
        assert (missing.status_code, missing.json()) == (404, response.json())
    if expected == 403:
        assert set(response.json()) == {"detail"}


def test_stranger_lists_show_nothing_of_others():
    world = build_world()
    client = world.client("stranger")
    lists = ("/calendars/", "/contacts/", "/invitations/", "/contacts/friends/", "/contacts/incoming/", "/webhooks/")
    for list_url in lists:
        body = client.get(list_url).json()
        assert (list_url, body["count"], body["results"]) == (list_url, 0, [])


def test_pending_invitee_sees_only_their_own_invitation():
    world = build_world()
    body = world.client("pending").get(f"/calendars/{world.calendar.pk}/invitations/").json()
    assert [item["id"] for item in body["results"]] == [world.pending_invitation.pk]


def test_a_made_up_feed_token_is_404():
    world = build_world()
    finalize(world)
    feed_token(world)
    response = APIClient().get("/calendars/feed/not-the-token-0123456789abcdefghijklmnopqrstuvw.ics")
    assert response.status_code == 404
    assert json.loads(response.content) == {"detail": "Not found."}


def test_blocked_user_cannot_reach_the_blockers_calendar():
    world = build_world()
    Contact.objects.filter(pk=world.friendship.pk).update(status=ContactStatus.BLOCKED, userA=world.owner)
    from invitations.services import invitations_end_between

    invitations_end_between(user_a=world.owner, user_b=world.participant)
    response = world.client("participant").get(f"/calendars/{world.calendar.pk}/")
    assert response.status_code == 404


@pytest.mark.parametrize("path", sorted({p for _, p in MATRIX}))
def test_options_answers_json_on_every_path(path):
    """OPTIONS (used by browsers' CORS preflight and API explorers) never fails, whatever the renderer."""
    world = build_world()
    finalize(world)
    params = {
        "id": world.calendar.pk,
        "calendar_id": world.calendar.pk,
        "day_id": world.day.pk,
        "token": feed_token(world),
    }
    if "/contacts/" in path:
        params["id"] = world.friendship.pk
    elif "/webhooks/" in path:
        params["id"] = world.webhook.pk
    elif "timeslot/{id}" in path:
        params["id"] = world.slot.pk
    elif "invitations/{id}" in path:
        params["id"] = world.participant_invitation.pk
    response = world.client("owner").options(url(path, params))
    assert response.status_code == 200, (path, response.content[:200])
    assert response["Content-Type"].startswith("application/json")

"""Every property the server always answers is `required` in its component, so typed clients need no checks.

A generated client (TypeScript's openapi-typescript, Python's openapi-python-client) types a property
that is not `required` as possibly missing: `days[].id` as `number | undefined` makes every frontend
write `!` or a cast. Which properties are always there is taken from real answers, not from the
serializers: one story below calls every operation of the schema that answers JSON (and a few that
fail, for the error bodies) with real data, each answer is walked along the schema declared for its
status, and for each component the keys present in every object of it are collected. Then:

- every property present in every answer of a component is `required` in it, except where OpenAPI
  cannot say so: a component that is also a request body (the seed contract names one component
  for both directions) with a property a client may leave out when sending. Those are listed in
  `ANSWERED_BUT_OPTIONAL_WHEN_SENT`, each checked to be exactly that case; a new one fails here
  until it is listed, or better, made required;
- nothing `required` is ever missing from an answer, and no answer carries a key its component
  does not declare;
- every operation answering JSON was called, and every component an answer can hold was seen.
  A new operation fails `test_every_json_operation_is_called` until the story below calls it.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import client_for, run_tasks
from tests.factories import PASSWORD, UserFactory
from tests.support import WebhookReceiver
from webhooks.models import EventType

# The story runs once, in the module fixture; the mark makes pytest-django set up the test database for it.
pytestmark = pytest.mark.django_db

PREFIX = "#/components/schemas/"
METHODS = ("get", "post", "put", "patch", "delete")

# Answered every time, but optional when sent, in a component that is both a request and a response body.
# OpenAPI has one `required` list per component (a `readOnly` property is required in answers only, but a
# client may then not send it), so these stay optional; the reason is checked for each below.
ANSWERED_BUT_OPTIONAL_WHEN_SENT = {
    ("CalendarCreate", "description"): "left out: empty",
    ("CalendarCreate", "timezone"): "left out: UTC",
    ("CalendarCreate", "respond_by"): "left out: no deadline",
    ("CalendarEdit", "description"): "left out: unchanged",
    ("CalendarEdit", "timezone"): "left out: unchanged",
    ("CalendarEdit", "respond_by"): "left out: unchanged",
    ("Day", "timeslots"): "a new calendar's days may come without initial slots",
    ("DayEdit", "id"): "sent to keep a day, left out to add one",
    ("DayEdit", "timeslots"): "a day may come without initial slots",
    ("TimeSlot", "preference"): 'left out: "yes" on a new slot, unchanged on a moved one',
    ("Contact", "status"): "left out: a pending request (POST), unchanged (PATCH)",
    ("Webhook", "description"): "left out: empty (POST), unchanged (PATCH)",
    ("Webhook", "active"): "left out: active (POST), unchanged (PATCH)",
    ("User", "email"): "registration without an address",
}


@dataclass
class Answers:
    """What the story saw: per operation the statuses answered, per component the key sets of its objects."""

    schema: dict
    statuses: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    objects: dict[str, list[frozenset[str]]] = field(default_factory=lambda: defaultdict(list))


def operations(schema: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def json_schema_of(operation: dict, status: int) -> dict | None:
    response = operation["responses"].get(str(status), {})
    return response.get("content", {}).get("application/json", {}).get("schema")


def kind(value: Any) -> str:
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "scalar"


def walk(node: dict, value: Any, answers: Answers) -> None:
    """Record the keys of every component object in `value`, following `node` (a schema) down."""
    if value is None or not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].removeprefix(PREFIX)
        if isinstance(value, dict):
            answers.objects[name].append(frozenset(value))
        walk(answers.schema["components"]["schemas"][name], value, answers)
        return
    for part in node.get("allOf", []):
        walk(part, value, answers)
    for key in ("oneOf", "anyOf"):
        if key in node and kind(value) != "scalar":
            # The branches differ by JSON type here (one slot or an array of them).
            fitting = [part for part in node[key] if branch_kind(part, answers) == kind(value)]
            assert len(fitting) == 1, f"cannot tell which branch of {node[key]} answered {value!r}"
            walk(fitting[0], value, answers)
    if isinstance(value, list):
        for item in value:
            walk(node.get("items", {}), item, answers)
    elif isinstance(value, dict):
        properties = node.get("properties", {})
        for key, item in value.items():
            if key in properties:
                walk(properties[key], item, answers)
            elif isinstance(node.get("additionalProperties"), dict):
                walk(node["additionalProperties"], item, answers)


def branch_kind(node: dict, answers: Answers) -> str:
    if "$ref" in node:
        return branch_kind(answers.schema["components"]["schemas"][node["$ref"].removeprefix(PREFIX)], answers)
    return {"array": "array", "object": "object"}.get(node.get("type", "object"), "scalar")


class Story:
    """Clients that call operations by id; every JSON answer is walked into `answers`."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.by_id = {op["operationId"]: (path, method, op) for path, method, op in operations(answers.schema)}

    def call(self, client: APIClient, operation_id: str, status: int, body: Any = None, query=None, **params) -> Any:
        path, method, operation = self.by_id[operation_id]
        target = re.sub(r"\{(\w+)\}", lambda m: str(params.pop(m.group(1))), path)
        assert not params, f"{operation_id}: unknown path parameters {params}"
        if body is not None:
            response = getattr(client, method)(target, body, format="json")
        else:
            response = getattr(client, method)(target, query or {})
        assert response.status_code == status, (operation_id, target, response.content[:400])
        self.answers.statuses[operation_id].add(status)
        node = json_schema_of(operation, status)
        if node is None:
            return None
        data = response.json()
        walk(node, data, self.answers)
        return data


def play(story: Story, receiver: str) -> None:
    """One of everything, with real data: two calendars (one finalized), contacts in every state, errors,
    a webhook that receives them (at `receiver`), the export, and an account deleted."""
    call = story.call
    anonymous = APIClient()
    today = datetime.date.today()
    first, second = ((today + datetime.timedelta(days=n)).isoformat() for n in (30, 31))

    # Accounts: one registration without an address, one with; login, refresh, me, email confirmation.
    call(anonymous, "api_root", 200)
    call(anonymous, "healthz", 200)
    call(client_for(UserFactory(username="root", is_staff=True)), "healthz", 200, query={"detail": 1})
    call(anonymous, "auth_register", 201, {"username": "ann", "password": PASSWORD, "password2": PASSWORD})
    call(
        anonymous,
        "auth_register",
        201,
        {"username": "ben", "email": "ben@example.com", "password": PASSWORD, "password2": PASSWORD},
    )
    run_tasks()
    token = re.search(r"/auth/email/verify/\?token=([\w-]+)", mail.outbox[-1].body).group(1)
    call(anonymous, "auth_email_verify", 200, {"token": token})
    tokens = call(anonymous, "auth_login", 200, {"username": "ann", "password": PASSWORD})
    tokens = call(anonymous, "auth_refresh", 200, {"refresh": tokens["refresh"]})
    call(anonymous, "auth_logout", 204, {"refresh": tokens["refresh"]})
    call(anonymous, "auth_refresh", 401, {"refresh": tokens["refresh"]})
    call(anonymous, "auth_me", 401)
    expired = APIClient()
    expired.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    call(expired, "auth_me", 401)
    ann, ben = User.objects.get(username="ann"), User.objects.get(username="ben")
    cat, dan, _ = (UserFactory(username=name) for name in ("cat", "dan", "eve"))
    a, b, c, d = (client_for(user) for user in (ann, ben, cat, dan))
    call(a, "auth_me", 200)
    call(b, "auth_me", 200)
    call(a, "auth_me_update", 200, {"timezone": "Europe/Berlin"})
    hook = call(a, "webhooks_create", 201, {"url": receiver, "events": [event.value for event in EventType]})
    User.objects.filter(pk=ben.pk).update(email="ben@example.org")  # no longer confirmed: a new link
    call(b, "auth_email_resend", 202)

    # Contacts: friends with ben and cat, a request to dan, eve blocked and unblocked, one via /contacts/.
    for friend, client in ((ben, b), (cat, c)):
        call(a, "contacts_add", 200, {"username": friend.username})
        call(client, "contacts_accept", 200, {"username": "ann"})
    rejected = call(a, "contacts_add", 200, {"username": "dan"})
    call(d, "contacts_reject", 200, {"username": "ann"})
    call(d, "contacts_destroy", 204, id=rejected["id"])
    call(a, "contacts_block", 200, {"username": "eve"})
    call(a, "contacts_blocked_list", 200)
    call(a, "contacts_unblock", 200, {"username": "eve"})
    call(a, "contacts_add", 409, {"username": "ben"})
    contact = call(b, "contacts_create", 201, {"userB": dan.pk})
    call(b, "contacts_retrieve", 200, id=contact["id"])
    call(b, "contacts_update", 200, {"userB": dan.pk, "status": 2}, id=contact["id"])
    call(b, "contacts_unadd", 200, {"username": "dan"})
    contact = call(b, "contacts_create", 201, {"userB": dan.pk})
    call(b, "contacts_partial_update", 200, {"status": 4}, id=contact["id"])
    call(a, "contacts_list", 200, query={"page_size": 1})
    call(a, "contacts_list", 200, query={"page_size": 1, "page": 2})
    call(a, "contacts_friends_list", 200)
    call(a, "contacts_outgoing_list", 200)
    call(d, "contacts_incoming_list", 200)
    call(a, "contacts_search_list", 200, query={"search": "e"})

    # A calendar with days and slots; ben accepts, cat stays pending.
    body = {
        "title": "Kickoff",
        "timezone": "Europe/Berlin",
        "days": [
            {"date": first, "ranking": 1, "timeslots": [{"start_time": "09:00", "end_time": "12:00"}]},
            {"date": second, "ranking": 2},
        ],
    }
    calendar = call(a, "calendars_create", 201, body)
    call(a, "calendars_create", 201, {"title": "Bare", "days": [{"date": first, "ranking": 1}]})
    call(a, "calendars_create", 400, {"title": "", "days": []})
    cid = calendar["id"]
    day1, day2 = (day["id"] for day in calendar["days"])
    for friend in ("ben", "cat"):
        call(a, "calendars_invitations_create", 201, {"invitee_username": friend}, calendar_id=cid)
    invitations = call(a, "calendars_invitations_list", 200, calendar_id=cid)["results"]
    by_invitee = {invitation["invitee_username"]: invitation["id"] for invitation in invitations}
    call(a, "calendars_invitations_retrieve", 200, calendar_id=cid, id=by_invitee["ben"])
    call(b, "calendars_invitations_answer", 204, {"status": "accepted"}, calendar_id=cid, id=by_invitee["ben"])
    call(a, "calendars_invitations_remind", 200, {}, calendar_id=cid, id=by_invitee["cat"])
    call(c, "invitations_inbox", 200)

    slot = call(b, "calendars_day_timeslot_create", 201, {"start_time": "10:00", "end_time": "11:00"}, **ids(cid, day1))
    call(b, "calendars_day_timeslot_retrieve", 200, **ids(cid, day1), id=slot["id"])
    moved = {"start_time": "10:00", "end_time": "11:30", "preference": "if_need_be"}
    call(b, "calendars_day_timeslot_update", 200, moved, **ids(cid, day1), id=slot["id"])
    several = [{"start_time": "14:00", "end_time": "15:00"}, {"start_time": "15:00", "end_time": "16:00"}]
    made = call(b, "calendars_day_timeslot_create", 201, several, **ids(cid, day2))
    call(b, "calendars_day_timeslot_destroy", 204, **ids(cid, day2), id=made[1]["id"])
    whole_day = [{"start_time": "14:00", "end_time": "16:00"}, {"start_time": "17:00", "end_time": "18:00"}]
    call(a, "calendars_day_timeslot_replace", 200, whole_day, **ids(cid, day2))
    call(a, "calendars_day_timeslot_replace", 400, [{"start_time": "10:00", "end_time": "09:00"}], **ids(cid, day2))
    call(c, "calendars_day_timeslot_create", 403, {"start_time": "10:00", "end_time": "11:00"}, **ids(cid, day1))
    call(a, "calendars_day_timeslot_list", 200, **ids(cid, day1))

    # Reading, ranking, editing, fixing the meeting.
    call(a, "calendars_list", 200)
    call(c, "calendars_retrieve", 200, id=cid)
    call(a, "calendars_availability", 200, id=cid)
    call(b, "calendars_suggestions", 200, id=cid)
    call(b, "calendars_suggestions", 200, id=cid, query={"duration": 600})  # nothing fits: a reason
    edit = {
        "title": "Kickoff",
        "days": [{"id": day1, "date": first, "ranking": 2}, {"date": second, "ranking": 1}],
    }
    edited = call(a, "calendars_update", 200, edit, id=cid)
    day1 = edited["days"][0]["id"]
    call(a, "calendars_finalize", 200, {"date": first, "start_time": "10:00", "end_time": "11:00"}, id=cid)
    call(b, "calendars_finalize", 403, {"date": first, "start_time": "10:00", "end_time": "11:00"}, id=cid)
    call(a, "calendars_update", 409, {**edit, "days": [{"date": second, "ranking": 1}]}, id=cid)
    call(a, "calendars_retrieve", 200, id=cid)
    call(a, "calendars_list", 200)
    call(b, "calendars_ics", 200, id=cid)
    feed = call(b, "calendars_feed_token_retrieve", 200)
    call(b, "calendars_feed_token_rotate", 200, {})
    call(anonymous, "calendars_feed", 404, token=feed["token"])  # rotated away
    call(anonymous, "calendars_feed", 200, token=call(b, "calendars_feed_token_retrieve", 200)["token"])
    call(a, "calendars_unfinalize", 200, id=cid)
    call(a, "auth_me_export", 200)  # while the calendar, its invitations and slots are there
    call(b, "auth_me_export", 200)
    call(a, "calendars_invitations_revoke", 204, calendar_id=cid, id=by_invitee["cat"])
    call(a, "calendars_destroy", 204, id=cid)
    call(a, "calendars_retrieve", 404, id=cid)

    # Ann's webhook: what the story sent her, delivered; then her export, and Dan leaves.
    run_tasks()
    call(a, "webhooks_list", 200)
    call(a, "webhooks_retrieve", 200, id=hook["id"])
    call(a, "webhooks_partial_update", 200, {"description": "the story"}, id=hook["id"])
    call(a, "webhooks_deliveries_list", 200, id=hook["id"])
    call(a, "webhooks_rotate_secret", 200, id=hook["id"])
    call(a, "webhooks_destroy", 204, id=hook["id"])
    call(d, "auth_me_delete", 400, {"password": "not-" + PASSWORD})
    call(d, "auth_me_delete", 204, {"password": PASSWORD})


def ids(calendar_id: int, day_id: int) -> dict[str, int]:
    return {"calendar_id": calendar_id, "day_id": day_id}


@pytest.fixture(scope="module")
def answers(django_db_setup, django_db_blocker) -> Answers:
    """The story, run once for the module in a transaction that is rolled back.

    Module-scoped, so the function-scoped fixtures of tests/conftest.py do not apply: the settings they
    set (fast password hashing, mail kept in memory, webhooks to 127.0.0.1) and a clean cache are set up
    here instead.
    """
    result = Answers(schema=SchemaGenerator().get_schema(request=None, public=True))
    settings = {
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # A webhook receiver on 127.0.0.1 over plain http, as tests/test_webhooks.py allows it.
        "WEBHOOK_ALLOW_HTTP": True,
        "WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"],
    }
    with django_db_blocker.unblock(), override_settings(**settings), WebhookReceiver() as receiver:
        mail.outbox = []
        with transaction.atomic():
            cache.clear()
            play(Story(result), receiver.url("/hook"))
            transaction.set_rollback(True)
        cache.clear()
        mail.outbox = []
    return result


def reachable(node: Any, schemas: dict, seen: set[str] | None = None) -> set[str]:
    """Component names a schema fragment can hold, at any depth."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(PREFIX) and ref.removeprefix(PREFIX) not in seen:
            seen.add(ref.removeprefix(PREFIX))
            reachable(schemas[ref.removeprefix(PREFIX)], schemas, seen)
        for value in node.values():
            reachable(value, schemas, seen)
    elif isinstance(node, list):
        for value in node:
            reachable(value, schemas, seen)
    return seen


def sent_components(schema: dict) -> set[str]:
    bodies = [operation.get("requestBody", {}) for _, _, operation in operations(schema)]
    return reachable(bodies, schema["components"]["schemas"])


def always_answered(answers: Answers, name: str) -> set[str]:
    return set(frozenset.intersection(*answers.objects[name]))


def test_every_json_operation_is_called(answers):
    missing = [
        operation["operationId"]
        for _, _, operation in operations(answers.schema)
        if any(json_schema_of(operation, int(code)) for code in operation["responses"] if code.startswith("2"))
        and not any(200 <= status < 300 for status in answers.statuses[operation["operationId"]])
    ]
    assert not missing, f"call these in the story of tests/test_response_required.py: {missing}"


def test_every_component_an_answer_can_hold_was_seen(answers):
    schemas = answers.schema["components"]["schemas"]
    answered = set()
    for _, _, operation in operations(answers.schema):
        for code in operation["responses"]:
            if code.startswith("2"):
                answered |= reachable(json_schema_of(operation, int(code)), schemas)
    objects = {name for name in answered if schemas[name].get("type", "object") == "object"}
    unseen = sorted(objects - answers.objects.keys())
    assert not unseen, f"never answered with data in the story (give the story what makes them): {unseen}"


def test_what_is_always_answered_is_required(answers):
    schemas = answers.schema["components"]["schemas"]
    optional = {
        (name, key)
        for name in answers.objects
        for key in always_answered(answers, name)
        if key in schemas[name].get("properties", {}) and key not in schemas[name].get("required", [])
    }
    new = sorted(optional - ANSWERED_BUT_OPTIONAL_WHEN_SENT.keys())
    assert not new, f"always answered but not `required` (make them required, or readOnly if never sent): {new}"
    gone = sorted(ANSWERED_BUT_OPTIONAL_WHEN_SENT.keys() - optional)
    assert not gone, f"no longer answered-but-optional, drop them from ANSWERED_BUT_OPTIONAL_WHEN_SENT: {gone}"


def test_the_exceptions_are_sent_and_optional_there(answers):
    # Each exception is a writable, optional property of a component that is a request body too.
    schemas = answers.schema["components"]["schemas"]
    sent = sent_components(answers.schema)
    for name, key in ANSWERED_BUT_OPTIONAL_WHEN_SENT:
        prop = schemas.get(name, {}).get("properties", {}).get(key, {})
        assert name in sent, f"{name} is never sent: make {key!r} required"
        assert not prop.get("readOnly"), f"{name}.{key} is read-only: it can be required"


def test_nothing_required_is_ever_missing(answers):
    schemas = answers.schema["components"]["schemas"]
    for name, key_sets in answers.objects.items():
        # A readOnly or required property in an answer must be there; writeOnly ones never are.
        required = {
            key
            for key in schemas[name].get("required", [])
            if not schemas[name].get("properties", {}).get(key, {}).get("writeOnly")
        }
        missing = required - set(frozenset.intersection(*key_sets))
        assert not missing, f"{name}: required but not always answered: {sorted(missing)}"


def test_answers_carry_only_declared_properties(answers):
    schemas = answers.schema["components"]["schemas"]
    for name, key_sets in answers.objects.items():
        schema = schemas[name]
        if "properties" not in schema or schema.get("additionalProperties"):
            continue
        extra = set().union(*key_sets) - set(schema["properties"])
        assert not extra, f"{name}: answered but not declared: {sorted(extra)}"

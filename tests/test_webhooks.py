"""Webhooks: the endpoints API, every event's payload, signing, delivery with retries, and where requests may go.

Deliveries run through the real task backend and worker loop (`run_tasks`) against receivers on
127.0.0.1 (tests.support.WebhookReceiver); signatures are checked with the Standard Webhooks
reference library (`standardwebhooks`). Name resolution is faked where a test needs a name to
resolve somewhere; no test connects beyond loopback (tests/conftest.py holds that).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import socket
import time

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from tests.conftest import client_for, run_tasks
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, UserFactory, make_friends
from tests.support import WebhookReceiver
from webhooks import safety, services, tasks, transport
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint, EventType, new_secret
from webhooks.services import endpoint_create, queue_event

pytestmark = pytest.mark.django_db

ALL_EVENTS = [event.value for event in EventType]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture(autouse=True)
def local_receivers(settings):
    """As the tests run it: plain http to 127.0.0.1 allowed; quick retries."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 30, 3600


@pytest.fixture
def dns(monkeypatch):
    """Fake name resolution: `dns.records[name]` is a list of addresses, or a list of such lists (one per lookup)."""

    class FakeDns:
        records: dict[str, list] = {}
        lookups: list[str] = []

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in FakeDns.records:
            return real(host, port, *args, **kwargs)
        FakeDns.lookups.append(host)
        answer = FakeDns.records[host]
        addresses = answer.pop(0) if answer and isinstance(answer[0], list) else answer
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in addresses
        ]

    FakeDns.records, FakeDns.lookups = {}, []
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return FakeDns


def register(client, url: str, events=("contact.requested",), **extra):
    return client.post("/webhooks/", {"url": url, "events": list(events), **extra}, format="json")


def endpoint_for(user, url: str = "http://127.0.0.1:9/hook", events=ALL_EVENTS, **fields) -> Endpoint:
    """An endpoint made directly (no URL check), for tests that do not deliver."""
    slot = Endpoint.objects.filter(owner=user).count() + 1
    endpoint = Endpoint(owner=user, slot=slot, url=url, secret=new_secret(), **fields)
    endpoint.set_events(events)
    endpoint.save()
    return endpoint


def time_passes() -> None:
    """Move every scheduled attempt into the past, as if the worker had waited for it."""
    past = timezone.now() - datetime.timedelta(seconds=1)
    Delivery.objects.filter(next_attempt_at__gt=past).update(next_attempt_at=past)
    never = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC)  # django-tasks-db's "no run_after"
    DBTaskResult.objects.filter(status="READY", run_after__lt=never).update(run_after=past)


def body_of(delivery: Delivery) -> dict:
    """The delivery's payload, its event timestamp checked and taken out."""
    payload = json.loads(delivery.payload)
    assert STAMP.match(payload.pop("timestamp")), delivery.payload
    return payload


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


# --- the endpoints API --------------------------------------------------------------------------------------


class TestRegister:
    def test_answers_the_endpoint_with_its_secret_once(self, alice):
        client = client_for(alice)
        response = register(client, "http://127.0.0.1:8123/in?x=1", ["calendar.finalized", "contact.accepted"])
        assert response.status_code == 201
        body = response.json()
        endpoint = Endpoint.objects.get()
        assert body == {
            "id": endpoint.pk,
            "url": "http://127.0.0.1:8123/in?x=1",
            "description": "",
            "events": ["calendar.finalized", "contact.accepted"],
            "active": True,
            "disabled_at": None,
            "disabled_reason": "",
            "created_at": body["created_at"],
            "updated_at": body["updated_at"],
            "secret": endpoint.secret,
        }
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", body["secret"])
        assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
        # Never again: not in the detail, not in the list.
        shown = client.get(f"/webhooks/{endpoint.pk}/").json()
        assert "secret" not in shown
        assert shown == {k: v for k, v in body.items() if k != "secret"}
        listed = client.get("/webhooks/").json()
        assert listed == {"count": 1, "next": None, "previous": None, "results": [shown]}

    def test_needs_a_login(self):
        response = APIClient().post("/webhooks/", {"url": "https://x.test/", "events": ALL_EVENTS}, format="json")
        assert (response.status_code, response.json()) == (
            401,
            {"detail": "Authentication credentials were not provided."},
        )

    @pytest.mark.parametrize(
        ("events", "error"),
        [
            ([], {"events": ["This list may not be empty."]}),
            (["calendar.deleted"], {"events": {"0": ['"calendar.deleted" is not a valid choice.']}}),
            (["contact.accepted", "contact.accepted"], {"events": ["An event type is listed twice."]}),
        ],
    )
    def test_events_must_be_known_and_some(self, alice, events, error):
        response = register(client_for(alice), "http://127.0.0.1:8123/", events)
        assert (response.status_code, response.json()) == (400, error)

    def test_at_most_ten_per_user(self, alice, bob):
        client = client_for(alice)
        for n in range(10):
            assert register(client, f"http://127.0.0.1:8123/{n}").status_code == 201
        response = register(client, "http://127.0.0.1:8123/eleven")
        assert (response.status_code, response.json()) == (
            400,
            {"non_field_errors": ["You have 10 webhooks, the most allowed; delete one first."]},
        )
        assert register(client_for(bob), "http://127.0.0.1:8123/").status_code == 201  # per user
        # Deleting one frees its slot.
        assert client.delete(f"/webhooks/{Endpoint.objects.filter(owner=alice).first().pk}/").status_code == 204
        assert register(client, "http://127.0.0.1:8123/again").status_code == 201

    def test_the_database_holds_the_cap_and_the_rules(self, alice):
        endpoint_for(alice)
        for fields, events in [
            ({"slot": 1}, ALL_EVENTS),  # a slot taken
            ({"slot": 11}, ALL_EVENTS),  # beyond the cap
            ({"slot": 2}, []),  # no event
            ({"slot": 2, "secret": "plain"}, ALL_EVENTS),
            ({"slot": 2, "url": ""}, ALL_EVENTS),
            ({"slot": 2, "active": True, "disabled_at": timezone.now()}, ALL_EVENTS),
        ]:
            endpoint = Endpoint(owner=alice, url="https://x.test/", secret=new_secret())
            for name, value in fields.items():
                setattr(endpoint, name, value)
            endpoint.set_events(events)
            with pytest.raises(IntegrityError), transaction.atomic():
                endpoint.save()

    def test_the_description_and_active_are_stored(self, alice):
        response = register(client_for(alice), "http://127.0.0.1:8123/", description="inbox", active=False)
        assert response.status_code == 201
        assert (response.json()["description"], response.json()["active"]) == ("inbox", False)
        assert Endpoint.objects.values_list("description", "active").get() == ("inbox", False)

    def test_made_without_a_description_it_has_none_and_is_active(self, alice):
        endpoint = endpoint_create(owner=alice, url="https://x.test/", events=["contact.requested"])
        endpoint.refresh_from_db()
        assert (endpoint.description, endpoint.active, endpoint.slot) == ("", True, 1)

    def test_the_slots_are_counted_per_owner(self, alice, bob):
        # Bob's endpoints take the first ids: Alice's slots are 1 and 2 all the same.
        endpoint_for(bob)
        endpoint_for(bob)
        client = client_for(alice)
        assert register(client, "http://127.0.0.1:8123/a").status_code == 201
        assert register(client, "http://127.0.0.1:8123/b").status_code == 201
        assert list(Endpoint.objects.filter(owner=alice).order_by("id").values_list("slot", "url")) == [
            (1, "http://127.0.0.1:8123/a"),
            (2, "http://127.0.0.1:8123/b"),
        ]

    @pytest.fixture
    def racing(self, alice, monkeypatch):
        """Another registration of Alice's takes the slot just found, `racing.times` times."""

        class Race:
            times = 0
            competitors: list[Endpoint] = []

        real = services.new_secret

        def new_secret_while_another_registers():
            if len(Race.competitors) < Race.times:
                Race.competitors.append(endpoint_for(alice, url="http://127.0.0.1:9/other"))
            return real()

        monkeypatch.setattr(services, "new_secret", new_secret_while_another_registers)
        return Race

    def test_a_slot_taken_at_the_same_moment_is_looked_for_again(self, alice, racing):
        racing.times = 1
        response = register(client_for(alice), "http://127.0.0.1:8123/mine")
        assert response.status_code == 201
        assert list(Endpoint.objects.order_by("slot").values_list("slot", "url")) == [
            (1, "http://127.0.0.1:9/other"),
            (2, "http://127.0.0.1:8123/mine"),
        ]
        assert response.json()["id"] == Endpoint.objects.get(slot=2).pk

    def test_a_race_lost_twice_answers_409(self, alice, racing):
        racing.times = 5
        response = register(client_for(alice), "http://127.0.0.1:8123/mine")
        assert (response.status_code, response.json()) == (
            409,
            {"detail": "Another webhook was registered at the same moment; try again."},
        )
        assert len(racing.competitors) == 2  # it looked twice, then gave up
        assert not Endpoint.objects.exists()  # the whole registration was rolled back


class TestRefusedUrls:
    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("ftp://127.0.0.1/", "Use an https URL."),
            ("127.0.0.1/hook", "Use an https URL."),
            (
                "https://user:pw@127.0.0.1/",
                "A URL with a user name or password is not accepted; the signature authenticates requests.",
            ),
            ("https://127.0.0.1/#frag", "A URL with a fragment (#...) is not accepted; it would never be sent."),
            ("https:///path", "The URL has no host."),
            ("https://127.0.0.1:99999/", "This is not a valid URL."),
            ("https://127.0.0.1:0/", "Port 0 cannot be connected to."),
            ("https://127.0.0.1/a b", "A URL cannot hold spaces or control characters."),
            ("https://127.0.0.1/" + "a" * 2000, "Ensure this field has no more than 2000 characters."),
        ],
    )
    def test_malformed(self, alice, url, message):
        response = register(client_for(alice), url)
        assert (response.status_code, response.json()) == (400, {"url": [message]})

    def test_plain_http_only_where_allowed(self, alice, settings):
        settings.WEBHOOK_ALLOW_HTTP = False
        response = register(client_for(alice), "http://127.0.0.1:8123/")
        assert (response.status_code, response.json()) == (400, {"url": ["Only https URLs are accepted."]})

    @pytest.mark.parametrize(
        ("host", "resolves_to", "reason"),
        [
            ("localhost", "127.0.0.1", "a loopback address"),
            ("127.0.0.1", "127.0.0.1", "a loopback address"),
            ("127.0.0.2", "127.0.0.2", "a loopback address"),
            ("[::1]", "::1", "a loopback address"),
            # Odd numeric spellings of 127.0.0.1, as the resolver reads them.
            ("2130706433", "127.0.0.1", "a loopback address"),
            ("0x7f.1", "127.0.0.1", "a loopback address"),
            ("017700000001", "127.0.0.1", "a loopback address"),
            ("127.1", "127.0.0.1", "a loopback address"),
            ("0.0.0.0", "0.0.0.0", "an unspecified address"),  # noqa: S104 (a refused destination)
            ("[::]", "::", "an unspecified address"),
            ("10.1.2.3", "10.1.2.3", "a private address"),
            ("172.16.0.1", "172.16.0.1", "a private address"),
            ("192.168.1.1", "192.168.1.1", "a private address"),
            ("[fd00:ec2::254]", "fd00:ec2::254", "a private address"),
            ("169.254.169.254", "169.254.169.254", "a link-local address (where cloud metadata services answer)"),
            ("[fe80::1]", "fe80::1", "a link-local address (where cloud metadata services answer)"),
            ("100.100.100.200", "100.100.100.200", "an address that is not publicly routable"),
            ("224.0.0.1", "224.0.0.1", "a multicast address"),
            ("[ff02::1]", "ff02::1", "a multicast address"),
            ("240.0.0.1", "240.0.0.1", "a private address"),
            ("[::ffff:127.0.0.1]", "::ffff:7f00:1", "a loopback address"),
            ("[::ffff:a9fe:a9fe]", "::ffff:a9fe:a9fe", "a link-local address (where cloud metadata services answer)"),
            ("[64:ff9b::7f00:1]", "64:ff9b::7f00:1", "a loopback address (inside 64:ff9b::7f00:1)"),
            ("[2002:a00:1::]", "2002:a00:1::", "a private address (inside 2002:a00:1::)"),
        ],
    )
    def test_hosts_on_this_machine_or_a_private_network(self, alice, settings, host, resolves_to, reason):
        settings.WEBHOOK_ALLOWED_HOSTS = []
        response = register(client_for(alice), f"https://{host}/hook")
        shown = host.strip("[]")
        message = f"{shown} resolves to {resolves_to}, {reason}; webhooks go only to public addresses."
        assert (response.status_code, response.json()) == (400, {"url": [message]})
        assert not Endpoint.objects.exists()

    def test_a_name_that_resolves_to_a_private_address(self, alice, dns):
        dns.records["hooks.example.test"] = ["10.0.0.7"]
        response = register(client_for(alice), "https://hooks.example.test/in")
        assert response.json() == {
            "url": ["hooks.example.test resolves to 10.0.0.7, a private address; webhooks go only to public addresses."]
        }

    def test_a_name_that_resolves_to_a_public_and_a_private_address(self, alice, dns, settings):
        settings.WEBHOOK_ALLOWED_HOSTS = []
        dns.records["mixed.example.test"] = ["93.184.215.14", "127.0.0.1"]
        response = register(client_for(alice), "https://mixed.example.test/in")
        assert response.status_code == 400
        assert response.json()["url"][0].startswith("mixed.example.test resolves to 127.0.0.1, a loopback address")

    def test_a_name_that_does_not_resolve(self, alice, dns):
        dns.records["gone.example.test"] = []
        response = register(client_for(alice), "https://gone.example.test/in")
        assert response.json() == {"url": ["The host gone.example.test cannot be resolved."]}

    def test_a_public_name_is_accepted(self, alice, dns):
        dns.records["hooks.example.test"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
        assert register(client_for(alice), "https://hooks.example.test/in").status_code == 201

    def test_the_allow_list_names_hosts_addresses_and_networks(self, alice, settings, dns):
        settings.WEBHOOK_ALLOWED_HOSTS = ["receiver.internal", "10.9.0.0/16", "::1"]
        client = client_for(alice)
        # A named host is not even resolved at registration.
        assert register(client, "https://receiver.internal:8443/in").status_code == 201
        assert dns.lookups == []
        assert register(client, "https://10.9.8.7/in").status_code == 201
        assert register(client, "https://[::1]:8443/in").status_code == 201
        assert register(client, "https://10.8.0.1/in").status_code == 400

    def test_a_change_of_url_is_checked_too(self, alice, settings):
        client = client_for(alice)
        endpoint = register(client, "http://127.0.0.1:8123/").json()
        settings.WEBHOOK_ALLOWED_HOSTS = []
        response = client.patch(f"/webhooks/{endpoint['id']}/", {"url": "https://127.0.0.1/"}, format="json")
        assert response.status_code == 400
        assert Endpoint.objects.get().url == "http://127.0.0.1:8123/"


class TestMyEndpointsOnly:
    @pytest.fixture
    def theirs(self, bob):
        return endpoint_for(bob)

    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("get", "", None),
            ("patch", "", {"active": False}),
            ("delete", "", None),
            ("post", "rotate-secret/", None),
            ("get", "deliveries/", None),
        ],
    )
    def test_someone_elses_endpoint_is_not_found(self, alice, theirs, method, suffix, body):
        client = client_for(alice)
        response = getattr(client, method)(f"/webhooks/{theirs.pk}/{suffix}", body, format="json")
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
        missing = getattr(client, method)(f"/webhooks/987654/{suffix}", body, format="json")
        assert (missing.status_code, missing.json()) == (404, response.json())
        theirs.refresh_from_db()
        assert theirs.active

    def test_the_list_shows_only_mine(self, alice, theirs):
        mine = endpoint_for(alice)
        body = client_for(alice).get("/webhooks/").json()
        assert [item["id"] for item in body["results"]] == [mine.pk]


class TestChange:
    def test_patch_changes_what_was_sent(self, alice):
        client = client_for(alice)
        endpoint = register(client, "http://127.0.0.1:8123/", ["contact.requested"]).json()
        response = client.patch(
            f"/webhooks/{endpoint['id']}/",
            {"events": ["invitation.created", "invitation.answered"], "description": "inbox"},
            format="json",
        )
        assert response.status_code == 200
        assert (response.json()["events"], response.json()["description"], response.json()["url"]) == (
            ["invitation.created", "invitation.answered"],
            "inbox",
            "http://127.0.0.1:8123/",
        )
        assert "secret" not in response.json()

    @pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
    def test_active_is_a_json_boolean(self, alice, value):
        endpoint = endpoint_for(alice)
        response = client_for(alice).patch(f"/webhooks/{endpoint.pk}/", {"active": value}, format="json")
        message = "This field may not be null." if value is None else "Must be a valid boolean."
        assert (response.status_code, response.json()) == (400, {"active": [message]})

    def test_active_in_a_form_is_the_word(self, alice):
        endpoint = endpoint_for(alice)
        client = client_for(alice)
        response = client.patch(
            f"/webhooks/{endpoint.pk}/", "active=false", content_type="application/x-www-form-urlencoded"
        )
        assert (response.status_code, response.json()["active"]) == (200, False)
        response = client.patch(
            f"/webhooks/{endpoint.pk}/", "active=1", content_type="application/x-www-form-urlencoded"
        )
        assert (response.status_code, response.json()) == (400, {"active": ["Must be a valid boolean."]})

    def test_turning_a_disabled_endpoint_back_on_clears_why(self, alice):
        endpoint = endpoint_for(
            alice, active=False, disabled_at=timezone.now(), disabled_reason="5 deliveries...", failure_streak=5
        )
        response = client_for(alice).patch(f"/webhooks/{endpoint.pk}/", {"active": True}, format="json")
        assert response.status_code == 200
        assert (response.json()["active"], response.json()["disabled_at"], response.json()["disabled_reason"]) == (
            True,
            None,
            "",
        )
        endpoint.refresh_from_db()
        assert endpoint.failure_streak == 0

    def test_a_new_url_is_stored(self, alice):
        client = client_for(alice)
        endpoint = register(client, "http://127.0.0.1:8123/").json()
        response = client.patch(f"/webhooks/{endpoint['id']}/", {"url": "http://127.0.0.1:8124/new"}, format="json")
        assert (response.status_code, response.json()["url"]) == (200, "http://127.0.0.1:8124/new")
        assert Endpoint.objects.get().url == "http://127.0.0.1:8124/new"

    def test_pausing_a_disabled_endpoint_keeps_why_and_resuming_an_active_one_keeps_its_count(self, alice):
        when = timezone.now() - datetime.timedelta(hours=1)
        disabled = endpoint_for(
            alice, active=False, disabled_at=when, disabled_reason="5 deliveries...", failure_streak=5
        )
        failing = endpoint_for(alice, failure_streak=2)
        client = client_for(alice)
        response = client.patch(f"/webhooks/{disabled.pk}/", {"active": False}, format="json")
        assert response.status_code == 200
        assert (response.json()["disabled_at"], response.json()["disabled_reason"]) == (
            when.isoformat().replace("+00:00", "Z"),
            "5 deliveries...",
        )
        disabled.refresh_from_db()
        assert (disabled.active, disabled.disabled_at, disabled.disabled_reason, disabled.failure_streak) == (
            False,
            when,
            "5 deliveries...",
            5,
        )
        assert client.patch(f"/webhooks/{failing.pk}/", {"active": True}, format="json").status_code == 200
        failing.refresh_from_db()
        assert (failing.active, failing.failure_streak) == (True, 2)

    def test_delete_removes_it_with_its_deliveries(self, alice):
        endpoint = endpoint_for(alice)
        queue_event(EventType.CONTACT_REQUESTED, owners=[alice.pk], build=dict)
        response = client_for(alice).delete(f"/webhooks/{endpoint.pk}/")
        assert (response.status_code, response.content) == (204, b"")
        assert (Endpoint.objects.count(), Delivery.objects.count()) == (0, 0)
        assert run_tasks() == 1  # the queued task finds nothing to do


class TestRotateSecret:
    def test_a_new_secret_and_both_sign_for_a_while(self, alice, settings):
        client = client_for(alice)
        with WebhookReceiver() as receiver:
            first = register(client, receiver.url(), ["contact.requested"]).json()
            response = client.post(f"/webhooks/{first['id']}/rotate-secret/")
            assert response.status_code == 200
            second = response.json()
            assert second["secret"] != first["secret"]
            assert second["secret"].startswith("whsec_")
            assert {k: v for k, v in second.items() if k not in {"secret", "updated_at"}} == {
                k: v for k, v in first.items() if k not in {"secret", "updated_at"}
            }
            client_for(UserFactory(username="carol")).post("/contacts/add/", {"username": "alice"}, format="json")
            run_tasks()
            (request,) = receiver.requests
            assert len(request["headers"]["webhook-signature"].split(" ")) == 2
            for secret in (first["secret"], second["secret"]):
                assert Webhook(secret).verify(request["body"], request["headers"])["type"] == "contact.requested"

    def test_after_the_overlap_only_the_new_one_signs(self, alice):
        client = client_for(alice)
        with WebhookReceiver() as receiver:
            first = register(client, receiver.url(), ["contact.requested"]).json()
            second = client.post(f"/webhooks/{first['id']}/rotate-secret/").json()
            Endpoint.objects.update(previous_secret_until=timezone.now() - datetime.timedelta(seconds=1))
            client_for(UserFactory(username="carol")).post("/contacts/add/", {"username": "alice"}, format="json")
            run_tasks()
            (request,) = receiver.requests
            assert len(request["headers"]["webhook-signature"].split(" ")) == 1
            Webhook(second["secret"]).verify(request["body"], request["headers"])
            with pytest.raises(Exception, match="No matching signature found"):
                Webhook(first["secret"]).verify(request["body"], request["headers"])

    def test_with_no_overlap_the_old_secret_is_forgotten_at_once(self, alice, settings):
        settings.WEBHOOK_SECRET_OVERLAP_HOURS = 0
        endpoint = endpoint_for(
            alice, previous_secret=new_secret(), previous_secret_until=timezone.now() + datetime.timedelta(hours=1)
        )
        response = client_for(alice).post(f"/webhooks/{endpoint.pk}/rotate-secret/")
        assert response.status_code == 200
        endpoint.refresh_from_db()
        assert (endpoint.secret, endpoint.previous_secret, endpoint.previous_secret_until) == (
            response.json()["secret"],
            "",
            None,
        )

    def test_the_overlap_ends_at_its_instant(self, alice):
        until = timezone.now() + datetime.timedelta(hours=1)
        endpoint = endpoint_for(alice, previous_secret=new_secret(), previous_secret_until=until)
        before = until - datetime.timedelta(microseconds=1)
        assert tasks.signing_secrets(endpoint, before) == [endpoint.secret, endpoint.previous_secret]
        assert tasks.signing_secrets(endpoint, until) == [endpoint.secret]


class TestQueries:
    def test_the_lists_take_a_fixed_number_of_queries(self, alice, django_assert_num_queries):
        client = client_for(alice)
        endpoints = [endpoint_for(alice) for _ in range(4)]
        for _ in range(3):
            queue_event(EventType.CONTACT_REQUESTED, owners=[alice.pk], build=dict)
        for delivery in Delivery.objects.all():
            for number in (1, 2):
                DeliveryAttempt.objects.create(
                    delivery=delivery, number=number, started_at=timezone.now(), response_status=500, duration_ms=3
                )
        with django_assert_num_queries(3):  # user, count, page
            assert client.get("/webhooks/").json()["count"] == 4
        with django_assert_num_queries(5):  # user, endpoint, count, page, attempts
            body = client.get(f"/webhooks/{endpoints[0].pk}/deliveries/").json()
        assert body["count"] == 3
        assert [len(item["recent_attempts"]) for item in body["results"]] == [2, 2, 2]


# --- the events and their payloads ----------------------------------------------------------------------------


@pytest.fixture
def listening():
    """Every user's endpoint, listening to everything."""

    def make(*users) -> list[Endpoint]:
        return [endpoint_for(user) for user in users]

    return make


def deliveries_to(user) -> list[Delivery]:
    return list(Delivery.objects.filter(endpoint__owner=user).order_by("id"))


class TestPayloads:
    def test_contact_requested_goes_to_the_one_asked(self, alice, bob, listening):
        listening(alice, bob)
        assert client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json").status_code == 200
        assert deliveries_to(alice) == []
        (delivery,) = deliveries_to(bob)
        contact = alice.contacts_as_a.get()
        assert delivery.event_type == "contact.requested"
        assert body_of(delivery) == {
            "type": "contact.requested",
            "data": {
                "contact": {"id": contact.pk, "status": "pending"},
                "requester": {"id": alice.pk, "username": "alice"},
                "recipient": {"id": bob.pk, "username": "bob"},
            },
        }

    def test_contact_accepted_goes_to_the_one_who_asked(self, alice, bob, listening):
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        listening(alice, bob)
        assert client_for(bob).post("/contacts/accept/", {"username": "alice"}, format="json").status_code == 200
        assert deliveries_to(bob) == []
        (delivery,) = deliveries_to(alice)
        assert body_of(delivery) == {
            "type": "contact.accepted",
            "data": {
                "contact": {"id": alice.contacts_as_a.get().pk, "status": "friends"},
                "requester": {"id": alice.pk, "username": "alice"},
                "accepter": {"id": bob.pk, "username": "bob"},
            },
        }

    @pytest.fixture
    def planned(self, alice, bob):
        make_friends(alice, bob)
        calendar = CalendarFactory(creator=alice, title="Book club", description="Chapter 3", timezone="Europe/Berlin")
        DayFactory(calendar=calendar, date=datetime.date(2030, 5, 7), ranking=2)
        DayFactory(calendar=calendar, date=datetime.date(2030, 5, 6), ranking=1)
        return calendar

    def test_invitation_created_goes_to_the_invitee(self, alice, bob, listening, planned):
        listening(alice, bob)
        response = client_for(alice).post(
            f"/calendars/{planned.pk}/invitations/", {"invitee_username": "bob"}, format="json"
        )
        assert response.status_code == 201
        assert deliveries_to(alice) == []
        (delivery,) = deliveries_to(bob)
        invitation = planned.invitations.get()
        assert body_of(delivery) == {
            "type": "invitation.created",
            "data": {
                "invitation": {
                    "id": invitation.pk,
                    "status": "pending",
                    "invited_at": invitation.invited_at.isoformat().replace("+00:00", "Z"),
                },
                "calendar": {
                    "id": planned.pk,
                    "title": "Book club",
                    "timezone": "Europe/Berlin",
                    "creator": {"id": alice.pk, "username": "alice"},
                    "description": "Chapter 3",
                    "days": [{"date": "2030-05-06", "ranking": 1}, {"date": "2030-05-07", "ranking": 2}],
                },
                "invitee": {"id": bob.pk, "username": "bob"},
            },
        }

    def test_invitation_answered_goes_to_the_creator(self, alice, bob, listening, planned):
        invitation = InvitationFactory(calendar=planned, invitee=bob)
        listening(alice, bob)
        url = f"/calendars/{planned.pk}/invitations/{invitation.pk}/"
        assert client_for(bob).put(url, {"status": "accepted"}, format="json").status_code == 204
        assert client_for(bob).put(url, {"status": "accepted"}, format="json").status_code == 204  # no change
        assert client_for(bob).put(url, {"status": "rejected"}, format="json").status_code == 204
        assert deliveries_to(bob) == []
        accepted, left = deliveries_to(alice)
        calendar = {
            "id": planned.pk,
            "title": "Book club",
            "timezone": "Europe/Berlin",
            "creator": {"id": alice.pk, "username": "alice"},
        }
        assert body_of(accepted) == {
            "type": "invitation.answered",
            "data": {
                "invitation": {"id": invitation.pk, "status": "accepted", "previous_status": "pending"},
                "calendar": calendar,
                "invitee": {"id": bob.pk, "username": "bob"},
            },
        }
        assert body_of(left)["data"]["invitation"] == {
            "id": invitation.pk,
            "status": "rejected",
            "previous_status": "accepted",
        }

    def test_calendar_finalized_and_unfinalized_go_to_every_member(self, alice, bob, listening, planned):
        carol, dave = UserFactory(username="carol"), UserFactory(username="dave")
        InvitationFactory(calendar=planned, invitee=bob, status="accepted")
        InvitationFactory(calendar=planned, invitee=carol, status="pending")
        listening(alice, bob, carol, dave)
        client = client_for(alice)
        meeting = {"date": "2030-05-06", "start_time": "10:00", "end_time": "11:30"}
        assert client.post(f"/calendars/{planned.pk}/finalize/", meeting, format="json").status_code == 200
        assert client.delete(f"/calendars/{planned.pk}/finalize/").status_code == 200
        assert deliveries_to(carol) == deliveries_to(dave) == []
        calendar = {
            "id": planned.pk,
            "title": "Book club",
            "timezone": "Europe/Berlin",
            "creator": {"id": alice.pk, "username": "alice"},
        }
        fixed = {
            "date": "2030-05-06",
            "start_time": "10:00:00",
            "end_time": "11:30:00",
            "starts_at": "2030-05-06T10:00:00+02:00",
            "ends_at": "2030-05-06T11:30:00+02:00",
        }
        for user in (alice, bob):
            finalized, unfinalized = deliveries_to(user)
            assert body_of(finalized) == {
                "type": "calendar.finalized",
                "data": {"calendar": calendar, "meeting": fixed, "participants": [{"id": bob.pk, "username": "bob"}]},
            }
            assert body_of(unfinalized) == {
                "type": "calendar.unfinalized",
                "data": {
                    "calendar": calendar,
                    "cancelled_meeting": fixed,
                    "participants": [{"id": bob.pk, "username": "bob"}],
                    "calendar_deleted": False,
                },
            }

    def test_deleting_a_fixed_calendar_unfinalizes_it(self, alice, bob, listening, planned):
        InvitationFactory(calendar=planned, invitee=bob, status="accepted")
        client = client_for(alice)
        meeting = {"date": "2030-05-06", "start_time": "10:00", "end_time": "11:30"}
        client.post(f"/calendars/{planned.pk}/finalize/", meeting, format="json")
        listening(bob)
        assert client.delete(f"/calendars/{planned.pk}/").status_code == 204
        (delivery,) = deliveries_to(bob)
        assert body_of(delivery)["type"] == "calendar.unfinalized"
        assert body_of(delivery)["data"]["calendar_deleted"] is True

    def test_only_the_events_an_endpoint_listens_to(self, alice, bob):
        quiet = endpoint_for(bob, events=["contact.accepted"])
        paused = endpoint_for(bob, events=["contact.requested"], active=False)
        loud = endpoint_for(bob, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        assert [d.endpoint_id for d in deliveries_to(bob)] == [loud.pk]
        assert quiet.deliveries.count() == paused.deliveries.count() == 0

    def test_a_rolled_back_change_sends_nothing(self, alice, bob):
        endpoint_for(bob)
        tasks_before = DBTaskResult.objects.count()
        client = client_for(alice)

        def request_then_fail():
            with transaction.atomic():
                client.post("/contacts/add/", {"username": "bob"}, format="json")
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            request_then_fail()
        assert (Delivery.objects.count(), DBTaskResult.objects.count()) == (0, tasks_before)

    def test_the_body_is_compact_utf8_json_stamped_in_utc(self, alice, settings):
        settings.TIME_ZONE = "America/New_York"  # the server's zone does not show
        endpoint = endpoint_for(alice)
        before = timezone.now()
        (queued,) = queue_event(
            EventType.CONTACT_REQUESTED,
            owners=[alice.pk],
            build=lambda: {"title": "Café Zoë", "on": datetime.date(2030, 5, 6)},
        )
        delivery = Delivery.objects.get()
        assert (queued.pk, delivery.endpoint_id, delivery.event_type) == (delivery.pk, endpoint.pk, "contact.requested")
        stamp = json.loads(delivery.payload)["timestamp"]
        assert STAMP.match(stamp)
        sent = datetime.datetime.fromisoformat(stamp)
        assert before - datetime.timedelta(seconds=1) <= sent <= timezone.now()
        assert delivery.payload == (
            '{"type":"contact.requested","timestamp":"' + stamp + '","data":{"title":"Café Zoë","on":"2030-05-06"}}'
        )

    def test_an_event_nobody_listens_to_costs_one_query(self, alice, django_assert_num_queries):
        endpoint_for(alice, events=["contact.accepted"])
        with django_assert_num_queries(1):
            assert queue_event(EventType.CONTACT_REQUESTED, owners=[alice.pk], build=dict) == []


# --- delivery ---------------------------------------------------------------------------------------------------


def verifying(secret: str, answers: list[int]):
    """A receiver's answers: 401 for a bad signature, else the next of `answers` (then 204)."""

    def answer(request):
        try:
            Webhook(secret).verify(request["body"], request["headers"])
        except Exception:  # the reference library raises its own errors for each refusal
            return 401
        return answers.pop(0) if answers else 204

    return answer


class TestDeliveryEndToEnd:
    def test_a_receiver_that_fails_twice_then_succeeds(self, alice, bob):
        """The reference library verifies every attempt; the third succeeds; the attempts are all shown."""
        client = client_for(bob)
        answers = [500, 503]
        with WebhookReceiver() as receiver:
            created = register(client, receiver.url("/oneonone"), ["contact.requested"]).json()
            receiver.then = verifying(created["secret"], answers)
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            for _ in range(3):
                run_tasks()
                time_passes()
            assert run_tasks() == 0  # nothing more to do
        assert [r["path"] for r in receiver.requests] == ["/oneonone"] * 3
        ids = {r["headers"]["webhook-id"] for r in receiver.requests}
        stamps = [int(r["headers"]["webhook-timestamp"]) for r in receiver.requests]
        assert len(ids) == 1
        assert all(abs(stamp - time.time()) < 60 for stamp in stamps)
        assert {r["body"] for r in receiver.requests} == {Delivery.objects.get().payload.encode()}
        payload = Webhook(created["secret"]).verify(receiver.requests[-1]["body"], receiver.requests[-1]["headers"])
        assert payload["type"] == "contact.requested"

        body = client.get(f"/webhooks/{created['id']}/deliveries/").json()
        (delivery,) = body["results"]
        assert delivery["message_id"] == ids.pop()
        assert (delivery["status"], delivery["attempts"], delivery["response_status"], delivery["last_error"]) == (
            "succeeded",
            3,
            204,
            "",
        )
        assert [
            (a["number"], a["response_status"], a["succeeded"], a["error"]) for a in delivery["recent_attempts"]
        ] == [
            (3, 204, True, ""),
            (2, 503, False, "HTTP 503"),
            (1, 500, False, "HTTP 500"),
        ]
        assert all(0 <= a["duration_ms"] < 5000 for a in delivery["recent_attempts"])
        assert delivery["delivered_at"] is not None

    def test_a_wrong_secret_is_caught_by_the_receiver(self, alice, bob):
        with WebhookReceiver() as receiver:
            register(client_for(bob), receiver.url(), ["contact.requested"])
            receiver.then = verifying(new_secret(), [])
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            run_tasks()
        assert Delivery.objects.get().response_status == 401

    def test_a_delivery_run_twice_is_sent_once(self, alice, bob):
        with WebhookReceiver() as receiver:
            endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            delivery = Delivery.objects.get()
            tasks.deliver.enqueue(delivery.pk)  # a second task for the same row
            run_tasks()
            time_passes()
            run_tasks()
        assert len(receiver.requests) == 1
        assert Delivery.objects.get().attempts == 1


class TestFailures:
    def deliver_one(self, alice, bob, receiver, rounds: int = 1) -> Delivery:
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        for _ in range(rounds):
            run_tasks()
            time_passes()
        return Delivery.objects.get()

    def test_retries_back_off_with_jitter_and_honour_retry_after(self, alice, bob, settings):
        settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 10, 100
        for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (12, 100)]:
            waits = [tasks.backoff(attempts).total_seconds() for _ in range(50)]
            assert all(ceiling / 2 <= wait <= ceiling for wait in waits), (attempts, waits)
            assert len(set(waits)) > 1
        assert tasks.backoff(1, retry_after=60).total_seconds() == 60
        assert tasks.backoff(1, retry_after=6000).total_seconds() == 100  # capped
        with WebhookReceiver([(503, {"Retry-After": "45"}, b"busy")]) as receiver:
            endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            before = timezone.now()
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            run_tasks()
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.last_error) == (DeliveryStatus.QUEUED, "HTTP 503: busy")
        assert delivery.next_attempt_at >= before + datetime.timedelta(seconds=45)

    def test_a_retry_that_falls_on_the_last_instant_of_the_day_is_made(self, alice, bob, monkeypatch, caplog):
        endpoint_for(bob, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        delivery = Delivery.objects.get()
        tasks._claim(delivery.pk)
        now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: now)
        monkeypatch.setattr(tasks, "backoff", lambda attempts, retry_after=None: delivery.give_up_at - now)
        outcome = transport.Outcome(500, 5, error="HTTP 500")
        with caplog.at_level("INFO", logger="webhooks.tasks"):
            assert tasks.record(delivery.pk, attempt=1, started_at=now, outcome=outcome) == "retrying"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.QUEUED, delivery.give_up_at)
        assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "webhooks.tasks"] == [
            ("INFO", f"webhook {delivery.pk} attempt 1 failed, retrying at {delivery.give_up_at}: HTTP 500")
        ]

    def test_failed_for_good_is_logged_and_counted(self, alice, bob, settings, caplog):
        settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1
        endpoint = endpoint_for(bob, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        Delivery.objects.update(give_up_at=timezone.now())
        delivery = Delivery.objects.get()
        tasks._claim(delivery.pk)
        outcome = transport.Outcome(500, 5, error="HTTP 500: " + "y" * 400)
        with caplog.at_level("INFO", logger="webhooks.tasks"):
            assert tasks.record(delivery.pk, attempt=1, started_at=timezone.now(), outcome=outcome) == "failed"
        reason = "1 deliveries in a row failed after every retry; the last: " + outcome.error[:200]
        endpoint.refresh_from_db()
        assert (endpoint.active, endpoint.failure_streak, endpoint.disabled_reason) == (False, 1, reason)
        assert Delivery.objects.get().status == DeliveryStatus.FAILED
        assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "webhooks.tasks"] == [
            ("WARNING", f"webhook endpoint {endpoint.pk} disabled: {reason}"),
            ("WARNING", f"webhook {delivery.pk} failed for good after 1 attempt(s): {outcome.error}"),
        ]

    def test_gives_up_after_about_a_day_and_disables_after_repeated_failures(self, alice, bob, settings):
        settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
        with WebhookReceiver(then=500) as receiver:
            endpoint = endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            run_tasks()
            first = Delivery.objects.get()
            window = (first.give_up_at - first.created_at).total_seconds()
            assert 86399 < window < 86401
            # The day is over: the next retry would fall after it.
            Delivery.objects.update(give_up_at=timezone.now())
            time_passes()
            run_tasks()
            first.refresh_from_db()
            assert (first.status, first.attempts) == (DeliveryStatus.FAILED, 2)
            endpoint.refresh_from_db()
            assert (endpoint.active, endpoint.failure_streak, mail.outbox) == (True, 1, [])
            # A second delivery in a row fails for good: the endpoint is disabled, its owner told once.
            client_for(UserFactory(username="carol")).post("/contacts/add/", {"username": "bob"}, format="json")
            second = Delivery.objects.exclude(pk=first.pk).get()
            Delivery.objects.filter(pk=second.pk).update(give_up_at=timezone.now())
            run_tasks()
            run_tasks()
        endpoint.refresh_from_db()
        assert (endpoint.active, endpoint.failure_streak) == (False, 2)
        assert endpoint.disabled_reason == "2 deliveries in a row failed after every retry; the last: HTTP 500"
        (notice,) = mail.outbox
        assert (notice.to, notice.subject) == (["bob@example.com"], f"Webhook disabled: {receiver.url()}")
        assert f'PATCH /webhooks/{endpoint.pk}/ {{"active": true}}' in notice.body
        assert len(receiver.requests) == 3
        # Nothing more is queued for a disabled endpoint.
        client_for(UserFactory(username="dave")).post("/contacts/add/", {"username": "bob"}, format="json")
        assert Delivery.objects.count() == 2

    def test_a_success_resets_the_failure_count(self, alice, bob):
        with WebhookReceiver() as receiver:
            endpoint = endpoint_for(bob, url=receiver.url(), events=["contact.requested"], failure_streak=3)
            self.deliver_one(alice, bob, receiver)
        endpoint.refresh_from_db()
        assert endpoint.failure_streak == 0

    def test_a_success_resets_only_its_own_endpoints_count(self, alice, bob):
        mine = endpoint_for(bob, events=["contact.requested"], failure_streak=1)
        other = endpoint_for(bob, events=["contact.accepted"], failure_streak=2)
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        delivery = Delivery.objects.get()
        tasks._claim(delivery.pk)
        outcome = transport.Outcome(204, 5)
        assert tasks.record(delivery.pk, attempt=1, started_at=timezone.now(), outcome=outcome) == "succeeded"
        assert dict(Endpoint.objects.values_list("pk", "failure_streak")) == {mine.pk: 0, other.pk: 2}

    def test_410_gone_fails_at_once_and_disables(self, alice, bob, caplog):
        with WebhookReceiver([410]) as receiver, caplog.at_level("WARNING", logger="webhooks.tasks"):
            endpoint = endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            delivery = self.deliver_one(alice, bob, receiver, rounds=3)
        assert [r.getMessage() for r in caplog.records if r.name == "webhooks.tasks"] == [
            f"webhook endpoint {endpoint.pk} disabled: The endpoint answered 410 Gone: it wants no more deliveries."
        ]
        assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.FAILED, 1, 410)
        endpoint.refresh_from_db()
        assert (endpoint.active, endpoint.disabled_reason) == (
            False,
            "The endpoint answered 410 Gone: it wants no more deliveries.",
        )
        assert [m.subject for m in mail.outbox] == [f"Webhook disabled: {receiver.url()}"]

    def test_a_410_for_an_endpoint_paused_meanwhile_leaves_it_paused(self, alice, bob):
        endpoint = endpoint_for(bob, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        delivery = Delivery.objects.get()
        assert tasks._claim(delivery.pk) is not None  # the attempt starts...
        # ...its owner pauses the endpoint while it runs...
        assert client_for(bob).patch(f"/webhooks/{endpoint.pk}/", {"active": False}, format="json").status_code == 200
        # ...and the receiver answers 410.
        outcome = transport.Outcome(status=410, duration_ms=5)
        assert tasks.record(delivery.pk, attempt=1, started_at=timezone.now(), outcome=outcome) == "failed: 410 Gone"
        endpoint.refresh_from_db()
        assert (endpoint.active, endpoint.disabled_at, endpoint.disabled_reason) == (False, None, "")
        assert mail.outbox == []
        assert not DBTaskResult.objects.filter(task_path__contains="send_email").exists()
        assert Delivery.objects.get().status == DeliveryStatus.FAILED

    def test_the_owner_is_told_once_with_a_long_url_cut_in_the_subject(self, alice, bob):
        from delivery.models import Email

        url = "http://127.0.0.1:9/" + "a" * 300
        endpoint = endpoint_for(bob, url=url, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        delivery = Delivery.objects.get()
        tasks._claim(delivery.pk)
        tasks.record(delivery.pk, attempt=1, started_at=timezone.now(), outcome=transport.Outcome(410, 5))
        endpoint.refresh_from_db()
        notice = Email.objects.get()
        assert (notice.kind, notice.recipient, notice.subject) == (
            "webhook_disabled",
            bob,
            "Webhook disabled: " + url[:200],
        )
        assert notice.key == f"webhook_disabled:{endpoint.pk}:{endpoint.disabled_at.timestamp()}"
        assert f"your webhook {url} (id {endpoint.pk})" in notice.body

    def test_an_attempt_whose_endpoint_was_deleted_meanwhile_writes_nothing(self, alice, bob):
        endpoint = endpoint_for(bob, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        delivery = Delivery.objects.get()
        tasks._claim(delivery.pk)
        assert client_for(bob).delete(f"/webhooks/{endpoint.pk}/").status_code == 204
        outcome = transport.Outcome(500, 5, error="HTTP 500")
        assert tasks.record(delivery.pk, attempt=1, started_at=timezone.now(), outcome=outcome) == "gone"
        assert (Delivery.objects.count(), DeliveryAttempt.objects.count()) == (0, 0)

    def test_an_error_is_kept_to_2000_characters(self, alice, bob):
        endpoint_for(bob, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        delivery = Delivery.objects.get()
        tasks._claim(delivery.pk)
        error = "TLS: " + "x" * 2500
        assert tasks.record(
            delivery.pk, attempt=1, started_at=timezone.now(), outcome=transport.Outcome(None, 5, error)
        )
        assert Delivery.objects.get().last_error == DeliveryAttempt.objects.get().error == error[:2000]

    def test_a_delivery_due_this_instant_is_claimed_and_one_taken_is_not(self, alice, bob, monkeypatch):
        endpoint_for(bob, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        delivery = Delivery.objects.get()
        monkeypatch.setattr(timezone, "now", lambda: delivery.next_attempt_at)
        claimed, _endpoint = tasks._claim(delivery.pk)
        assert (claimed.status, claimed.attempts) == (DeliveryStatus.SENDING, 1)
        assert tasks.deliver.call(delivery.pk) == "nothing to do"  # already being sent
        assert Delivery.objects.get().attempts == 1

    def test_a_redirect_is_not_followed(self, alice, bob):
        with WebhookReceiver([(302, {"Location": "http://127.0.0.1:1/elsewhere"}, b"")]) as receiver:
            endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            delivery = self.deliver_one(alice, bob, receiver)
        assert len(receiver.requests) == 1
        assert delivery.last_error == "HTTP 302 (redirects are not followed; Location: http://127.0.0.1:1/elsewhere)"
        assert delivery.status == DeliveryStatus.QUEUED

    def test_at_most_64_kb_of_an_answer_is_read(self, alice, bob):
        def endless(request):
            handler = request["handler"]
            handler.send_response(500)
            handler.send_header("Content-Length", str(100 * 1024 * 1024))
            handler.end_headers()
            try:
                while True:  # a receiver that never stops talking
                    handler.wfile.write(b"x" * 65536)
            except OSError:
                return None

        with WebhookReceiver([endless]) as receiver:
            endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            started = time.monotonic()
            delivery = self.deliver_one(alice, bob, receiver)
        assert time.monotonic() - started < 5  # the attempt did not wait for the rest
        assert delivery.last_error == "HTTP 500: " + "x" * 300
        assert delivery.response_status == 500

    def test_the_deadline_cuts_a_receiver_that_drips(self, alice, bob, settings):
        settings.WEBHOOK_TIMEOUT_SECONDS = 1

        def drip(request):
            handler = request["handler"]
            try:
                handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for _ in range(30):  # a header line every 0.2 s: each read is quick, the whole is not
                    handler.wfile.write(b"X-Slow: 1\r\n")
                    handler.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            return None

        with WebhookReceiver([drip]) as receiver:
            endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            delivery = self.deliver_one(alice, bob, receiver)
        assert (delivery.status, delivery.response_status) == (DeliveryStatus.QUEUED, None)
        assert delivery.last_error == "no complete answer within 1 s"
        assert 900 <= delivery.duration_ms < 3000

    def test_a_closed_port_is_retried(self, alice, bob):
        with WebhookReceiver() as receiver:
            url = receiver.url()
        endpoint_for(bob, url=url, events=["contact.requested"])
        delivery = self.deliver_one(alice, bob, None)
        assert (delivery.status, delivery.response_status, delivery.last_error) == (
            DeliveryStatus.QUEUED,
            None,
            "connection refused",
        )

    def test_a_paused_endpoint_gets_nothing(self, alice, bob):
        with WebhookReceiver() as receiver:
            endpoint = endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            Endpoint.objects.filter(pk=endpoint.pk).update(active=False)
            run_tasks()
        assert receiver.requests == []
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.FAILED, 0, tasks.PAUSED)


class TestWhereRequestsGo:
    """The address is checked again at every attempt, and the connection goes to the address checked."""

    @pytest.fixture
    def connections(self, monkeypatch):
        made = []
        connect = transport.open_connection

        def spy(address, port, timeout):
            made.append(address)
            return connect(address, port, timeout)

        monkeypatch.setattr(transport, "open_connection", spy)
        return made

    def test_a_name_that_now_resolves_to_this_machine_is_refused(self, alice, bob, dns, connections):
        # Public at registration, loopback at delivery (DNS rebinding): nothing is sent.
        dns.records["hooks.example.test"] = [["93.184.215.14"], ["127.0.0.2"]]
        created = register(client_for(bob), "http://hooks.example.test/in", ["contact.requested"])
        assert created.status_code == 201
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        run_tasks()
        delivery = Delivery.objects.get()
        assert connections == []
        assert (delivery.status, delivery.response_status, delivery.last_error) == (
            DeliveryStatus.QUEUED,
            None,
            "refused: hooks.example.test resolves to 127.0.0.2, a loopback address; "
            "webhooks go only to public addresses.",
        )

    def test_the_name_is_resolved_once_and_the_checked_address_is_used(self, alice, bob, dns, connections):
        with WebhookReceiver() as receiver:
            # Resolved once per attempt: a second lookup would answer an address this machine does not have.
            dns.records["hooks.example.test"] = [["127.0.0.1"], ["127.0.0.1"], ["127.0.0.9"]]
            endpoint_for(bob, url=f"http://hooks.example.test:{receiver.port}/in", events=["contact.requested"])
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            run_tasks()
        assert dns.lookups == ["hooks.example.test"]
        assert connections == ["127.0.0.1"]
        (request,) = receiver.requests
        assert request["headers"]["Host"] == f"hooks.example.test:{receiver.port}"
        assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED

    def test_the_allow_list_is_needed_at_delivery_too(self, alice, bob, settings, connections):
        with WebhookReceiver() as receiver:
            endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            settings.WEBHOOK_ALLOWED_HOSTS = []
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            run_tasks()
        assert receiver.requests == connections == []
        assert Delivery.objects.get().last_error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1")

    def test_https_verifies_the_certificate_against_the_host_name(self, alice, bob, dns, connections):
        # A plain-HTTP listener is no TLS server: the handshake fails, and nothing is sent in the clear.
        with WebhookReceiver() as receiver:
            dns.records["hooks.example.test"] = ["127.0.0.1"]
            endpoint_for(bob, url=f"https://hooks.example.test:{receiver.port}/in", events=["contact.requested"])
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            run_tasks()
        assert connections == ["127.0.0.1"]
        assert receiver.requests == []
        assert Delivery.objects.get().last_error.startswith("TLS: ")


class TestSafetyRules:
    @pytest.mark.parametrize(
        "address",
        ["8.8.8.8", "2001:4860:4860::8888", "93.184.215.14", "64:ff9b::808:808", "2002:808:808::"],
    )
    def test_public_addresses_pass(self, address):
        import ipaddress

        assert safety.refusal(ipaddress.ip_address(address)) is None


class TestOperations:
    def test_the_sweep_requeues_what_a_dead_worker_left_and_prunes_old_rows(self, alice, bob, settings):
        with WebhookReceiver() as receiver:
            endpoint_for(bob, url=receiver.url(), events=["contact.requested"])
            client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
            long_ago = timezone.now() - datetime.timedelta(minutes=5)
            Delivery.objects.update(status=DeliveryStatus.SENDING, attempts=1)
            Delivery.objects.update(updated_at=long_ago)  # auto_now: a second update
            DBTaskResult.objects.all().delete()  # the task went with the worker
            old = Delivery.objects.create(
                endpoint=Endpoint.objects.get(),
                event_type="contact.requested",
                payload="{}",
                status=DeliveryStatus.SUCCEEDED,
                delivered_at=long_ago,
                next_attempt_at=long_ago,
                give_up_at=long_ago,
            )
            Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
            assert tasks.sweep.call() == "1 queued again, 1 old rows deleted"
            run_tasks()
        assert len(receiver.requests) == 1
        assert list(Delivery.objects.values_list("status", "attempts")) == [(DeliveryStatus.SUCCEEDED, 2)]

    def test_the_sweep_takes_only_what_was_left_behind(self, bob, caplog):
        endpoint = endpoint_for(bob, events=["contact.requested"])
        now = timezone.now()
        later = now + datetime.timedelta(hours=1)
        lease_ago = now - datetime.timedelta(minutes=5)  # WEBHOOK_SEND_LEASE_SECONDS is a minute
        yesterday, month_ago = now - datetime.timedelta(days=1), now - datetime.timedelta(days=31)

        def left(status, *, updated=now, next_attempt=later, created=now):
            delivery = Delivery.objects.create(
                endpoint=endpoint,
                event_type="contact.requested",
                payload="{}",
                status=status,
                next_attempt_at=next_attempt,
                give_up_at=later,
                delivered_at=created if status == DeliveryStatus.SUCCEEDED else None,
            )
            Delivery.objects.filter(pk=delivery.pk).update(updated_at=updated, created_at=created)
            return delivery.pk

        rows = {
            "sending, its worker gone": left(DeliveryStatus.SENDING, updated=lease_ago),
            "sending now": left(DeliveryStatus.SENDING),
            "queued, its task lost": left(DeliveryStatus.QUEUED, next_attempt=lease_ago),
            "queued for later": left(DeliveryStatus.QUEUED, updated=lease_ago),
            "failed yesterday": left(
                DeliveryStatus.FAILED, updated=lease_ago, next_attempt=lease_ago, created=yesterday
            ),
            "succeeded a month ago": left(DeliveryStatus.SUCCEEDED, updated=lease_ago, created=month_ago),
            "succeeded yesterday": left(DeliveryStatus.SUCCEEDED, updated=lease_ago, created=yesterday),
            "queued a month ago": left(DeliveryStatus.QUEUED, created=month_ago),
        }
        DBTaskResult.objects.all().delete()
        with caplog.at_level("WARNING", logger="webhooks.tasks"):
            assert tasks.sweep.call() == "2 queued again, 1 old rows deleted"
        assert caplog.record_tuples == [("webhooks.tasks", 30, "webhook sweep: 2 delivery(ies) queued again")]
        status = dict(Delivery.objects.values_list("pk", "status"))
        assert {name: status.get(pk) for name, pk in rows.items()} == {
            "sending, its worker gone": DeliveryStatus.QUEUED,
            "sending now": DeliveryStatus.SENDING,
            "queued, its task lost": DeliveryStatus.QUEUED,
            "queued for later": DeliveryStatus.QUEUED,
            "failed yesterday": DeliveryStatus.FAILED,
            "succeeded a month ago": None,  # deleted
            "succeeded yesterday": DeliveryStatus.SUCCEEDED,
            "queued a month ago": DeliveryStatus.QUEUED,
        }
        assert Delivery.objects.get(pk=rows["queued for later"]).next_attempt_at == later
        # Queued again within their day, not given another one.
        assert set(Delivery.objects.filter(status=DeliveryStatus.QUEUED).values_list("give_up_at", flat=True)) == {
            later
        }
        queued = sorted(result.args_kwargs["args"] for result in DBTaskResult.objects.all())
        assert queued == sorted([[rows["sending, its worker gone"]], [rows["queued, its task lost"]]])

    def test_requeue_counts_each_and_leaves_what_finished_meanwhile(self, alice, bob):
        endpoint_for(bob, events=["contact.requested"])
        for name in ("carol", "dave", "erin"):
            client_for(UserFactory(username=name)).post("/contacts/add/", {"username": "bob"}, format="json")
        done, *failed = Delivery.objects.order_by("id")
        Delivery.objects.filter(pk=done.pk).update(status=DeliveryStatus.SUCCEEDED, delivered_at=timezone.now())
        Delivery.objects.exclude(pk=done.pk).update(status=DeliveryStatus.FAILED)
        DBTaskResult.objects.all().delete()
        # The selection was made before the first one succeeded (a retry by hand racing a worker).
        assert tasks.requeue(Delivery.objects.all()) == 2
        assert list(Delivery.objects.order_by("id").values_list("status", flat=True)) == [
            DeliveryStatus.SUCCEEDED,
            DeliveryStatus.QUEUED,
            DeliveryStatus.QUEUED,
        ]
        queued = sorted(result.args_kwargs["args"] for result in DBTaskResult.objects.all())
        assert queued == [[failed[0].pk], [failed[1].pk]]

    def test_health_detail_shows_the_deliveries(self, alice, bob, settings):
        settings.HEALTH_DETAIL_TOKEN = "t0ken"
        endpoint_for(bob, events=["contact.requested"], active=False, disabled_at=timezone.now())
        endpoint_for(bob, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        details = APIClient().get("/healthz/?detail=1", HTTP_X_HEALTH_TOKEN="t0ken").json()["details"]
        assert details["webhooks"] == {
            "queued": 1,
            "running": 0,
            "failed": 0,
            "succeeded": 0,
            "oldest_queued_seconds": details["webhooks"]["oldest_queued_seconds"],
            "endpoints_disabled": 1,
        }

    def test_a_failed_delivery_can_be_retried_by_hand(self, alice, bob):
        endpoint_for(bob, events=["contact.requested"])
        client_for(alice).post("/contacts/add/", {"username": "bob"}, format="json")
        Delivery.objects.update(status=DeliveryStatus.FAILED, give_up_at=timezone.now())
        assert tasks.requeue(Delivery.objects.all(), fresh_window=True) == 1
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.QUEUED
        assert delivery.give_up_at > timezone.now() + datetime.timedelta(hours=23)

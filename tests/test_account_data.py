"""My data: `GET /auth/me/export/` (everything about me, throttled) and `DELETE /auth/me/` (all of it, at once).

The PostgreSQL tests race a deletion against an invitation answer and against itself.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as account_services
from accounts.serializers import AccountExportSerializer
from accounts.signals import user_deleting
from accounts.throttles import AccountDeleteThrottle, AccountExportThrottle
from calendars import services as calendar_services
from calendars.models import Calendar, FeedToken, Invitation, TimeSlot
from contacts.models import Contact, ContactStatus
from delivery.models import Email
from tests.conftest import client_for, run_tasks
from tests.factories import (
    PASSWORD,
    CalendarFactory,
    ContactFactory,
    DayFactory,
    InvitationFactory,
    TimeSlotFactory,
    UserFactory,
    make_friends,
)
from tests.support import run_together
from webhooks.models import Delivery, Endpoint, new_secret

User = get_user_model()


def endpoint_for(user, **fields) -> Endpoint:
    endpoint = Endpoint(owner=user, slot=1, url="https://hooks.example.com/in", secret=new_secret(), **fields)
    endpoint.set_events(["calendar.finalized", "calendar.unfinalized"])
    endpoint.save()
    return endpoint


def when(value: datetime.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def world():
    """alice created "Book club" (bob takes part, carol is invited) and takes part in dave's "Dinner"."""
    alice, bob, carol, dave = (UserFactory(username=name) for name in ("alice", "bob", "carol", "dave"))
    for other in (bob, carol, dave):
        make_friends(alice, other)
    ContactFactory(userA=UserFactory(username="erin"), userB=alice, status=ContactStatus.PENDING)
    club = CalendarFactory(creator=alice, title="Book club", description="Chapter 3", timezone="Europe/Berlin")
    club_day = DayFactory(calendar=club, date=datetime.date(2030, 5, 6), ranking=1)
    TimeSlotFactory(day=club_day, owner=alice, start_time=datetime.time(9), end_time=datetime.time(10))
    TimeSlotFactory(day=club_day, owner=bob, start_time=datetime.time(9), end_time=datetime.time(11))
    InvitationFactory(calendar=club, invitee=bob, status="accepted")
    InvitationFactory(calendar=club, invitee=carol, status="pending")
    dinner = CalendarFactory(creator=dave, title="Dinner", description="dave's secret plan")
    dinner_day = DayFactory(calendar=dinner, date=datetime.date(2030, 6, 1), ranking=1)
    TimeSlotFactory(day=dinner_day, owner=dave, start_time=datetime.time(18), end_time=datetime.time(20))
    TimeSlotFactory(day=dinner_day, owner=alice, start_time=datetime.time(19), end_time=datetime.time(21))
    InvitationFactory(calendar=dinner, invitee=alice, status="accepted")
    return alice, bob, carol, dave, club, dinner


@pytest.mark.django_db
class TestExport:
    def test_everything_about_me_and_only_mine(self):
        alice, bob, _, _, club, dinner = world()
        calendar_services.feed_token_get(user=alice)
        endpoint = endpoint_for(alice, description="sync")
        response = client_for(alice).get("/auth/me/export/")
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'attachment; filename="oneonone-export-{alice.pk}.json"'
        body = response.json()
        assert list(body) == list(AccountExportSerializer().fields)
        assert list(body) == [
            "exported_at",
            "profile",
            "contacts",
            "calendars_created",
            "calendars_joined",
            "feed_token",
            "invitations",
            "webhooks",
        ]
        assert body["profile"] == {
            "id": alice.pk,
            "username": "alice",
            "email": "alice@example.com",
            "email_verified": True,
            "date_joined": when(alice.date_joined),
            "last_login": None,
        }
        contacts = {c["user"]["username"]: (c["status"], c["initiated_by_me"]) for c in body["contacts"]}
        assert contacts == {"bob": (1, True), "carol": (1, True), "dave": (1, True), "erin": (2, False)}

        (created,) = body["calendars_created"]
        club_invitations = {i.invitee.username: i for i in club.invitations.select_related("invitee")}
        assert {k: v for k, v in created.items() if k != "days"} == {
            "id": club.pk,
            "creator_username": "alice",
            "title": "Book club",
            "description": "Chapter 3",
            "timezone": "Europe/Berlin",
            "respond_by": None,
            "responses": {"invited": 2, "accepted": 1, "pending": 1, "rejected": 0, "with_availability": 2},
            "participants": [bob.pk],
            "finalized": None,
            "invitations": [
                {
                    "id": club_invitations[name].pk,
                    "invitee_id": club_invitations[name].invitee_id,
                    "invitee_username": name,
                    "status": status,
                    "invited_at": when(club_invitations[name].invited_at),
                }
                for name, status in (("bob", "accepted"), ("carol", "pending"))
            ],
            "created_at": when(club.created_at),
        }
        # In full: every member's slots of my calendar.
        assert [slot["owner_username"] for slot in created["days"][0]["timeslots"]] == ["alice", "bob"]

        (joined,) = body["calendars_joined"]
        my_slot = TimeSlot.objects.get(owner=alice, day__calendar=dinner)
        assert joined == {
            "id": dinner.pk,
            "creator_username": "dave",
            "title": "Dinner",
            "description": "dave's secret plan",
            "timezone": "UTC",
            "days": [{"id": dinner.days.get().pk, "date": "2030-06-01", "ranking": 1}],
            "finalized": None,
            # Only mine: dave's slot is his data.
            "my_timeslots": [
                {"id": my_slot.pk, "date": "2030-06-01", "start_time": "19:00:00", "end_time": "21:00:00"}
            ],
        }
        assert body["feed_token"] == {"exists": True, "created_at": when(FeedToken.objects.get(user=alice).created_at)}
        assert [(i["calendar_title"], i["status"]) for i in body["invitations"]] == [("Dinner", "accepted")]
        assert body["webhooks"] == [
            {
                "id": endpoint.pk,
                "url": "https://hooks.example.com/in",
                "description": "sync",
                "events": ["calendar.finalized", "calendar.unfinalized"],
                "active": True,
                "disabled_at": None,
                "disabled_reason": "",
                "created_at": when(endpoint.created_at),
                "updated_at": when(endpoint.updated_at),
            }
        ]
        # No secret anywhere: not the webhook's, not the feed token's.
        text = response.content.decode()
        assert endpoint.secret not in text
        assert FeedToken.objects.get(user=alice).token not in text
        assert "password" not in text

    def test_a_new_account_exports_empty_sections(self):
        zoe = UserFactory(username="zoe")
        body = client_for(zoe).get("/auth/me/export/").json()
        assert {k: v for k, v in body.items() if k not in {"exported_at", "profile"}} == {
            "contacts": [],
            "calendars_created": [],
            "calendars_joined": [],
            "feed_token": {"exists": False, "created_at": None},
            "invitations": [],
            "webhooks": [],
        }

    def test_needs_a_login(self):
        response = APIClient().get("/auth/me/export/")
        assert (response.status_code, response.json()) == (
            401,
            {"detail": "Authentication credentials were not provided."},
        )

    def test_throttled_per_user(self, monkeypatch):
        monkeypatch.setattr(AccountExportThrottle, "THROTTLE_RATES", {"account_export": "2/hour"})
        zoe, yan = UserFactory(username="zoe"), UserFactory(username="yan")
        client = client_for(zoe)
        assert [client.get("/auth/me/export/").status_code for _ in range(2)] == [200, 200]
        response = client.get("/auth/me/export/")
        assert response.status_code == 429
        assert response.json()["detail"].startswith("Request was throttled. Expected available in ")
        assert int(response["Retry-After"]) > 0
        assert client_for(yan).get("/auth/me/export/").status_code == 200

    def test_a_fixed_number_of_queries(self, django_assert_num_queries):
        alice, *_ = world()
        client = client_for(alice)
        client.get("/auth/me/export/")  # opens the throttle's window (its first attempt also sweeps old windows)
        with django_assert_num_queries(13):  # 1 of them the throttle's counter (one upsert)
            client.get("/auth/me/export/")
        for n in range(3):  # more of everything: the same count
            more = CalendarFactory(creator=alice, title=f"More {n}")
            InvitationFactory(calendar=more, invitee=User.objects.get(username="bob"))
            other = CalendarFactory(creator=User.objects.get(username="dave"))
            TimeSlotFactory(day=DayFactory(calendar=other), owner=alice)
            InvitationFactory(calendar=other, invitee=alice, status="accepted")
        with django_assert_num_queries(13):  # 1 of them the throttle's counter (one upsert)
            client.get("/auth/me/export/")


@pytest.mark.django_db
class TestDelete:
    def test_a_wrong_password_changes_nothing(self):
        alice, *_ = world()
        counts = [model.objects.count() for model in (User, Calendar, Invitation, TimeSlot, Contact, Email)]
        response = client_for(alice).delete("/auth/me/", {"password": "not-my-password"}, format="json")
        assert (response.status_code, response.json()) == (
            400,
            {"password": ["This is not your password; nothing was deleted."]},
        )
        assert [model.objects.count() for model in (User, Calendar, Invitation, TimeSlot, Contact, Email)] == counts

    def test_the_password_is_required(self):
        response = client_for(UserFactory(username="zoe")).delete("/auth/me/", {}, format="json")
        assert (response.status_code, response.json()) == (400, {"password": ["This field is required."]})

    def test_needs_a_login(self):
        response = APIClient().delete("/auth/me/", {"password": PASSWORD}, format="json")
        assert response.status_code == 401

    def test_everything_goes_and_participants_are_told(self):
        alice, bob, _, dave, club, dinner = world()
        calendar_services.feed_token_get(user=alice)
        endpoint_for(alice)
        bobs = endpoint_for(bob)
        refresh = RefreshToken.for_user(alice)
        other_refresh = RefreshToken.for_user(alice)
        access = str(refresh.access_token)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        response = client.delete("/auth/me/", {"password": PASSWORD}, format="json")
        assert (response.status_code, response.content) == (204, b"")

        assert not User.objects.filter(username="alice").exists()
        assert not Calendar.objects.filter(pk=club.pk).exists()
        assert Calendar.objects.filter(pk=dinner.pk).exists()  # dave's stays, without alice in it
        assert not Invitation.objects.filter(invitee_id=alice.pk).exists()
        assert not TimeSlot.objects.filter(owner_id=alice.pk).exists()
        assert TimeSlot.objects.filter(day__calendar=dinner, owner=dave).exists()
        assert not Contact.objects.filter(userA_id=alice.pk).exists()
        assert not Contact.objects.filter(userB_id=alice.pk).exists()
        assert not FeedToken.objects.filter(user_id=alice.pk).exists()
        assert list(Endpoint.objects.all()) == [bobs]
        # Every refresh token is revoked; the access token answers 401 at once.
        outstanding = OutstandingToken.objects.filter(jti__in=[refresh["jti"], other_refresh["jti"]])
        assert BlacklistedToken.objects.filter(token__in=outstanding).count() == 2
        for token in (refresh, other_refresh):
            again = APIClient().post("/auth/refresh/", {"refresh": str(token)}, format="json")
            # The family's owner is gone (accounts.token_families checks the login's user first).
            assert (again.status_code, again.json()) == (
                401,
                {"detail": "No active account found for the given token."},
            )
        me = client.get("/auth/me/")
        assert (me.status_code, me.json()) == (401, {"detail": "User not found", "code": "user_not_found"})
        # bob took part in "Book club": he is told, once the worker runs; carol (only invited) is not.
        run_tasks()
        assert [(m.to, m.subject) for m in mail.outbox] == [(["bob@example.com"], "Calendar removed: Book club")]
        assert "alice deleted their OneOnOne account, and with it \u201cBook club\u201d" in mail.outbox[0].body
        assert not Delivery.objects.exists()  # nothing was fixed: no calendar.unfinalized

    def test_a_fixed_meeting_is_cancelled_with_its_ics_and_the_webhook_event(self):
        alice, bob, _, _, club, _ = world()
        calendar_services.calendar_finalize(
            calendar=club, date=datetime.date(2030, 5, 6), start_time=datetime.time(10), end_time=datetime.time(11)
        )
        run_tasks()
        mail.outbox.clear()
        bobs = endpoint_for(bob)
        response = client_for(alice).delete("/auth/me/", {"password": PASSWORD}, format="json")
        assert response.status_code == 204
        (delivery,) = Delivery.objects.filter(endpoint=bobs)
        assert delivery.event_type == "calendar.unfinalized"
        assert '"calendar_deleted":true' in delivery.payload
        DBTaskResult.objects.filter(task_path__startswith="webhooks").delete()  # nothing listens on hooks.example.com
        run_tasks()
        (notice,) = mail.outbox
        assert (
            notice.subject
            == "Meeting cancelled: Book club, Monday 6 May 2030, 10:00\u201311:00 (Europe/Berlin, UTC+02:00)"
        )
        (attachment,) = notice.attachments
        assert "METHOD:CANCEL" in attachment.get_payload(decode=True).decode()

    def test_a_fixed_number_of_queries(self, django_assert_num_queries):
        # The calendars are read with their creator under the lock; each participant told costs its email's queries.
        alice, *_ = world()
        with django_assert_num_queries(37):
            assert account_services.user_delete(user=alice, password=PASSWORD)

    def test_an_account_deleted_meanwhile_is_nothing_to_do(self):
        # A second deletion that waited for the first's row lock (TestDeleteRaces) finds the row gone.
        zoe = UserFactory(username="zoe")
        told = []

        def receiver(sender, user, **kwargs):
            told.append(user)

        user_deleting.connect(receiver, weak=False)
        try:
            User.objects.filter(pk=zoe.pk).delete()  # the first deletion, committed meanwhile
            assert account_services.user_delete(user=zoe, password=PASSWORD) is False
        finally:
            user_deleting.disconnect(receiver)
        assert told == []  # the apps above are not asked to clean up after a deletion that did not happen

    def test_the_user_row_is_locked_for_no_key_update(self, monkeypatch):
        # SQLite ignores row locks, so this asks which lock is taken; on PostgreSQL it is in the SQL too.
        # FOR NO KEY UPDATE holds off a second deletion but not the rows merely pointing at the user
        # (a FOR KEY SHARE check), such as an invitation answered meanwhile (accounts/signals.py).
        locks = []
        select_for_update = QuerySet.select_for_update

        def spy(queryset, *args, **kwargs):
            locked = select_for_update(queryset, *args, **kwargs)
            if queryset.model is User:
                locks.append((locked.query.select_for_update, locked.query.select_for_no_key_update))
            return locked

        monkeypatch.setattr(QuerySet, "select_for_update", spy)
        zoe = UserFactory(username="zoe")
        with CaptureQueriesContext(connection) as queries:
            assert account_services.user_delete(user=zoe, password=PASSWORD) is True
        assert locks == [(True, True)]
        if connection.vendor == "postgresql":
            (read,) = [q["sql"] for q in queries if "FOR " in q["sql"] and '"accounts_user"' in q["sql"]]
            assert read.endswith("FOR NO KEY UPDATE"), read
        assert not User.objects.filter(pk=zoe.pk).exists()

    def test_throttled_per_user(self, monkeypatch):
        monkeypatch.setattr(AccountDeleteThrottle, "THROTTLE_RATES", {"account_delete": "2/hour"})
        zoe = UserFactory(username="zoe")
        client = client_for(zoe)
        codes = [client.delete("/auth/me/", {"password": "guess"}, format="json").status_code for _ in range(3)]
        assert codes == [400, 400, 429]
        assert client.get("/auth/me/").status_code == 200  # reading is not throttled


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
class TestDeleteRaces:
    ROUNDS = 5

    def test_a_deletion_racing_an_answer_to_an_invitation(self):
        """alice deletes her account while bob accepts her invitation: one clean order or the other."""
        outcomes = set()
        for n in range(self.ROUNDS):
            alice, bob = UserFactory(username=f"alice{n}"), UserFactory(username=f"bob{n}")
            make_friends(alice, bob)
            calendar = CalendarFactory(creator=alice, title=f"Club {n}")
            DayFactory(calendar=calendar)
            invitation = InvitationFactory(calendar=calendar, invitee=bob)
            deleter, answerer = client_for(alice), client_for(bob)
            url = f"/calendars/{calendar.pk}/invitations/{invitation.pk}/"
            deleted, answered = run_together(
                lambda deleter=deleter: deleter.delete("/auth/me/", {"password": PASSWORD}, format="json"),
                lambda answerer=answerer, url=url: answerer.put(url, {"status": "accepted"}, format="json"),
            )
            assert deleted.status_code == 204, deleted.content
            assert answered.status_code in {204, 404}, answered.content
            outcomes.add(answered.status_code)
            assert not User.objects.filter(pk=alice.pk).exists()
            assert not Calendar.objects.filter(pk=calendar.pk).exists()
            assert not Invitation.objects.filter(pk=invitation.pk).exists()
            assert not Email.objects.filter(recipient_id=alice.pk).exists()
            # bob is told the calendar is gone exactly when his answer made him a participant first.
            told = Email.objects.filter(recipient=bob, kind="creator_gone").count()
            assert told == (1 if answered.status_code == 204 else 0)
        assert outcomes  # (which order won varies from run to run)

    def test_two_deletions_at_once(self):
        for n in range(self.ROUNDS):
            zoe = UserFactory(username=f"zoe{n}")
            CalendarFactory(creator=zoe)
            first, second = client_for(zoe), client_for(zoe)
            answers = run_together(
                lambda first=first: first.delete("/auth/me/", {"password": PASSWORD}, format="json"),
                lambda second=second: second.delete("/auth/me/", {"password": PASSWORD}, format="json"),
            )
            # The second either waited for the first and found nothing left (204), or came after it (401).
            assert sorted(a.status_code for a in answers) in ([204, 204], [204, 401])
            assert not User.objects.filter(pk=zoe.pk).exists()

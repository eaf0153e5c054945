"""`manage.py seed_demo`: the demo a newcomer sees, through the API, and running it twice."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from calendars.models import Calendar, Day, Invitation, TimeSlot
from contacts.models import Contact
from delivery.models import Email
from demo.management.commands.seed_demo import DEMO_PASSWORD
from tests.conftest import run_tasks
from tests.factories import CalendarFactory, DayFactory, UserFactory

User = get_user_model()
pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def login(api_client, username):
    response = api_client.post("/auth/login/", {"username": username, "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return api_client


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (User, Contact, Calendar, Day, Invitation, TimeSlot)}


class TestSeed:
    def test_the_demo_users_log_in_with_the_documented_password(self, api_client):
        output = seed()
        assert f"password {DEMO_PASSWORD!r}" in output
        assert sorted(User.objects.values_list("username", flat=True)) == [
            "admin",
            "alice",
            "bob",
            "carol",
            "dave",
            "erin",
        ]
        for username in ["alice", "erin"]:
            response = api_client.post("/auth/login/", {"username": username, "password": DEMO_PASSWORD}, format="json")
            assert response.status_code == 200

    def test_an_admin_logs_in_to_the_admin_site_with_the_printed_password(self, client):
        output = seed()
        match = re.search(r"Admin: /admin/ as 'admin' with password '([^']+)'", output)
        assert match is not None, output
        admin = User.objects.get(username="admin")
        assert (admin.is_staff, admin.is_superuser) == (True, True)
        assert match.group(1) != DEMO_PASSWORD
        assert client.login(username="admin", password=match.group(1))
        assert client.get("/admin/calendars/calendar/").status_code == 200
        # A new seed, a new password: the old one stops working.
        again = re.search(r"with password '([^']+)'", seed("--reset")).group(1)
        assert again != match.group(1)
        assert not client.login(username="admin", password=match.group(1))

    def test_alice_sees_her_friends_a_request_and_both_calendars(self, api_client):
        seed()
        client = login(api_client, "alice")

        friends = client.get("/contacts/friends/").json()
        assert sorted(user["username"] for user in friends["results"]) == ["bob", "carol", "dave"]
        incoming = client.get("/contacts/incoming/").json()
        assert [user["username"] for user in incoming["results"]] == ["erin"]

        calendars = client.get("/calendars/").json()
        by_title = {calendar["title"]: calendar for calendar in calendars["results"]}
        assert sorted(by_title) == ["Book club", "Quarterly planning"]
        planning = by_title["Quarterly planning"]
        assert planning["creator_username"] == "alice"
        assert [day["ranking"] for day in planning["days"]] == [1, 2, 3]
        participants = User.objects.filter(pk__in=planning["participants"]).values_list("username", flat=True)
        assert sorted(participants) == ["bob", "carol"]
        # Everyone's availability on the first day: 10:00-11:30 suits all three members.
        first_day = {
            (s["owner_username"], s["start_time"], s["end_time"], s["preference"])
            for s in planning["days"][0]["timeslots"]
        }
        assert first_day == {
            ("alice", "09:00:00", "12:00:00", "yes"),
            ("alice", "14:00:00", "17:00:00", "yes"),
            ("bob", "10:00:00", "12:30:00", "yes"),
            ("carol", "09:30:00", "11:30:00", "yes"),
            ("carol", "15:00:00", "16:00:00", "if_need_be"),  # the heat map shows both kinds
        }

    def test_invitations_in_every_state(self, api_client):
        seed()
        dave = login(api_client, "dave")
        inbox = dave.get("/invitations/").json()["results"]
        assert [(item["calendar_title"], item["status"]) for item in inbox] == [("Quarterly planning", "pending")]
        statuses = dict(
            Invitation.objects.filter(calendar__title="Book club").values_list("invitee__username", "status")
        )
        assert statuses == {"alice": "accepted", "carol": "rejected"}

    def test_book_club_is_finalized_where_everyone_is_free(self, api_client):
        output = seed()
        club = Calendar.objects.get(title="Book club")
        first_day = Day.objects.filter(calendar=club).order_by("date").first().date
        assert (
            f"Finalized: 'Book club' on {first_day.isoformat()} 19:00-21:00 (GET /calendars/{club.pk}/ics/)" in output
        )

        client = login(api_client, "alice")
        calendars = {c["title"]: c for c in client.get("/calendars/").json()["results"]}
        assert calendars["Book club"]["finalized"] == {
            "date": first_day.isoformat(),
            "start_time": "19:00:00",
            "end_time": "21:00:00",
            "starts_at": f"{first_day.isoformat()}T19:00:00+00:00",
            "ends_at": f"{first_day.isoformat()}T21:00:00+00:00",
        }
        assert calendars["Quarterly planning"]["finalized"] is None
        # The fixed time is the best two-hour window: alice (19-22) and bob (18-21) are both free.
        best = client.get(f"/calendars/{club.pk}/suggestions/?duration=120").json()["suggestions"][0]
        assert (best["date"], best["start_time"], best["end_time"]) == (first_day.isoformat(), "19:00:00", "21:00:00")
        assert (best["available"], best["missing"], best["pending"]) == (["alice", "bob"], [], [])

        ics = client.get(f"/calendars/{club.pk}/ics/")
        assert ics.status_code == 200
        assert ics["Content-Type"].startswith("text/calendar")
        lines = ics.content.decode().splitlines()
        assert f"DTSTART:{first_day:%Y%m%d}T190000Z" in lines
        assert f"DTEND:{first_day:%Y%m%d}T210000Z" in lines
        assert "ORGANIZER;CN=bob:mailto:bob@demo.oneonone.local" in lines

    def test_quarterly_planning_has_a_deadline_two_days_ahead(self):
        output = seed()
        planning = Calendar.objects.get(title="Quarterly planning")
        assert planning.respond_by is not None
        assert datetime.timedelta(days=2) - (planning.respond_by - timezone.now()) < datetime.timedelta(minutes=1)
        assert f"answers close {planning.respond_by:%Y-%m-%d %H:%M} UTC" in output
        assert Calendar.objects.get(title="Book club").respond_by is None

    def test_days_are_in_the_future(self):
        seed()
        assert not Day.objects.filter(date__lte=timezone.localdate()).exists()

    def test_its_notices_go_through_the_queue(self):
        # Answers tell the creator and the fixed meeting tells everyone: queued, sent by the worker.
        seed()
        assert mail.outbox == []
        assert Invitation.objects.exclude(status="pending").count() == 4
        assert sorted(Email.objects.values_list("kind", flat=True)) == ["answer"] * 4 + ["finalized"] * 2
        run_tasks()
        assert sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Meeting fixed")) == [
            "alice@demo.oneonone.local",
            "bob@demo.oneonone.local",
        ]


class TestRunningTwice:
    def test_refuses_and_changes_nothing(self):
        seed()
        before = counts()
        with pytest.raises(CommandError, match=r"already there \(users admin, alice, bob, carol, dave, erin\)"):
            seed()
        assert counts() == before

    def test_reset_seeds_again_and_leaves_other_users_alone(self):
        seed()
        before = counts()
        old_ids = set(User.objects.values_list("pk", flat=True))
        other = UserFactory(username="zoe")
        DayFactory(calendar=CalendarFactory(creator=other, title="Zoe's own"))

        output = seed("--reset")

        assert "Deleted the previous demo" in output
        assert counts() == {
            name: count + (1 if name in ("User", "Calendar", "Day") else 0) for name, count in before.items()
        }
        assert not old_ids & set(User.objects.exclude(username="zoe").values_list("pk", flat=True))
        assert Calendar.objects.filter(title="Zoe's own", creator=other).exists()

    def test_reset_when_nothing_was_seeded_just_seeds(self):
        seed("--reset")
        assert Calendar.objects.count() == 2

    @pytest.mark.parametrize("username", ["alice", "Carol"])
    def test_never_touches_a_real_user_with_a_demo_name(self, username):
        real = UserFactory(username=username, email="someone@example.com")
        for args in [(), ("--reset",)]:
            with pytest.raises(CommandError, match=f"{username} exist but were not made by seed_demo"):
                seed(*args)
        assert list(User.objects.all()) == [real]
        assert Calendar.objects.count() == 0

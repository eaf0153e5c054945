"""`manage.py seed_demo`: a small demo so a newcomer sees real data at once.

Five users (password DEMO_PASSWORD), friendships and a friend request, two calendars with
ranked days, invitations in every state, availability that overlaps, and a finalized meeting;
and a staff account for /admin/ (`admin`, with a fresh random password printed once).
Everything is made through the same services as the API, so the demo obeys every rule the API
does; the emails those services queue (answers to invitations, the fixed meeting) are sent by the
worker to the console (scripts/serve.sh), as the demo addresses are not real.
"""

from __future__ import annotations

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calendars.models import Calendar, Day
from calendars.services import calendar_create, calendar_finalize, timeslot_create
from contacts.services import contact_accept, contact_add
from invitations.services import invitation_answer, invitation_create

DEMO_PASSWORD = "oneonone-demo"  # noqa: S105 (documented in README.md and docs/frontend.md)
DEMO_EMAIL_DOMAIN = "demo.oneonone.local"
USERNAMES = ["alice", "bob", "carol", "dave", "erin"]
ADMIN_USERNAME = "admin"
FRIENDS = [("alice", "bob"), ("alice", "carol"), ("alice", "dave"), ("bob", "carol")]
REQUESTS = [("erin", "alice")]  # a friend request alice has not answered yet

# (creator, title, description, days: (days from today, ranking), invitations: {username: answer or None})
CALENDARS: list[tuple[str, str, str, list[tuple[int, int]], dict[str, str | None]]] = [
    (
        "alice",
        "Quarterly planning",
        "Plan the next quarter together; two hours are enough.",
        [(7, 1), (8, 2), (10, 3)],
        {"bob": "accepted", "carol": "accepted", "dave": None},
    ),
    (
        "bob",
        "Book club",
        "We read the first three chapters.",
        [(14, 1), (15, 2)],
        {"alice": "accepted", "carol": "rejected"},
    ),
]
# Answers to "Quarterly planning" close this long after the demo is seeded (dave has not answered yet).
DEADLINES = {"Quarterly planning": datetime.timedelta(days=2)}
# (calendar title, username, index of the day, start, end[, preference, "yes" when left out])
AVAILABILITY: list[tuple[str, str, int, str, str] | tuple[str, str, int, str, str, str]] = [
    ("Quarterly planning", "alice", 0, "09:00", "12:00"),
    ("Quarterly planning", "alice", 0, "14:00", "17:00"),
    ("Quarterly planning", "alice", 1, "10:00", "16:00"),
    ("Quarterly planning", "alice", 2, "09:00", "11:00"),
    ("Quarterly planning", "bob", 0, "10:00", "12:30"),
    ("Quarterly planning", "bob", 1, "13:00", "17:00", "if_need_be"),
    ("Quarterly planning", "bob", 2, "09:00", "10:00"),
    ("Quarterly planning", "carol", 0, "09:30", "11:30"),
    ("Quarterly planning", "carol", 0, "15:00", "16:00", "if_need_be"),
    ("Quarterly planning", "carol", 1, "09:00", "14:00"),
    ("Book club", "bob", 0, "18:00", "21:00"),
    ("Book club", "bob", 1, "17:00", "19:00"),
    ("Book club", "alice", 0, "19:00", "22:00"),
]
# (calendar title, index of the day, start, end): the meeting its creator fixed, where everyone is free.
FINALIZED = [("Book club", 0, "19:00", "21:00")]


def _time(value: str) -> datetime.time:
    return datetime.time.fromisoformat(value)


class Command(BaseCommand):
    help = (
        "Fill the database with a small demo: users alice, bob, carol, dave and erin "
        f"(password {DEMO_PASSWORD!r}), friends, two calendars, invitations, availability and a "
        "finalized meeting, and an `admin` staff account with a random password (printed). Refuses if the "
        "demo users exist; --reset deletes them (and everything they own) first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo users and their data, then seed again. Never touches other users.",
        )

    def handle(self, *args, reset: bool = False, **options):
        # The notices the services queue (answers, the fixed meeting) are sent by `manage.py worker`,
        # which prints them with the console backend of scripts/serve.sh.
        with transaction.atomic():
            self._reset_or_refuse(reset=reset)
            calendars = self._seed()
            admin_password = self._seed_admin()
        self._report(calendars, admin_password)

    def _reset_or_refuse(self, *, reset: bool) -> None:
        existing = self._existing_users()
        strangers = [user.username for user in existing if not self._is_demo(user)]
        if strangers:
            raise CommandError(
                f"User(s) {', '.join(strangers)} exist but were not made by seed_demo; refusing to touch them."
            )
        if existing and not reset:
            names = ", ".join(user.username for user in existing)
            raise CommandError(
                f"The demo is already there (users {names}). "
                "Run `manage.py seed_demo --reset` to delete it and seed again."
            )
        if existing:
            deleted = get_user_model().objects.filter(pk__in=[user.pk for user in existing]).delete()[0]
            self.stdout.write(f"Deleted the previous demo ({deleted} rows).")

    def _existing_users(self) -> list:
        query = Q()
        for name in [*USERNAMES, ADMIN_USERNAME]:
            query |= Q(username__iexact=name)
        return list(get_user_model().objects.filter(query).order_by("username"))

    @staticmethod
    def _is_demo(user) -> bool:
        return user.email.lower().endswith(f"@{DEMO_EMAIL_DOMAIN}")

    def _seed(self) -> dict[str, Calendar]:
        User = get_user_model()
        users = {
            # Confirmed addresses, so the demo's notices show in the worker's console.
            name: User.objects.create_user(
                username=name,
                email=f"{name}@{DEMO_EMAIL_DOMAIN}",
                verified_email=f"{name}@{DEMO_EMAIL_DOMAIN}",
                password=DEMO_PASSWORD,
            )
            for name in USERNAMES
        }
        for a, b in FRIENDS:
            contact_add(actor=users[a], other=users[b])
            contact_accept(actor=users[b], other=users[a])
        for a, b in REQUESTS:
            contact_add(actor=users[a], other=users[b])

        today = timezone.localdate()
        calendars: dict[str, Calendar] = {}
        for creator, title, description, days, invitations in CALENDARS:
            calendars[title] = calendar_create(
                creator=users[creator],
                title=title,
                description=description,
                days=[
                    {"date": today + datetime.timedelta(days=offset), "ranking": ranking} for offset, ranking in days
                ],
                respond_by=timezone.now() + DEADLINES[title] if title in DEADLINES else None,
            )
            for invitee, answer in invitations.items():
                invitation = invitation_create(calendar=calendars[title], invitee=users[invitee])
                if answer:
                    invitation_answer(invitation=invitation, status=answer)

        for title, owner, day_index, start, end, *preference in AVAILABILITY:
            day = Day.objects.filter(calendar=calendars[title]).order_by("date")[day_index]
            timeslot_create(
                day=day,
                owner=users[owner],
                start_time=_time(start),
                end_time=_time(end),
                preference=preference[0] if preference else "yes",
            )

        for title, day_index, start, end in FINALIZED:
            day = Day.objects.filter(calendar=calendars[title]).order_by("date")[day_index]
            calendars[title] = calendar_finalize(
                calendar=calendars[title], date=day.date, start_time=_time(start), end_time=_time(end)
            )
        return calendars

    def _seed_admin(self) -> str:
        # Random, not the demo password: /admin/ can change anything, and a demo may run where others reach it.
        password = secrets.token_urlsafe(12)
        get_user_model().objects.create_superuser(
            username=ADMIN_USERNAME, email=f"{ADMIN_USERNAME}@{DEMO_EMAIL_DOMAIN}", password=password
        )
        return password

    def _report(self, calendars: dict[str, Calendar], admin_password: str) -> None:
        self.stdout.write(self.style.SUCCESS("Demo seeded."))
        self.stdout.write(f"Users (password {DEMO_PASSWORD!r}): {', '.join(USERNAMES)}")
        self.stdout.write("Friends: " + ", ".join(f"{a}+{b}" for a, b in FRIENDS))
        self.stdout.write("Waiting friend requests: " + ", ".join(f"{a} -> {b}" for a, b in REQUESTS))
        for creator, title, _description, days, invitations in CALENDARS:
            answers = ", ".join(f"{name} {answer or 'pending'}" for name, answer in invitations.items())
            deadline = calendars[title].respond_by
            answer_by = f"; answers close {deadline:%Y-%m-%d %H:%M} UTC" if deadline else ""
            self.stdout.write(
                f"Calendar {calendars[title].pk} {title!r} by {creator}: {len(days)} days; invited {answers}{answer_by}"
            )
        for title, _day_index, start, end in FINALIZED:
            calendar = calendars[title]
            date, _start, _end = calendar.finalized_meeting()
            self.stdout.write(
                f"Finalized: {title!r} on {date.isoformat()} {start}-{end} (GET /calendars/{calendar.pk}/ics/)"
            )
        self.stdout.write(
            f"Admin: /admin/ as {ADMIN_USERNAME!r} with password {admin_password!r} (shown only now; "
            "`manage.py changepassword admin` sets another)."
        )
        self.stdout.write(
            f"Try: log in as alice at /api-auth/login/ and open /calendars/, or POST /auth/login/ "
            f'{{"username": "alice", "password": "{DEMO_PASSWORD}"}}.'
        )

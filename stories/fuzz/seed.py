"""Fill a fresh database so the fuzzer's ids hit real objects (used by scripts/ci/fuzz.sh).

The fuzzing user `fuzzer` gets friends, pending requests both ways, a block, calendars of
their own (with days, timeslots and invitations), and invitations to friends' calendars,
pending and accepted; a stranger owns a calendar the fuzzer must never reach. Ids 1..N of
every table therefore exist, some visible to the fuzzer and some not.
Prints the ids it made as a JSON line (for the fuzzer's dictionaries and hooks).
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneonone.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402

from calendars import services  # noqa: E402
from calendars.models import Calendar, Day, Invitation, InvitationStatus, TimeSlot  # noqa: E402
from contacts.models import Contact, ContactStatus  # noqa: E402
from webhooks.models import Endpoint, new_secret  # noqa: E402

User = get_user_model()
PASSWORD = os.environ.get("FUZZ_PASSWORD", "fuzz-c0rrect-h0rse")


def user(name: str):
    return User.objects.create_user(username=name, email=f"{name}@example.com", password=PASSWORD)


def calendar(creator, title: str, first: datetime.date, members=()) -> Calendar:
    cal = Calendar.objects.create(creator=creator, title=title, description="seeded for fuzzing")
    for index in range(3):
        day = Day.objects.create(calendar=cal, date=first + datetime.timedelta(days=index), ranking=index + 1)
        for owner in (creator, *members):
            TimeSlot.objects.create(day=day, owner=owner, start_time=datetime.time(9), end_time=datetime.time(11))
            TimeSlot.objects.create(day=day, owner=owner, start_time=datetime.time(14), end_time=datetime.time(15))
    return cal


def main() -> None:
    fuzzer = user("fuzzer")
    # Hosts invite the fuzzer and are invited by it; their names are kept out of the fuzzer's
    # dictionaries, so a generated block or unfriend rarely ends those invitations.
    hosts = [user("host1"), user("host2")]
    friends = [user(f"friend{i}") for i in range(1, 5)]
    asker, asked, blocked, stranger = user("asker"), user("asked"), user("blocked"), user("stranger")
    host_contacts = [Contact.objects.create(userA=fuzzer, userB=host, status=ContactStatus.FRIENDS) for host in hosts]
    for friend in friends:
        Contact.objects.create(userA=fuzzer, userB=friend, status=ContactStatus.FRIENDS)
    Contact.objects.create(userA=asker, userB=fuzzer, status=ContactStatus.PENDING)
    Contact.objects.create(userA=fuzzer, userB=asked, status=ContactStatus.PENDING)
    Contact.objects.create(userA=fuzzer, userB=blocked, status=ContactStatus.BLOCKED)

    start = datetime.date(2031, 3, 1)
    own = []
    for n in range(5):
        cal = calendar(fuzzer, f"Fuzzer's meeting {n}", start + datetime.timedelta(days=10 * n), members=[hosts[0]])
        Invitation.objects.create(calendar=cal, invitee=hosts[0], inviter=fuzzer, status=InvitationStatus.ACCEPTED)
        Invitation.objects.create(calendar=cal, invitee=hosts[1], inviter=fuzzer, status=InvitationStatus.PENDING)
        Invitation.objects.create(calendar=cal, invitee=friends[2], inviter=fuzzer, status=InvitationStatus.REJECTED)
        own.append(cal)
    accepted = calendar(hosts[0], "A host's meeting", start, members=[fuzzer])
    Invitation.objects.create(calendar=accepted, invitee=fuzzer, inviter=hosts[0], status=InvitationStatus.ACCEPTED)
    pending = calendar(hosts[1], "Another host's meeting", start)
    Invitation.objects.create(calendar=pending, invitee=fuzzer, inviter=hosts[1], status=InvitationStatus.PENDING)
    calendar(stranger, "A stranger's meeting", start)
    # One fixed meeting, so the iCalendar export and the feed have something to answer.
    Calendar.objects.filter(pk=own[1].pk).update(
        finalized_date=start + datetime.timedelta(days=10),
        finalized_start_time=datetime.time(9, 30),
        finalized_end_time=datetime.time(10, 30),
        finalized_at=timezone.now(),
    )
    feed_token = services.feed_token_get(user=fuzzer).token
    # Webhooks of the fuzzer's and of a stranger's (which the fuzzer must never reach). scripts/ci/fuzz.sh
    # allow-lists the host; no worker runs, so nothing is ever sent.
    for slot, owner in ((1, fuzzer), (2, fuzzer), (1, stranger)):
        endpoint = Endpoint(owner=owner, slot=slot, url="https://hooks.example.com/seeded", secret=new_secret())
        endpoint.set_events(["calendar.finalized", "invitation.created"])
        endpoint.save()
    unlisted = {fuzzer.pk, *(host.pk for host in hosts)}

    print(
        json.dumps(
            {
                "calendars": list(Calendar.objects.values_list("id", flat=True)),
                "days": list(Day.objects.values_list("id", flat=True)),
                "timeslots": list(TimeSlot.objects.values_list("id", flat=True)),
                "invitations": list(Invitation.objects.values_list("id", flat=True)),
                "contacts": list(Contact.objects.values_list("id", flat=True)),
                "webhooks": list(Endpoint.objects.values_list("id", flat=True)),
                "feed_tokens": [feed_token],
                "usernames": list(User.objects.exclude(pk__in=unlisted).values_list("username", flat=True)),
                # The hooks keep deletes and status changes off these (the rest are fair game).
                "protected_calendars": [cal.pk for cal in own[:3]],
                "protected_contacts": [contact.pk for contact in host_contacts],
                # Consistent path ids for the nested routes (calendar, day, slot; calendar, invitation).
                "day_paths": list(Day.objects.values_list("calendar_id", "id")),
                "slot_paths": list(TimeSlot.objects.values_list("day__calendar_id", "day_id", "id")),
                "invitation_paths": list(Invitation.objects.values_list("calendar_id", "id")),
            }
        )
    )


if __name__ == "__main__":
    main()

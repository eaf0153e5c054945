"""Load the benchmark's data set through the project's models (bulk_create), scaled by BENCH_SCALE.

At scale 1: 10,000 users, 50,000 contact relations, 5,000 calendars of 7 days, each with its
creator and 4 participants (accepted invitations) holding 5 slots a day, plus one pending
invitation. On top, whatever the scale: the bench user's own world (friends, requests, 20
calendars of the same shape in several time zones, a third of them finalized, one calendar
with many participants) and 30 calendars of 10 members with empty days that the
timeslot-creation load writes into.
"""

from __future__ import annotations

import datetime
import itertools
import random
import time as clock
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from calendars.models import Calendar, Day, Invitation, InvitationStatus, TimeSlot
from contacts.models import Contact, ContactStatus

BENCH_USERNAME = "bench"
BENCH_PASSWORD = "bench-c0rrect-h0rse"  # noqa: S105 (a throwaway database's benchmark user)
FIRST_DATE = datetime.date(2030, 1, 7)
QUARTERS = range(7 * 4, 22 * 4 + 1)  # slot boundaries on the quarter hour, 07:00 to 22:00
BATCH = 5_000

# The bench user's own contacts, by index among the other users (1-based; 0 is the bench user).
BENCH_FRIENDS = range(1, 101)
BENCH_INCOMING = range(101, 116)
BENCH_OUTGOING = range(116, 131)
BENCH_BLOCKED = range(131, 136)
BENCH_CREATED, BENCH_JOINED = 10, 10
WRITE_CALENDARS, WRITE_MEMBERS = 30, 10
WRITE_FIRST_USER = 200  # writers are users 200..499, clear of the bench user's contacts
ZONES = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"]


@dataclass(frozen=True)
class Scale:
    users: int
    contacts: int
    calendars: int
    days: int = 7
    participants: int = 4
    slots: int = 5
    big_participants: int = 50

    @classmethod
    def from_factor(cls, factor: float, **overrides) -> Scale:
        return cls(
            users=max(600, round(10_000 * factor)),
            contacts=max(1_000, round(50_000 * factor)),
            calendars=max(50, round(5_000 * factor)),
            **overrides,
        )


@dataclass
class Loaded:
    """Ids the benchmark drives; written to its targets file."""

    bench_user_id: int = 0
    detail_calendar_id: int = 0
    detail_day_id: int = 0
    big_calendar_id: int = 0
    write_targets: list[tuple[int, int, int]] = field(default_factory=list)  # (owner id, calendar id, day id)
    counts: dict[str, int] = field(default_factory=dict)


class Loader:
    def __init__(self, scale: Scale, seed: int = 8) -> None:
        self.scale = scale
        self.rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
        self.times = [datetime.time(*divmod(q * 15, 60)) for q in QUARTERS]
        self.user_ids: list[int] = []
        self.usernames: dict[int, str] = {}
        self.friends: dict[int, list[int]] = {}
        self.loaded = Loaded()

    def run(self) -> Loaded:
        started = clock.perf_counter()
        self.users()
        self.contacts()
        self.random_calendars()
        self.bench_calendars()
        self.write_calendars()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self.loaded.counts = {
            "users": len(self.user_ids),
            "contacts": Contact.objects.count(),
            "calendars": Calendar.objects.count(),
            "days": Day.objects.count(),
            "timeslots": TimeSlot.objects.count(),
            "invitations": Invitation.objects.count(),
            "seconds": round(clock.perf_counter() - started),
        }
        return self.loaded

    def users(self) -> None:
        # One real hash for everybody: hashing 10,000 passwords would take an hour.
        password = make_password(BENCH_PASSWORD)
        names = [BENCH_USERNAME] + [f"user{i:05d}" for i in range(1, self.scale.users)]
        users = get_user_model().objects.bulk_create(
            [get_user_model()(username=n, email=f"{n}@example.com", password=password) for n in names],
            batch_size=BATCH,
        )
        self.user_ids = [u.pk for u in users]
        self.usernames = {u.pk: u.username for u in users}
        self.loaded.bench_user_id = self.user_ids[0]

    def contacts(self) -> None:
        ids, bench = self.user_ids, self.user_ids[0]
        rows: list[Contact] = []
        pairs: set[tuple[int, int]] = set()

        def add(a: int, b: int, status: int) -> None:
            pairs.add((min(a, b), max(a, b)))
            rows.append(Contact(userA_id=a, userB_id=b, status=status))
            if status == ContactStatus.FRIENDS:
                self.friends.setdefault(a, []).append(b)
                self.friends.setdefault(b, []).append(a)

        for i in BENCH_FRIENDS:
            add(ids[i], bench, ContactStatus.FRIENDS)
        for i in BENCH_INCOMING:
            add(ids[i], bench, ContactStatus.PENDING)
        for i in BENCH_OUTGOING:
            add(bench, ids[i], ContactStatus.PENDING)
        for i in BENCH_BLOCKED:
            add(bench, ids[i], ContactStatus.BLOCKED)
        others = ids[1:]
        statuses = [ContactStatus.FRIENDS] * 80 + [ContactStatus.PENDING] * 12 + [ContactStatus.REJECTED] * 4
        statuses += [ContactStatus.BLOCKED] * 4
        for _ in range(self.scale.contacts * 20):  # bounded: duplicates are redrawn, never forever
            if len(rows) >= self.scale.contacts:
                break
            a, b = self.rng.sample(others, 2)
            if (min(a, b), max(a, b)) not in pairs:
                add(a, b, self.rng.choice(statuses))
        Contact.objects.bulk_create(rows, batch_size=BATCH)

    def members_for(self, creator: int, count: int, pool: list[int] | None = None) -> list[int]:
        """`count` participants: the creator's friends first, then anybody else."""
        bench = self.user_ids[0]
        friends = pool if pool is not None else [f for f in self.friends.get(creator, []) if f != bench]
        chosen = self.rng.sample(friends, min(count, len(friends)))
        for _ in range(count * 50):
            if len(chosen) >= count:
                break
            other = self.rng.choice(self.user_ids[1:])
            if other not in (creator, bench) and other not in chosen:
                chosen.append(other)
        return chosen

    def create_calendars(self, specs: list[tuple[int, list[int], int]], *, slots: bool = True) -> list[Calendar]:
        """Calendars of `(creator, participants, pending invitee or 0)` with their days, invitations and slots."""
        created: list[Calendar] = []
        for start in range(0, len(specs), 500):  # chunks keep memory flat at full scale
            chunk = specs[start : start + 500]
            calendars = Calendar.objects.bulk_create(
                [
                    Calendar(
                        creator_id=creator,
                        title=f"Planning meeting {start + n}",
                        description="Quarterly planning with the team; an hour somewhere this week.",
                    )
                    for n, (creator, _, _) in enumerate(chunk)
                ]
            )
            days: list[Day] = []
            invitations: list[Invitation] = []
            for calendar, (creator, participants, pending) in zip(calendars, chunk, strict=True):
                first = FIRST_DATE + datetime.timedelta(days=self.rng.randrange(300))
                rankings = self.rng.sample(range(1, self.scale.days + 1), self.scale.days)
                days += [
                    Day(calendar=calendar, date=first + datetime.timedelta(days=d), ranking=rankings[d])
                    for d in range(self.scale.days)
                ]
                invitations += [
                    Invitation(calendar=calendar, invitee_id=p, inviter_id=creator, status=InvitationStatus.ACCEPTED)
                    for p in participants
                ]
                if pending:
                    invitations.append(
                        Invitation(calendar=calendar, invitee_id=pending, inviter_id=creator, status="pending")
                    )
            Day.objects.bulk_create(days, batch_size=BATCH)
            Invitation.objects.bulk_create(invitations, batch_size=BATCH)
            if slots:
                members = {
                    c.pk: [creator, *participants]
                    for c, (creator, participants, _) in zip(calendars, chunk, strict=True)
                }
                TimeSlot.objects.bulk_create(self.slots_for(days, members), batch_size=BATCH)
            created += calendars
        return created

    def slots_for(self, days: list[Day], members: dict[int, list[int]]) -> list[TimeSlot]:
        rows = []
        for day in days:
            for owner in members[day.calendar_id]:
                bounds = sorted(self.rng.sample(range(len(self.times)), 2 * self.scale.slots))
                rows += [
                    TimeSlot(day=day, owner_id=owner, start_time=self.times[s], end_time=self.times[e])
                    for s, e in zip(bounds[::2], bounds[1::2], strict=True)
                ]
        return rows

    def pending_for(self, creator: int, participants: list[int]) -> int:
        other = self.rng.choice(self.user_ids[1:])
        return 0 if other == creator or other in participants else other  # 0: no pending invitation

    def random_calendars(self) -> None:
        specs = []
        for _ in range(self.scale.calendars):
            creator = self.rng.choice(self.user_ids[1:])
            participants = self.members_for(creator, self.scale.participants)
            specs.append((creator, participants, self.pending_for(creator, participants)))
        self.create_calendars(specs)

    def bench_calendars(self) -> None:
        """The bench user's calendars: the big one first (older), then 20 of the usual shape (newest, page 1)."""
        bench = self.user_ids[0]
        friends = [self.user_ids[i] for i in BENCH_FRIENDS]
        big_members = friends[: self.scale.big_participants]
        (big,) = self.create_calendars([(bench, big_members, 0)])
        self.loaded.big_calendar_id = big.pk
        specs = []
        for n in range(BENCH_CREATED + BENCH_JOINED):
            if n % 2 == 0:  # alternate created and joined, so page 1 holds both
                creator = bench
                participants = self.members_for(bench, self.scale.participants, pool=friends)
            else:
                creator = self.rng.choice(friends)
                others = self.members_for(creator, self.scale.participants - 1)
                participants = [bench, *[p for p in others if p != bench]][: self.scale.participants]
            specs.append((creator, participants, self.pending_for(creator, participants)))
        calendars = self.create_calendars(specs)
        # Zones east and west of UTC, and every third meeting already fixed (the list renders both).
        first_dates = dict(Day.objects.filter(calendar__in=calendars, ranking=1).values_list("calendar_id", "date"))
        for n, calendar in enumerate(calendars):
            calendar.timezone = ZONES[n % len(ZONES)]
            if n % 3 == 0:
                calendar.finalized_date = first_dates[calendar.pk]
                calendar.finalized_start_time, calendar.finalized_end_time = datetime.time(10), datetime.time(11)
                calendar.finalized_at, calendar.schedule_revision = timezone.now(), 1
        fields = ["timezone", "finalized_date", "finalized_start_time", "finalized_end_time", "finalized_at"]
        Calendar.objects.bulk_update(calendars, [*fields, "schedule_revision"])
        # The newest calendar is the detail endpoint's; its first day is the timeslot list's.
        detail = calendars[-1]
        self.loaded.detail_calendar_id = detail.pk
        self.loaded.detail_day_id = Day.objects.filter(calendar=detail).order_by("date").values_list("pk", flat=True)[0]

    def write_calendars(self) -> None:
        """Calendars without slots, for the timeslot-creation load; every (member, day) takes 48 slots."""
        writers = self.user_ids[WRITE_FIRST_USER : WRITE_FIRST_USER + WRITE_CALENDARS * WRITE_MEMBERS]
        specs = []
        for n in range(WRITE_CALENDARS):
            group = writers[n * WRITE_MEMBERS : (n + 1) * WRITE_MEMBERS]
            specs.append((group[0], group[1:], 0))
        calendars = self.create_calendars(specs, slots=False)
        members = {
            c.pk: [creator, *participants] for c, (creator, participants, _) in zip(calendars, specs, strict=True)
        }
        days = {
            c.pk: list(Day.objects.filter(calendar=c).order_by("date").values_list("pk", flat=True)) for c in calendars
        }
        # Interleaved so that consecutive requests lock different days and belong to different owners.
        self.loaded.write_targets = [
            (members[c.pk][m], c.pk, days[c.pk][d])
            for d, m, c in itertools.product(range(self.scale.days), range(WRITE_MEMBERS), calendars)
        ]

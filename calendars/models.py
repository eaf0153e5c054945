"""A calendar (the meeting being planned), its candidate days and everyone's timeslots."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone as django_timezone

from calendars.scheduling import Preference as SchedulingPreference
from calendars.scheduling import place_meeting

if TYPE_CHECKING:
    from accounts.models import User

# Bounds a client hits as a clear 400 (see docs/calendars.md).
MAX_DAYS_PER_CALENDAR = 60
MAX_TIMESLOTS_PER_OWNER_PER_DAY = 48
# Caps on what one user can grow (OWASP API4), each a 400 at the cap. Counts, so no CHECK constraint can
# hold them: each is counted under the row lock that every write adding to it takes (calendars.services,
# invitations.services), so concurrent requests cannot pass it together. See docs/security.md, "Limits".
MAX_CALENDARS_PER_USER = 500  # calendars one user created
MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR = 500  # one person's slots on one calendar, every day together
MAX_INVITATIONS_PER_CALENDAR = 100  # invitations of one calendar, whatever their state
# What one iCalendar feed holds: the upcoming meetings, soonest first, then the most recent past ones, at most
# this many in all (a user may take part in any number of calendars). See docs/scheduling.md.
FEED_MAX_MEETINGS = 100
MAX_RANKING = 2_147_483_647  # the PostgreSQL integer column's upper end
DEFAULT_TIME_ZONE = "UTC"
END_AFTER_START = "End time must be after start time."
# The dates a calendar may hold: from a year before today to ten years after (today in UTC). A date outside
# is a 400 wherever one enters (the days of a create or edit, finalize; `respond_by` ends within it too).
# It moves with today, which no CHECK constraint can follow: rows stored before it may hold any date, and
# the code reading them copes (calendars.scheduling, calendars.ics). See docs/calendars.md.
DATES_YEARS_BACK = 1
DATES_YEARS_AHEAD = 10


def dates_today() -> datetime.date:
    """Today in UTC, the day the window of dates is counted from (the test suite pins it)."""
    return django_timezone.now().astimezone(datetime.UTC).date()


def _years_from(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def date_window() -> tuple[datetime.date, datetime.date]:
    """The first and last date a calendar may hold today (both included)."""
    today = dates_today()
    return _years_from(today, -DATES_YEARS_BACK), _years_from(today, DATES_YEARS_AHEAD)


def upcoming_from() -> datetime.date:
    """The first date whose meetings count as upcoming: yesterday in UTC, so that today's in any zone do."""
    return dates_today() - datetime.timedelta(days=1)


def outside_date_window(day: datetime.date) -> str | None:
    """Why `day` cannot be a calendar's date (a 400 message), or None when it can."""
    first, last = date_window()
    if first <= day <= last:
        return None
    return (
        f"{day.isoformat()} is outside the dates a calendar may hold: from {first.isoformat()} to "
        f"{last.isoformat()} (a year back, ten years ahead)."
    )


class CalendarQuerySet(models.QuerySet["Calendar"]):
    """Calendars scoped to a user: who may see them, who takes part, who created them (calendars.access)."""

    def visible_to(self, user: User) -> CalendarQuerySet:
        """Calendars the user created, takes part in, or has a pending invitation to."""
        return self.filter(Q(creator=user) | Exists(_invitations_of(user, OuterRef("pk"), VISIBLE_STATUSES)))

    def member_of(self, user: User) -> CalendarQuerySet:
        """Calendars the user created or takes part in (accepted an invitation to).

        One `pk IN` of a UNION ALL of the two, each an index look-up, as the list's SQL has it
        (calendars.read_models `_MEMBER`): an OR of the two made PostgreSQL read every calendar (docs/performance.md).
        """
        created = self.model._default_manager.filter(creator=user).order_by().values("pk")
        joined = Invitation.objects.filter(invitee=user, status=InvitationStatus.ACCEPTED).order_by()
        return self.filter(pk__in=created.union(joined.values("calendar_id"), all=True))

    def created_by(self, user: User) -> CalendarQuerySet:
        """Calendars the user created."""
        return self.filter(creator=user)


class Calendar(models.Model):
    """Participants are the invitees whose invitation is accepted (see `Invitation` below)."""

    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="created_calendars")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", max_length=5000)
    # IANA name; the days' dates and every timeslot are wall-clock times in this zone.
    timezone = models.CharField(max_length=64, default=DEFAULT_TIME_ZONE)
    # The meeting the creator fixed: all four set, or none (see docs/scheduling.md).
    finalized_date = models.DateField(null=True, blank=True)
    finalized_start_time = models.TimeField(null=True, blank=True)
    finalized_end_time = models.TimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    # Finalize and undo each add one; the iCalendar SEQUENCE is this minus one, so it never goes back.
    schedule_revision = models.PositiveIntegerField(default=0)
    # After it, only the creator changes anything (invitees cannot answer, participants cannot touch slots).
    respond_by = models.DateTimeField(null=True, blank=True)
    # The deadline the "deadline passed" notice went out for (a moved deadline notifies again when it passes).
    deadline_notice_for = models.DateTimeField(null=True, blank=True)
    # One more each time someone new is invited; the "everyone has answered" notice goes once per round.
    invitation_round = models.PositiveIntegerField(default=0)
    answered_notice_round = models.PositiveIntegerField(null=True, blank=True)
    # One more with every change of anything the calendar's answers show (its days and slots, who takes part,
    # the answers, names), counted in the transaction of the change (calendars.versions). The ETags of the
    # calendar's reads are made from it, so a poll that changed nothing is a 304 from one small query.
    version = models.PositiveBigIntegerField(default=1, db_default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CalendarQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["creator", "-created_at"], name="calendar_creator_created"),
            models.Index(fields=["respond_by"], name="calendar_respond_by"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(timezone=""), name="calendar_timezone_set"),
            models.CheckConstraint(
                condition=Q(
                    finalized_date__isnull=True,
                    finalized_start_time__isnull=True,
                    finalized_end_time__isnull=True,
                    finalized_at__isnull=True,
                )
                | Q(
                    finalized_date__isnull=False,
                    finalized_start_time__isnull=False,
                    finalized_end_time__isnull=False,
                    finalized_at__isnull=False,
                    finalized_start_time__lt=F("finalized_end_time"),
                ),
                name="calendar_finalized_whole",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_finalized(self) -> bool:
        return self.finalized_date is not None

    def deadline_passed(self, now: datetime.datetime) -> bool:
        return self.respond_by is not None and self.respond_by <= now

    @property
    def ics_sequence(self) -> int:
        return max(self.schedule_revision - 1, 0)

    def finalized_meeting(self) -> tuple[datetime.date, datetime.time, datetime.time]:
        """The fixed meeting's date, start and end; ValueError when none is fixed (the four fields go together)."""
        if self.finalized_date is None or self.finalized_start_time is None or self.finalized_end_time is None:
            raise ValueError(f"calendar {self.pk} has no finalized meeting")
        return self.finalized_date, self.finalized_start_time, self.finalized_end_time

    def meeting_window(self) -> tuple[datetime.datetime, datetime.datetime]:
        """Absolute start and end of the finalized meeting in the calendar's zone; ValueError when none is fixed."""
        day, start, end = self.finalized_meeting()
        return place_meeting(time_zone=self.timezone, day=day, start=start, end=end)

    def finalized_window(self) -> tuple[datetime.datetime, datetime.datetime] | None:
        """Absolute start and end of the finalized meeting in the calendar's zone, or None."""
        if not self.is_finalized:
            return None
        return self.meeting_window()


class Day(models.Model):
    """A candidate day; ranking 1 is the most preferred."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()
    ranking = models.PositiveIntegerField()

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="day_unique_date"),
            models.UniqueConstraint(fields=["calendar", "ranking"], name="day_unique_ranking"),
            models.CheckConstraint(condition=Q(ranking__gte=1), name="day_ranking_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.date} (#{self.ranking})"


def check_time_order(start: datetime.time, end: datetime.time) -> None:
    """400 on `end_time` unless `start` is before `end` (slots and meetings stay within one day)."""
    if start >= end:
        raise ValidationError({"end_time": [END_AFTER_START]})


def format_slot(start: datetime.time, end: datetime.time) -> str:
    """`09:00:00-10:30:00`, as messages name a slot or a meeting."""
    return f"{start:%H:%M:%S}-{end:%H:%M:%S}"


class Preference(models.TextChoices):
    """`PreferenceEnum`: how a person gives a timeslot (the values of calendars.scheduling.Preference)."""

    YES = SchedulingPreference.YES.value, "available"
    IF_NEED_BE = SchedulingPreference.IF_NEED_BE.value, "available if need be (would rather not)"


class TimeSlot(models.Model):
    """One owner's availability on a day, as wall-clock times in the calendar's zone."""

    day = models.ForeignKey(Day, on_delete=models.CASCADE, related_name="timeslots")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="timeslots")
    start_time = models.TimeField()
    end_time = models.TimeField()
    # The database default too, so rows written by code that predates the column (a rolling deploy) are "yes".
    preference = models.CharField(
        max_length=10, choices=Preference.choices, default=Preference.YES, db_default=Preference.YES
    )

    class Meta:
        ordering = ["start_time", "end_time", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start_time__lt=F("end_time")), name="timeslot_start_before_end"),
            models.CheckConstraint(condition=Q(preference__in=Preference.values), name="timeslot_preference_valid"),
        ]
        indexes = [models.Index(fields=["day", "owner", "start_time"], name="timeslot_day_owner_start")]

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.start_time}-{self.end_time}"


class InvitationStatus(models.TextChoices):
    """`InvitationStatusEnum`: where an invitation stands."""

    PENDING = "pending", "waiting for the invitee's answer"
    ACCEPTED = "accepted", "the invitee is a participant"
    REJECTED = "rejected", "the invitee declined"


# A pending invitee is emailed at most one reminder per invitation in this time.
REMIND_INTERVAL = datetime.timedelta(hours=1)
# Who sees a calendar besides its creator: its participants and its pending invitees.
VISIBLE_STATUSES = [InvitationStatus.PENDING, InvitationStatus.ACCEPTED]


class Invitation(models.Model):
    """A user's membership of a calendar: invited (pending), taking part (accepted) or declined (rejected).

    It lives with the calendars because it says who may see and change a calendar (calendars.access);
    the invitations app holds what people do with it (invite, answer, revoke, remind, the inbox). The
    table keeps the name it was created with in the invitations app. One per calendar and invitee;
    `inviter` is the calendar's creator.
    """

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="invitations")
    invitee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    inviter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_invitations")
    status = models.CharField(max_length=8, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    # Reset when a rejected invitee is invited again (same row), so the inbox sorts by the latest invite.
    invited_at = models.DateTimeField(default=django_timezone.now)
    # Last reminder email; at most one an hour (set by an atomic conditional UPDATE).
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "invitations_invitation"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "invitee"], name="invitation_unique_invitee"),
            models.CheckConstraint(condition=~Q(invitee=F("inviter")), name="invitation_not_self"),
            models.CheckConstraint(condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"),
        ]
        indexes = [
            models.Index(fields=["invitee", "status"], name="invitation_invitee_status"),
            models.Index(fields=["invitee", "-invited_at"], name="invitation_invitee_invited"),
        ]

    def __str__(self) -> str:
        return f"{self.invitee_id} to {self.calendar_id}: {self.status}"


def _invitations_of(user: User, calendar: OuterRef, statuses: Sequence[str]) -> models.QuerySet[Invitation]:
    return Invitation.objects.filter(calendar=calendar, invitee=user, status__in=statuses)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class FeedTokenQuerySet(models.QuerySet["FeedToken"]):
    def matching(self, token: str) -> FeedTokenQuerySet:
        """The token row for a secret from a feed URL (looked up by digest, see FeedToken)."""
        return self.filter(digest=_digest(token))


class FeedToken(models.Model):
    """A user's secret for their iCalendar feed URL; rotating replaces it, so old URLs stop working.

    The URL is looked up by the SHA-256 digest of the secret, so lookup timing says nothing
    about how close a guess came; the secret itself is kept so the owner can read their URL again.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_token")
    token = models.CharField(max_length=64, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    objects = FeedTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"feed token of {self.user_id}"

    @staticmethod
    def new_secret() -> tuple[str, str]:
        """A fresh secret (256 random bits, URL-safe) and its digest."""
        token = secrets.token_urlsafe(32)
        return token, _digest(token)

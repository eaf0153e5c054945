"""A calendar (the meeting being planned), its candidate days and everyone's timeslots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q

# Bounds a client hits as a clear 400 (see docs/calendars.md).
MAX_DAYS_PER_CALENDAR = 60
MAX_TIMESLOTS_PER_OWNER_PER_DAY = 48
MAX_RANKING = 2_147_483_647  # the PostgreSQL integer column's upper end


class CalendarQuerySet(models.QuerySet):
    def visible_to(self, user) -> CalendarQuerySet:
        """Calendars the user created, takes part in, or has a pending invitation to."""
        from invitations.models import Invitation, InvitationStatus

        invited = Invitation.objects.filter(
            calendar=OuterRef("pk"),
            invitee=user,
            status__in=[InvitationStatus.PENDING, InvitationStatus.ACCEPTED],
        )
        return self.filter(Q(creator=user) | Exists(invited))

    def member_of(self, user) -> CalendarQuerySet:
        """Calendars the user created or takes part in (accepted an invitation to)."""
        from invitations.models import Invitation, InvitationStatus

        accepted = Invitation.objects.filter(calendar=OuterRef("pk"), invitee=user, status=InvitationStatus.ACCEPTED)
        return self.filter(Q(creator=user) | Exists(accepted))


class Calendar(models.Model):
    """Participants are the invitees whose invitation is accepted (see invitations.Invitation)."""

    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="created_calendars")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CalendarQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["creator", "-created_at"], name="calendar_creator_created")]

    def __str__(self) -> str:
        return self.title


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


class TimeSlot(models.Model):
    """One owner's availability on a day, as wall-clock times in the calendar's zone."""

    day = models.ForeignKey(Day, on_delete=models.CASCADE, related_name="timeslots")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="timeslots")
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["start_time", "end_time", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start_time__lt=F("end_time")), name="timeslot_start_before_end"),
        ]
        indexes = [models.Index(fields=["day", "owner", "start_time"], name="timeslot_day_owner_start")]

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.start_time}-{self.end_time}"

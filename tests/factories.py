"""factory_boy factories for every model; one module so each test file can build any object."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

PASSWORD = "c0rrect-h0rse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    # An established user has confirmed their address (delivery mails only confirmed ones).
    verified_email = factory.SelfAttribute("email")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results:
            instance.save(update_fields=["password"])


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.Contact"

    userA = factory.SubFactory(UserFactory)
    userB = factory.SubFactory(UserFactory)
    status = 2


def make_friends(a, b):
    """A friendship between `a` and `b` (a asked, b accepted)."""
    return ContactFactory(userA=a, userB=b, status=1)


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "calendars.Calendar"

    creator = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Meeting {n}")
    description = "Planning session"


class DayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "calendars.Day"

    calendar = factory.SubFactory(CalendarFactory)
    date = factory.Sequence(lambda n: datetime.date(2030, 1, 1) + datetime.timedelta(days=n))
    ranking = factory.Sequence(lambda n: n + 1)


class TimeSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "calendars.TimeSlot"

    day = factory.SubFactory(DayFactory)
    owner = factory.LazyAttribute(lambda o: o.day.calendar.creator)
    start_time = datetime.time(9, 0)
    end_time = datetime.time(10, 0)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "calendars.Invitation"

    calendar = factory.SubFactory(CalendarFactory)
    invitee = factory.SubFactory(UserFactory)
    inviter = factory.LazyAttribute(lambda o: o.calendar.creator)
    status = "pending"

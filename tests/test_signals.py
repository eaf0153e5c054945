"""The signals each app sends to the apps above it (contacts, calendars, invitations, accounts .signals; the
webhooks and the invitations apps listen): the sender, every argument, and only when the change happens.

A receiver connected with `sender=` sees only what is sent by that sender, so the sender is part of the
contract too.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model

from accounts import services as account_services
from accounts.signals import user_deleting
from calendars import services as calendar_services
from calendars.models import Calendar, Invitation
from calendars.signals import calendar_finalized, calendar_unfinalized
from contacts import services as contact_services
from contacts.models import Contact, ContactStatus
from contacts.signals import contact_accepted, contact_requested
from invitations import services as invitation_services
from invitations.signals import invitation_answered, invitation_created
from tests.factories import PASSWORD, CalendarFactory, DayFactory, InvitationFactory, UserFactory, make_friends

pytestmark = pytest.mark.django_db

MAY_6 = datetime.date(2030, 5, 6)


@contextmanager
def received(signal, sender):
    """What receivers connected for `sender` are sent inside the block, each call as a dict of its arguments."""
    calls = []

    def receiver(sender, signal, **kwargs):
        calls.append({"sender": sender, **kwargs})

    signal.connect(receiver, sender=sender, dispatch_uid="test_signals")
    try:
        yield calls
    finally:
        signal.disconnect(sender=sender, dispatch_uid="test_signals")


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def meeting(alice, bob):
    """alice's calendar with bob accepted and carol pending."""
    make_friends(alice, bob)
    calendar = CalendarFactory(creator=alice, title="Kickoff", timezone="UTC")
    DayFactory(calendar=calendar, date=MAY_6, ranking=1)
    InvitationFactory(calendar=calendar, invitee=bob, status="accepted")
    InvitationFactory(calendar=calendar, invitee=UserFactory(username="carol"), status="pending")
    return calendar


def finalize(calendar) -> Calendar:
    return calendar_services.calendar_finalize(
        calendar=calendar, date=MAY_6, start_time=datetime.time(10), end_time=datetime.time(11)
    )


class TestContacts:
    def test_a_request_and_its_acceptance(self, alice, bob):
        with received(contact_requested, Contact) as requested:
            relation = contact_services.contact_add(actor=alice, other=bob)
        assert requested == [{"sender": Contact, "contact": relation, "requester": alice, "recipient": bob}]
        with received(contact_accepted, Contact) as accepted, received(contact_requested, Contact) as again:
            contact_services.contact_accept(actor=bob, other=alice)
        assert accepted == [{"sender": Contact, "contact": relation, "requester": alice, "accepter": bob}]
        assert again == []
        assert Contact.objects.get(pk=relation.pk).status == ContactStatus.FRIENDS

    def test_a_request_sent_back_after_a_rejection(self, alice, bob):
        contact_services.contact_add(actor=bob, other=alice)
        contact_services.contact_reject(actor=alice, other=bob)
        with received(contact_requested, Contact) as requested:
            relation = contact_services.contact_add(actor=alice, other=bob)
        assert requested == [{"sender": Contact, "contact": relation, "requester": alice, "recipient": bob}]


class TestCalendars:
    def test_finalize_and_undo(self, meeting, bob):
        with received(calendar_finalized, Calendar) as finalized:
            calendar = finalize(meeting)
        assert finalized == [{"sender": Calendar, "calendar": calendar, "participants": [bob]}]
        with received(calendar_finalized, Calendar) as again:
            finalize(meeting)  # the same time again: nothing new
        assert again == []
        with received(calendar_unfinalized, Calendar) as unfinalized:
            undone = calendar_services.calendar_unfinalize(calendar=meeting)
        assert unfinalized == [{"sender": Calendar, "calendar": undone, "participants": [bob], "deleted": False}]
        # The calendar it was sent with still held the time being cancelled; the row no longer does.
        assert Calendar.objects.get(pk=meeting.pk).finalized_date is None

    def test_deleting_a_fixed_meeting(self, meeting, bob):
        finalize(meeting)
        with received(calendar_unfinalized, Calendar) as unfinalized:
            calendar_services.calendar_delete(calendar=meeting)
        ((call,),) = [unfinalized]
        # (The row is deleted after the signal, so the calendar sent has no pk any more; it is "Kickoff".)
        assert (call["sender"], call["calendar"].title, call["participants"], call["deleted"]) == (
            Calendar,
            "Kickoff",
            [bob],
            True,
        )
        assert call["calendar"].finalized_date == MAY_6
        assert call["calendar"].schedule_revision == 2  # fixed once (1), cancelled (2): the cancellation outranks
        assert not Calendar.objects.filter(pk=meeting.pk).exists()

    def test_deleting_an_open_calendar_sends_nothing(self, meeting):
        with received(calendar_unfinalized, Calendar) as unfinalized:
            calendar_services.calendar_delete(calendar=meeting)
        assert unfinalized == []

    def test_the_creator_deleting_their_account(self, meeting, alice, bob):
        finalize(meeting)
        open_one = CalendarFactory(creator=alice, title="Open")
        with received(calendar_unfinalized, Calendar) as unfinalized, received(user_deleting, get_user_model()) as gone:
            assert account_services.user_delete(user=alice, password=PASSWORD) is True
        assert gone == [{"sender": get_user_model(), "user": alice}]
        ((call,),) = [unfinalized]  # the fixed meeting only, not the open calendar
        assert (call["sender"], call["calendar"].title, call["participants"], call["deleted"]) == (
            Calendar,
            "Kickoff",
            [bob],
            True,
        )
        assert call["calendar"].schedule_revision == 2
        assert not Calendar.objects.filter(pk__in=[meeting.pk, open_one.pk]).exists()


class TestInvitations:
    def test_an_invitation_and_an_answer(self, meeting, alice):
        dave = UserFactory(username="dave")
        make_friends(alice, dave)
        with received(invitation_created, Invitation) as created:
            invitation = invitation_services.invitation_create(calendar=meeting, invitee=dave)
        assert created == [{"sender": Invitation, "invitation": invitation}]
        with received(invitation_answered, Invitation) as answered:
            invitation_services.invitation_answer(invitation=invitation, status="accepted")
        ((call,),) = [answered]
        assert (call["sender"], call["invitation"].pk, call["invitation"].status, call["previous"]) == (
            Invitation,
            invitation.pk,
            "accepted",
            "pending",
        )
        with received(invitation_answered, Invitation) as again:
            invitation_services.invitation_answer(invitation=invitation, status="accepted")  # no change
        assert again == []

    def test_inviting_again_after_a_rejection(self, meeting, alice):
        dave = UserFactory(username="dave")
        make_friends(alice, dave)
        rejected = InvitationFactory(calendar=meeting, invitee=dave, status="rejected")
        with received(invitation_created, Invitation) as created:
            invitation = invitation_services.invitation_create(calendar=meeting, invitee=dave)
        assert invitation.pk == rejected.pk
        assert created == [{"sender": Invitation, "invitation": invitation}]
        assert Invitation.objects.get(pk=rejected.pk).status == "pending"
